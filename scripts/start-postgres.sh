#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for tests and prints its URL on stdout:
#   export COMPE_TEST_POSTGRES="$(scripts/start-postgres.sh)"
# Usage: scripts/start-postgres.sh [DIR]     start (or reuse) a server whose files live in DIR
#        scripts/start-postgres.sh --stop DIR stop it
# DIR defaults to a new folder under /tmp. The server listens on 127.0.0.1 only, on a free port,
# with trust authentication on loopback; it creates the database "compe". PostgreSQL refuses to
# run as root, so under root the server runs as the "postgres" user, which owns DIR.
set -euo pipefail

bindir=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
  if [[ -x "$d/pg_ctl" ]]; then bindir="$d"; break; fi
done
if [[ -z "$bindir" ]]; then
  echo "start-postgres: no PostgreSQL server found (apt-get install postgresql)" >&2
  exit 1
fi

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

if [[ "${1:-}" == "--stop" ]]; then
  dir="${2:?usage: start-postgres.sh --stop DIR}"
  cd "$dir"
  as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast stop >&2
  exit 0
fi

dir="${1:-}"
if [[ -z "$dir" ]]; then dir="$(mktemp -d /tmp/compe-pg.XXXXXX)"; fi
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; fi
cd "$dir"  # the server's user may not be able to enter the caller's folder

# A server already running from DIR is reused.
if [[ -f "$dir/data/postmaster.pid" ]] && as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
  port="$(sed -n 4p "$dir/data/postmaster.pid")"
  echo "postgresql://postgres@127.0.0.1:${port}/compe"
  exit 0
fi

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=""
for p in $(seq 55432 55532); do
  if port_free "$p"; then port="$p"; break; fi
done
if [[ -z "$port" ]]; then echo "start-postgres: no free port in 55432-55532" >&2; exit 1; fi

if [[ ! -f "$dir/data/PG_VERSION" ]]; then
  as_owner "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  cat >"$dir/data/pg_hba.conf" <<HBA
local all all trust
host  all all 127.0.0.1/32 trust
HBA
fi
as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >&2 \
  || { cat "$dir/server.log" >&2; exit 1; }
as_owner "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAq \
  -c "SELECT 1 FROM pg_database WHERE datname = 'compe'" | grep -q 1 \
  || as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres compe
echo "start-postgres: server in $dir (stop: scripts/start-postgres.sh --stop $dir)" >&2
echo "postgresql://postgres@127.0.0.1:${port}/compe"
