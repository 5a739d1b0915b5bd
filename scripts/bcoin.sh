#!/usr/bin/env bash
# A throwaway bcoin full node (npm bcoin 1.0.2, tests/bcoin) in regtest for tests, on a free
# loopback port, chain kept in memory, no wallet, no peers; JSON-RPC with a random password.
#   scripts/bcoin.sh start DIR   install the node (if needed), start it, print the RPC URL
#   scripts/bcoin.sh stop DIR    stop the node started in DIR
#   scripts/bcoin.sh url DIR     print the RPC URL of a running node
# The URL carries the credentials: http://satload:PASSWORD@127.0.0.1:PORT/ (bcoin checks only
# the password). Segwit is not active on a fresh regtest chain: tests mine 432+ blocks first.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
project=$root/tests/bcoin
node_bin=$project/node_modules/bcoin/bin/node
cmd=${1:-}
dir=${2:-}
start_timeout_s=60
stop_timeout_s=20
[[ -n $cmd && -n $dir ]] || { echo "usage: scripts/bcoin.sh start|stop|url DIR" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

running() { [[ -f $dir/pid ]] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; }

case $cmd in
  start)
    if running; then cat "$dir/url"; exit 0; fi
    if [[ ! -f $node_bin ]]; then
      # leveldown is overridden to 6.1.1 in package.json: bcoin's own 4.x no longer builds on
      # Node 20 (the in-memory chain does not use it, but npm installs it all the same).
      (cd "$project" && npm install --no-audit --no-fund --no-package-lock --loglevel=error >&2)
    fi
    port=$(free_port)
    password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
    # Workers off: verification in-process keeps memory small on this 2-core machine.
    # --only names a discard port: regtest's built-in seed is 127.0.0.1, and this node must not
    # join another test run's chain.
    node "$node_bin" --prefix="$dir/data" --network=regtest --memory=true --no-wallet=true \
      --listen=false --only=127.0.0.1:9 --workers=false --log-console=false --log-file=true \
      --log-level=info --http-host=127.0.0.1 --http-port="$port" --api-key="$password" \
      >"$dir/node.log" 2>&1 &
    echo $! >"$dir/pid"
    url="http://satload:$password@127.0.0.1:$port/"
    deadline=$((SECONDS + start_timeout_s))
    until curl -sf -u "satload:$password" -H 'Content-Type: application/json' \
        -d '{"method":"getblockcount","params":[],"id":1}' "http://127.0.0.1:$port/" >/dev/null; do
      if ! running || ((SECONDS > deadline)); then
        echo "bcoin.sh: the node did not start" >&2
        tail -20 "$dir/node.log" >&2
        kill "$(cat "$dir/pid")" 2>/dev/null || true
        rm -f "$dir/pid"
        exit 1
      fi
      sleep 0.2
    done
    echo "$url" >"$dir/url"
    cat "$dir/url"
    ;;
  stop)
    if running; then
      pid=$(cat "$dir/pid")
      kill "$pid"
      deadline=$((SECONDS + stop_timeout_s))
      while kill -0 "$pid" 2>/dev/null && ((SECONDS <= deadline)); do sleep 0.2; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/pid" "$dir/url"
    ;;
  url)
    [[ -f $dir/url ]] || { echo "bcoin.sh: no node running in $dir" >&2; exit 1; }
    cat "$dir/url"
    ;;
  *) echo "usage: scripts/bcoin.sh start|stop|url DIR" >&2; exit 2 ;;
esac
