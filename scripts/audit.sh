#!/usr/bin/env bash
# `make audit`: known vulnerabilities (PyPI's advisories, through pip-audit) in the packages of
# requirements.lock. A vulnerability found fails, under CI=true too. A vulnerability service
# that does not answer is said loudly and does not fail: the lock is no less safe because the
# service is down, and a red build would block every change for a reason outside the project.
set -uo pipefail
cd "$(dirname "$0")/.."
report=$(mktemp)
errors=$(mktemp)
trap 'rm -f "$report" "$errors"' EXIT

.venv/bin/pip-audit -r requirements.lock --disable-pip --no-deps --progress-spinner off \
    --timeout 30 -f json -o "$report" 2>"$errors"
status=$?
if [[ $status -eq 0 ]]; then
    echo "audit: no known vulnerabilities in requirements.lock"
    exit 0
fi
# Exit 1 with a report listing vulnerabilities: found. Exit 1 without one: the service failed.
found=$(.venv/bin/python - "$report" <<'PY'
import json, sys
try:
    data = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    sys.exit(0)
for dep in data.get("dependencies", []):
    for vuln in dep.get("vulns", []):
        print(f"{dep['name']} {dep.get('version', '?')}: {vuln['id']} (fixed in {', '.join(vuln.get('fix_versions', [])) or 'no release yet'})")
PY
)
if [[ -n "$found" ]]; then
    echo "audit: known vulnerabilities in requirements.lock:" >&2
    echo "$found" >&2
    exit 1
fi
echo "audit: WARNING: the vulnerability service did not answer; requirements.lock was NOT audited:" >&2
tail -n 3 "$errors" >&2
exit 0
