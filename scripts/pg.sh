#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and benchmarks, on a free loopback port.
#   scripts/pg.sh start DIR   initdb into DIR (if new), start, print the connection URL
#   scripts/pg.sh stop DIR    stop the cluster started in DIR
#   scripts/pg.sh url DIR     print the URL of a running cluster
# As root, the server runs as the unprivileged `postgres` user (PostgreSQL refuses root).
set -euo pipefail

bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=${1:-}
dir=${2:-}
[[ -n $cmd && -n $dir ]] || { echo "usage: scripts/pg.sh start|stop|url DIR" >&2; exit 2; }
[[ -x $bin/initdb ]] || { echo "pg.sh: PostgreSQL binaries not found in $bin" >&2; exit 1; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data=$dir/data

as_pg() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case $cmd in
  start)
    if [[ $(id -u) -eq 0 ]]; then
      chown postgres: "$dir"
    fi
    if [[ ! -f $data/PG_VERSION ]]; then
      as_pg "$bin/initdb" -D "$data" -U satload -A trust -E UTF8 --no-instructions >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    port=$(free_port)
    # fsync and synchronous_commit stay on: the ledger's durability tests rely on them.
    as_pg "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null ||
      { tail -20 "$dir/server.log" >&2; exit 1; }
    echo "postgresql://satload@127.0.0.1:$port/postgres" >"$dir/url"
    cat "$dir/url"
    ;;
  stop)
    if [[ -f $data/postmaster.pid ]]; then
      as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    fi
    rm -f "$dir/url"
    ;;
  url)
    [[ -f $dir/url ]] || { echo "pg.sh: no cluster running in $dir" >&2; exit 1; }
    cat "$dir/url"
    ;;
  *) echo "usage: scripts/pg.sh start|stop|url DIR" >&2; exit 2 ;;
esac
