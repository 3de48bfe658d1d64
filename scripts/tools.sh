#!/usr/bin/env bash
# Makes sure the command-line tools the tests and the bench drive are installed: wrk (load
# generation). Installs them from Debian's packages when missing and we are root with apt-get;
# otherwise says how to install them and fails (the bench's end-to-end test needs wrk).
set -euo pipefail

missing=()
command -v wrk >/dev/null || missing+=(wrk)
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "tools: installing ${missing[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    exit 0
fi
echo "tools: missing ${missing[*]}; install with: sudo apt-get install ${missing[*]}" >&2
exit 1
