#!/usr/bin/env bash
# A throwaway single-node Ceph cluster (one mon, one memstore OSD, radosgw) on loopback for the
# S3 blob store's tests and benchmarks. No systemd, no authentication, everything under DIR.
#   scripts/ceph.sh start DIR PORT   start the cluster, radosgw on 127.0.0.1:PORT; prints
#                                    `export` lines for SATLOAD_S3_URL and the S3 user's keys
#   scripts/ceph.sh stop DIR PORT    stop what `start` started in DIR (radosgw, OSD, then mon)
#   scripts/ceph.sh rgw-stop DIR PORT   stop only radosgw (an S3 outage; the objects stay in the
#                                       OSD); returns once nothing accepts on PORT
#   scripts/ceph.sh rgw-start DIR PORT  start radosgw again in a running cluster; returns once
#                                       it accepts on PORT
# Installs ceph-mon ceph-osd radosgw ceph-common from Debian when missing. The mon listens on
# PORT+1 (override with CEPH_MON_PORT). The data lives in memory (memstore): nothing survives
# a stop, which is what a test cluster wants.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
port=${3:-}
usage() { echo "usage: scripts/ceph.sh start|stop|rgw-stop|rgw-start DIR PORT" >&2; exit 2; }
[[ -n $cmd && -n $dir && -n $port ]] || usage
mon_port=${CEPH_MON_PORT:-$((port + 1))}
# Seconds to wait for each daemon before giving up.
start_timeout_s=${CEPH_START_TIMEOUT_S:-60}
bucket=${CEPH_BUCKET:-satload}

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
conf=$dir/ceph.conf

install_ceph() {
  if command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null &&
     command -v radosgw >/dev/null && command -v radosgw-admin >/dev/null; then
    return
  fi
  echo "ceph.sh: installing ceph-mon ceph-osd radosgw ceph-common" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y ceph-mon ceph-osd radosgw ceph-common \
    >"$dir/apt.log" 2>&1 || {
    apt-get update >>"$dir/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y ceph-mon ceph-osd radosgw ceph-common \
      >>"$dir/apt.log" 2>&1
  } || { tail -20 "$dir/apt.log" >&2; exit 1; }
}

write_conf() {
  local fsid=$1
  cat >"$conf" <<EOF
[global]
fsid = $fsid
mon initial members = a
mon host = v2:127.0.0.1:$mon_port
public network = 127.0.0.0/8
# A throwaway cluster on loopback: no cephx. radosgw loops on an auth error unless the mon
# client mode also allows crc.
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = secure crc
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
crash dir = $dir/crash
# One OSD: pools of size 1, placement ignores hosts, few placement groups.
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
# The mon refuses to start (and later stops) when the file system under its data has less than
# 5% free. Its data here is a few MiB, and CI machines share a disk that is often fuller than
# that, so the floor is off.
mon data avail crit = 0
mon data avail warn = 0
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
# The mon batches map changes for a second by default; radosgw creates its pools one after
# another, each waiting for a new map, so proposing at once cuts start-up from ~13 s.
paxos propose interval = 0.05
paxos min wait = 0.01
[mon]
mon data = $dir/mon.\$id
[osd]
osd data = $dir/osd.\$id
osd objectstore = memstore
# memstore's default device is 1 GiB; tests and benchmarks upload more than that.
memstore device bytes = 4294967296
osd max object size = 134217728
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$port
rgw data = $dir/rgw
EOF
}

wait_for() {  # wait_for WHAT DAEMON COMMAND...: retries COMMAND until it succeeds; gives up
  # when time runs out or DAEMON (a name start_daemon started) has exited, and then prints
  # the end of DAEMON's output, since the caller usually deletes DIR with the logs in it.
  local what=$1 daemon=$2; shift 2
  local deadline=$((SECONDS + start_timeout_s))
  until "$@" >/dev/null 2>&1; do
    local reason=""
    if ! alive "$(cat "$dir/run/$daemon.pid")"; then
      reason="$what exited"
    elif ((SECONDS >= deadline)); then
      reason="$what did not come up within ${start_timeout_s}s"
    fi
    if [[ -n $reason ]]; then
      echo "ceph.sh: $reason (logs in $dir/log); the end of its output:" >&2
      tail -n 5 "$dir/log/$daemon.out" >&2 || true
      exit 1
    fi
    sleep 0.2
  done
}

start_daemon() {  # start_daemon NAME COMMAND...: runs in the foreground mode, in the background
  local name=$1; shift
  "$@" -f -c "$conf" >"$dir/log/$name.out" 2>&1 &
  echo $! >"$dir/run/$name.pid"
}

# Whether PID still runs. A zombie counts as gone: the daemons' parent (the shell that ran
# `start`) has exited, and the init that inherits them may reap them only seconds later.
alive() {
  [[ -r /proc/$1/status ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

stop_daemon() {  # stop_daemon NAME [SIGNAL]: SIGNAL (default TERM), then SIGKILL after 10 s
  local pidfile=$dir/run/$1.pid
  [[ -f $pidfile ]] || return 0
  local pid
  pid=$(cat "$pidfile")
  if kill -s "${2:-TERM}" "$pid" 2>/dev/null; then
    for _ in $(seq 100); do alive "$pid" || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

rgw_accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

start_radosgw() {
  start_daemon radosgw radosgw -n client.rgw.a
  wait_for "radosgw" radosgw rgw_accepts
}

random_text() {  # random_text N: N characters of [A-Za-z0-9]
  tr -dc 'A-Za-z0-9' </dev/urandom | head -c "$1" || true
}

case $cmd in
  start)
    install_ceph
    for name in radosgw osd mon; do
      [[ ! -f $dir/run/$name.pid ]] || { echo "ceph.sh: already running in $dir" >&2; exit 1; }
    done
    rm -rf "$dir/mon.a" "$dir/osd.0" "$dir/rgw" "$dir/log" "$dir/run" "$dir/crash"
    mkdir -p "$dir/mon.a" "$dir/osd.0" "$dir/rgw" "$dir/log" "$dir/run" "$dir/crash"
    fsid=$(cat /proc/sys/kernel/random/uuid)
    write_conf "$fsid"

    monmaptool --create --clobber --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" \
      "$dir/monmap" >"$dir/log/monmaptool.out" 2>&1
    ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" >"$dir/log/mon-mkfs.out" 2>&1
    start_daemon mon ceph-mon -i a
    wait_for "ceph-mon" mon ceph -c "$conf" --connect-timeout 5 mon stat

    osd_uuid=$(cat /proc/sys/kernel/random/uuid)
    osd_id=$(ceph -c "$conf" osd new "$osd_uuid")
    [[ $osd_id == 0 ]] || { echo "ceph.sh: unexpected OSD id $osd_id" >&2; exit 1; }
    ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid" >"$dir/log/osd-mkfs.out" 2>&1
    start_daemon osd ceph-osd -i 0
    wait_for "ceph-osd" osd bash -c "ceph -c '$conf' osd dump | grep -q '^osd.0 up'"

    start_radosgw

    access_key=$(random_text 20)
    secret_key=$(random_text 40)
    radosgw-admin -c "$conf" -n client.rgw.a user create --uid satload --display-name satload \
      --access-key "$access_key" --secret-key "$secret_key" >"$dir/log/user.out" 2>&1
    {
      echo "export SATLOAD_S3_URL='s3://$bucket?endpoint=http://127.0.0.1:$port&region=us-east-1'"
      echo "export AWS_ACCESS_KEY_ID=$access_key"
      echo "export AWS_SECRET_ACCESS_KEY=$secret_key"
    } >"$dir/env"
    chmod 600 "$dir/env"
    cat "$dir/env"
    ;;
  stop)
    # radosgw first (a client of the OSD), then the OSD, then the mon. The OSD is killed:
    # on SIGTERM memstore would write every object to disk, only for `start` to delete it.
    stop_daemon radosgw
    stop_daemon osd KILL
    stop_daemon mon
    rm -f "$dir/env"
    ;;
  rgw-stop)
    [[ -f $dir/run/osd.pid ]] || { echo "ceph.sh: no cluster running in $dir" >&2; exit 1; }
    stop_daemon radosgw
    ! rgw_accepts || { echo "ceph.sh: something still accepts on port $port" >&2; exit 1; }
    ;;
  rgw-start)
    [[ -f $dir/run/osd.pid && -f $conf ]] || { echo "ceph.sh: no cluster running in $dir" >&2; exit 1; }
    [[ ! -f $dir/run/radosgw.pid ]] || { echo "ceph.sh: radosgw already runs in $dir" >&2; exit 1; }
    start_radosgw
    ;;
  *) usage ;;
esac
