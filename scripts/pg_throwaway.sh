#!/usr/bin/env bash
# A throwaway PostgreSQL + PostGIS cluster on 127.0.0.1, for tests.
#   eval "$(bash scripts/pg_throwaway.sh start)"   # prints export GRIDTOOL_TEST_PG=... lines
#   bash scripts/pg_throwaway.sh stop "$GRIDTOOL_TEST_PG_DIR"
# Runs the server as the 'postgres' user when started as root (initdb refuses root).
set -euo pipefail
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
cmd=${1:-start}
if [ "$cmd" = stop ]; then
  dir=${2:?usage: pg_throwaway.sh stop DIR}
  if [ -f "$dir/data/postmaster.pid" ]; then kill -INT "$(head -1 "$dir/data/postmaster.pid")" 2>/dev/null || true; fi
  for _ in $(seq 50); do [ -f "$dir/data/postmaster.pid" ] || break; sleep 0.1; done
  rm -rf "$dir"
  exit 0
fi
[ -n "$BIN" ] && [ -x "$BIN/initdb" ] || { echo "pg_throwaway: PostgreSQL server binaries not found; install postgresql-15 postgresql-15-postgis-3" >&2; exit 1; }
dir=$(mktemp -d /tmp/gridtool-pg.XXXXXX)
chmod 755 "$dir"
asuser=()
if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; asuser=(runuser -u postgres --); fi
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"${asuser[@]}" "$BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
"${asuser[@]}" "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=100" start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }
"$BIN/psql" -q -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE gridtool_test" >/dev/null
"$BIN/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d gridtool_test -c "CREATE EXTENSION postgis" >/dev/null
echo "export GRIDTOOL_TEST_PG_DIR=$dir"
echo "export GRIDTOOL_TEST_PG=postgresql://postgres@127.0.0.1:$port/gridtool_test"
