#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer for a service's tests and writes their URLs to
# .services/env in the current folder (the service's checkout), which `make test` exports to
# pytest. Run it as `apiforge services [start|stop]`. In order of preference:
#   1. the servers named by APIFORGE_TEST_POSTGRES_URL / APIFORGE_TEST_REDIS_URL, when set;
#   2. the servers on the default ports (PostgreSQL 5432 as user postgres without a password,
#      Redis 6379), when they answer;
#   3. for PostgreSQL, the machine's own cluster, started (Debian's pg_ctlcluster);
#   4. throwaway servers started from the installed binaries on free ports, their data under
#      .services/ (ignored by git), reused by later runs;
#   5. as root with apt-get and no binaries: the Debian packages installed first.
# A service that cannot be had is an error, under CI=true and outside it: tests that skip their
# database prove nothing.
#
# Usage: apiforge services [start|stop]    (stop ends only the throwaway servers started here)
set -euo pipefail

STATE=.services
ENV_FILE=$STATE/env
# Overridable only so that this script's fallbacks can be exercised on a machine whose default
# servers are running.
PG_DEFAULT_URL=${SERVICES_PG_DEFAULT_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/postgres}
REDIS_DEFAULT_URL=${SERVICES_REDIS_DEFAULT_URL:-redis://127.0.0.1:6379}
WAIT_SECONDS=30

say() { printf 'services: %s\n' "$*" >&2; }

die() {
  say "$1"
  if [[ ${CI:-} == true ]]; then
    say "CI=true: a missing service fails the run (it is never skipped)."
  else
    say "To fix: install the servers (Debian: apt-get install postgresql redis-server) and run" \
      "\`apiforge services\` again, or start your own and point APIFORGE_TEST_POSTGRES_URL (an admin" \
      "URL, e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/postgres) and" \
      "APIFORGE_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379) at them."
  fi
  exit 1
}

host_port() {  # URL DEFAULT_PORT -> "host port"
  python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(p.hostname or "127.0.0.1", p.port or sys.argv[2])' "$1" "$2"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for() {  # COMMAND...: retry until it succeeds or WAIT_SECONDS pass
  local deadline=$((SECONDS + WAIT_SECONDS))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# ----------------------------------------------------------------------------- PostgreSQL

PG_BIN=""

find_pg_bin() {  # the newest installed server binaries: Debian keeps them off the PATH
  local dirs dir
  shopt -s nullglob
  dirs=(/usr/lib/postgresql/*/bin)
  shopt -u nullglob
  for dir in $(printf '%s\n' "${dirs[@]}" | sort -V -r); do
    [[ -x $dir/initdb && -x $dir/pg_ctl ]] && { PG_BIN=$dir; return 0; }
  done
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    PG_BIN=$(dirname "$(readlink -f "$(command -v initdb)")")
    return 0
  fi
  return 1
}

pg_answers() {  # URL: true when a login with this URL works (not just an open port)
  local url=${1/+asyncpg/} psql
  psql=$(command -v psql || true)
  [[ -z $psql && -n $PG_BIN && -x $PG_BIN/psql ]] && psql=$PG_BIN/psql
  if [[ -n $psql ]]; then
    PGCONNECT_TIMEOUT=3 "$psql" "$url" -w -Atqc 'SELECT 1' >/dev/null 2>&1
  else
    local host port
    read -r host port < <(host_port "$url" 5432)
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null
  fi
}

pg_run_as=()
pg_dir=$STATE/pg

pg_prepare_user() {  # initdb and postgres refuse to run as root: use the postgres account
  [[ $(id -u) == 0 ]] || return 0
  id postgres >/dev/null 2>&1 || die "PostgreSQL cannot run as root and there is no postgres user."
  pg_run_as=(runuser -u postgres --)
  if [[ -f $STATE/pg.dir ]]; then
    pg_dir=$(cat "$STATE/pg.dir")
    return 0
  fi
  mkdir -p "$pg_dir"
  chown postgres: "$pg_dir"
  if ! "${pg_run_as[@]}" test -w "$pg_dir"; then
    # The checkout is not reachable by the postgres user (e.g. under /root): use a temp dir.
    rmdir "$pg_dir"
    pg_dir=${TMPDIR:-/tmp}/apiforge-services-$(printf '%s' "$PWD" | cksum | cut -d' ' -f1)/pg
    mkdir -p "$pg_dir"
    chown postgres: "$pg_dir" "$(dirname "$pg_dir")"
  fi
  printf '%s\n' "$pg_dir" >"$STATE/pg.dir"
}

throwaway_pg_url() {
  [[ -f $STATE/pg.port ]] && echo "postgresql+asyncpg://postgres@127.0.0.1:$(cat "$STATE/pg.port")/postgres"
}

start_machine_cluster() {
  command -v pg_ctlcluster >/dev/null && [[ -d /etc/postgresql ]] || return 1
  local version
  for version in $(ls /etc/postgresql); do
    [[ -f /etc/postgresql/$version/main/postgresql.conf ]] || continue
    # Already running, yet the default URL failed: it listens elsewhere or wants a password.
    pg_ctlcluster "$version" main status >/dev/null 2>&1 && continue
    say "starting the machine's PostgreSQL $version cluster"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || continue
    if wait_for pg_answers "$PG_DEFAULT_URL"; then return 0; fi
    say "the machine's cluster does not accept postgres@127.0.0.1:5432 without a password"
  done
  return 1
}

start_throwaway_pg() {
  pg_prepare_user
  if [[ ! -s $pg_dir/PG_VERSION ]]; then
    say "creating a throwaway PostgreSQL cluster in $pg_dir"
    "${pg_run_as[@]}" "$PG_BIN/initdb" -D "$pg_dir" -U postgres --auth=trust -E UTF8 \
      --no-sync >"$STATE/pg-initdb.log" 2>&1 || die "initdb failed: see $STATE/pg-initdb.log."
    # Test data only: durability is traded for speed, and nothing listens beyond loopback.
    cat >>"$pg_dir/postgresql.conf" <<'CONF'
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF
  fi
  local port
  port=$(free_port)
  say "starting the throwaway PostgreSQL on port $port"
  "${pg_run_as[@]}" "$PG_BIN/pg_ctl" -D "$pg_dir" -l "$pg_dir/server.log" -w -t "$WAIT_SECONDS" \
    -o "-p $port" start >/dev/null || die "PostgreSQL did not start: see $pg_dir/server.log."
  printf '%s\n' "$port" >"$STATE/pg.port"
}

ensure_postgres() {
  if [[ -n ${APIFORGE_TEST_POSTGRES_URL:-} ]]; then
    pg_answers "$APIFORGE_TEST_POSTGRES_URL" ||
      die "PostgreSQL at APIFORGE_TEST_POSTGRES_URL ($APIFORGE_TEST_POSTGRES_URL) does not answer."
    PG_URL=$APIFORGE_TEST_POSTGRES_URL && say "PostgreSQL: $PG_URL (from APIFORGE_TEST_POSTGRES_URL)"
    return
  fi
  find_pg_bin || true
  local url
  if pg_answers "$PG_DEFAULT_URL"; then
    PG_URL=$PG_DEFAULT_URL && say "PostgreSQL: $PG_URL (running)" && return
  fi
  if url=$(throwaway_pg_url) && pg_answers "$url"; then
    PG_URL=$url && say "PostgreSQL: $PG_URL (throwaway, already running)" && return
  fi
  if [[ -z $PG_BIN ]] && ! command -v pg_ctlcluster >/dev/null; then
    install_packages postgresql && find_pg_bin || true
  fi
  if start_machine_cluster; then
    PG_URL=$PG_DEFAULT_URL && say "PostgreSQL: $PG_URL (machine cluster, started)" && return
  fi
  [[ -n $PG_BIN ]] || die "PostgreSQL is not running and its binaries (initdb, pg_ctl) are not installed."
  start_throwaway_pg
  PG_URL=$(throwaway_pg_url)
  wait_for pg_answers "$PG_URL" || die "the throwaway PostgreSQL does not answer: see $pg_dir/server.log."
  say "PostgreSQL: $PG_URL (throwaway, started)"
}

# ----------------------------------------------------------------------------- Redis

redis_answers() {  # URL
  if command -v redis-cli >/dev/null; then
    [[ $(timeout 3 redis-cli -u "$1" ping 2>/dev/null) == PONG ]]
  else
    local host port
    read -r host port < <(host_port "$1" 6379)
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"; printf "PING\r\n" >&3; read -r line <&3; [[ $line == +PONG* ]]' \
      "$host" "$port" 2>/dev/null
  fi
}

throwaway_redis_url() {
  [[ -f $STATE/redis.port ]] && echo "redis://127.0.0.1:$(cat "$STATE/redis.port")"
}

ensure_redis() {
  if [[ -n ${APIFORGE_TEST_REDIS_URL:-} ]]; then
    redis_answers "$APIFORGE_TEST_REDIS_URL" ||
      die "Redis at APIFORGE_TEST_REDIS_URL ($APIFORGE_TEST_REDIS_URL) does not answer."
    REDIS_URL=$APIFORGE_TEST_REDIS_URL && say "Redis: $REDIS_URL (from APIFORGE_TEST_REDIS_URL)"
    return
  fi
  local url port
  if redis_answers "$REDIS_DEFAULT_URL"; then
    REDIS_URL=$REDIS_DEFAULT_URL && say "Redis: $REDIS_URL (running)" && return
  fi
  if url=$(throwaway_redis_url) && redis_answers "$url"; then
    REDIS_URL=$url && say "Redis: $REDIS_URL (throwaway, already running)" && return
  fi
  if ! command -v redis-server >/dev/null; then
    install_packages redis-server || true
    command -v redis-server >/dev/null || die "Redis is not running and redis-server is not installed."
    # The package may have started the machine's own server.
    if wait_for redis_answers "$REDIS_DEFAULT_URL"; then
      REDIS_URL=$REDIS_DEFAULT_URL && say "Redis: $REDIS_URL (installed)" && return
    fi
  fi
  port=$(free_port)
  say "starting a throwaway Redis on port $port"
  # Test data only: no snapshots, no append-only file.
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
    --dir "$PWD/$STATE" --pidfile "$PWD/$STATE/redis.pid" --logfile "$PWD/$STATE/redis.log" ||
    die "redis-server did not start: see $STATE/redis.log."
  printf '%s\n' "$port" >"$STATE/redis.port"
  REDIS_URL=$(throwaway_redis_url)
  wait_for redis_answers "$REDIS_URL" || die "the throwaway Redis does not answer: see $STATE/redis.log."
  say "Redis: $REDIS_URL (throwaway, started)"
}

# ----------------------------------------------------------------------------- both

install_packages() {  # Debian package names; only as root with apt-get
  [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null || return 1
  say "installing $* with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

stop_throwaways() {
  if [[ -f $STATE/pg.port ]]; then
    pg_prepare_user
    if find_pg_bin && [[ -f $pg_dir/postmaster.pid ]]; then
      "${pg_run_as[@]}" "$PG_BIN/pg_ctl" -D "$pg_dir" -m fast -w stop >/dev/null && say "stopped the throwaway PostgreSQL"
    fi
    rm -f "$STATE/pg.port"
  fi
  if [[ -f $STATE/redis.pid ]]; then
    kill "$(cat "$STATE/redis.pid")" 2>/dev/null && say "stopped the throwaway Redis"
    rm -f "$STATE/redis.pid" "$STATE/redis.port"
  fi
}

mkdir -p "$STATE"
case ${1:-start} in
start)
  ensure_postgres
  ensure_redis
  printf 'APIFORGE_TEST_POSTGRES_URL=%q\nAPIFORGE_TEST_REDIS_URL=%q\n' "$PG_URL" "$REDIS_URL" >"$ENV_FILE"
  ;;
stop) stop_throwaways ;;
*) echo "usage: $0 [start|stop]" >&2 && exit 2 ;;
esac
