#!/usr/bin/env bash
# Makes sure the command-line tools the tests and the bench drive are installed:
#   wrk                     load generation (the bench and its end-to-end test);
#   promtool                checks and unit-tests deploy/prometheus rules (Debian: prometheus);
#   docker compose config   validates deploy/compose.yaml; without the Compose v2 plugin, the
#                           Debian docker-compose package's `docker-compose config` (v1, offline).
# Installs what is missing from Debian's packages when we are root with apt-get; otherwise says
# how to install them and fails (tests that need them fail under CI=true rather than skip).
set -euo pipefail

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v promtool >/dev/null || missing+=(prometheus)
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null; then
    missing+=(docker-compose)
fi
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
