#!/usr/bin/env bash
# `tools/demo --cluster`: a throwaway PostgreSQL, three `tally serve --cluster`
# nodes (a, b, c) on three loopback ports, one mock upstream they all call, a
# demo user with credit and a token — and one request through each node, each
# answered with the receipt of its charge. Ctrl-C stops everything and removes
# the PostgreSQL directory; the nodes' data stays in .build/demo-cluster.
# Set DEMO_CLUSTER_ONCE=1 to stop right after the three requests (a smoke run).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tools/lib/ensure.sh
ensure_lmdb
swift build --product tally
tally=.build/debug/tally
root="$PWD/.build/demo-cluster"
rm -rf "$root" && mkdir -p "$root"
pgdir="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    tools/lib/postgres.sh stop "$pgdir" || true
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
wait_healthy() {
    for _ in $(seq 1 300); do
        if curl -fsS "$1/healthz" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    echo "demo: $1 did not become healthy (see $root/*.log)" >&2
    return 1
}

# Polls a shell condition for up to 60 s (a node copies the control stream within a moment; a loaded CI
# machine can take seconds), then fails by name rather than going on to a request bound to be refused.
wait_for() {
    for _ in $(seq 1 600); do
        if bash -c "$2"; then return 0; fi
        sleep 0.1
    done
    echo "demo: waited 60 s for $1 (see $root/*.log)" >&2
    return 1
}

url="$(tools/lib/postgres.sh start "$pgdir")"
"$tally" cluster init --cluster "$url"

mock_port="$(free_port)"
"$tally" mock-upstream --port "$mock_port" --key mock-key >"$root/mock.log" 2>&1 &
pids+=($!)

admin_key="tk-$(python3 -c 'import secrets; print(secrets.token_hex(20))')"
declare -A ports
for node in a b c; do
    ports[$node]="$(free_port)"
    env=(TALLY_LOG_LEVEL=warning)
    # The first node creates the admin (a control event every node copies).
    if [ "$node" = a ]; then env+=("TALLY_ADMIN_KEY=$admin_key"); fi
    env "${env[@]}" "$tally" serve --cluster "$url" --node "$node" --data "$root/$node" --port "${ports[$node]}" \
        >"$root/$node.out" 2>"$root/$node.log" &
    pids+=($!)
    wait_healthy "http://127.0.0.1:${ports[$node]}"
done

# Prices, a group, the mock's channel, a user and a token: one declared file.
# Channel keys are sealed per node (never copied), so it is applied to every
# node; the second and third applies only seal their key.
cat >"$root/demo.yaml" <<YAML
groups:
  default: {}
prices:
  mock-gpt: { input: 2000000, output: 8000000, cached_input: 500000 }
channels:
  demo-openai:
    type: openai
    base_url: http://127.0.0.1:$mock_port
    key_env: DEMO_MOCK_KEY
    models: [mock-gpt]
users:
  demo: { role: user, group: default }
tokens:
  - { owner: demo, name: demo-token }
YAML
token=""
for node in a b c; do
    # A node plans against what it knows: b and c apply once node a's changes reached them (else their plan would
    # create the user again and be refused whole with 409, "username demo is taken").
    if [ "$node" != a ]; then
        wait_for "node $node to know user demo" \
            "curl -fsS http://127.0.0.1:${ports[$node]}/api/users -H 'Authorization: Bearer $admin_key' 2>/dev/null | python3 -c 'import json,sys; sys.exit(0 if any(u[\"username\"] == \"demo\" for u in json.load(sys.stdin)[\"data\"]) else 1)'"
    fi
    out="$(DEMO_MOCK_KEY=mock-key "$tally" apply "$root/demo.yaml" --server "http://127.0.0.1:${ports[$node]}" --key "$admin_key")"
    token="${token:-$(sed -n 's/^Key of new token demo-token of demo (shown once): //p' <<<"$out")}"
done
[ -n "$token" ] || { echo "demo: the token was not created" >&2; exit 1; }
a="http://127.0.0.1:${ports[a]}"
user="$(curl -fsS "$a/api/users" -H "Authorization: Bearer $admin_key" \
    | python3 -c 'import json,sys; print(next(u["id"] for u in json.load(sys.stdin)["data"] if u["username"]=="demo"))')"
curl -fsS -X POST "$a/api/users/$user/credit" -H "Authorization: Bearer $admin_key" -H 'Content-Type: application/json' \
    -d '{"amount":100000000,"note":"demo credit"}' >/dev/null

echo
echo "Tally cluster demo: PostgreSQL at $url, mock upstream on port $mock_port."
for node in a b c; do
    base="http://127.0.0.1:${ports[$node]}"
    # A node learns of the token and of the credit (both written through node
    # a) from the control stream within a moment; a request before the credit
    # arrives would rightly be refused for want of balance.
    wait_for "node $node to know the demo credit" \
        "curl -fsS $base/api/users/$user -H 'Authorization: Bearer $admin_key' 2>/dev/null | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin).get(\"balance\", 0) > 0 else 1)'"
    receipt="$(curl -fsS -D - -o /dev/null "$base/v1/chat/completions" -H "Authorization: Bearer $token" \
        -H 'Content-Type: application/json' -d '{"model":"mock-gpt","messages":[{"role":"user","content":"hello"}]}' \
        | sed -n 's/^[Xx]-[Tt]ally-[Rr]eceipt: //p' | tr -d '\r')"
    [ -n "$receipt" ] || { echo "demo: node $node answered without a receipt" >&2; exit 1; }
    echo "node $node  $base   charged: $receipt"
done
cat <<TEXT

Try any node (the token and its balance are the cluster's):
  curl $a/v1/chat/completions -H "Authorization: Bearer $token" \\
    -H 'Content-Type: application/json' -d '{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}'
Admin API on every node: -H "Authorization: Bearer $admin_key"  (e.g. $a/api/logs)
Cluster state:  $tally cluster status --cluster $url
Every stream:   $tally verify --cluster $url
Logs: $root/{a,b,c}.log.  Ctrl-C stops the nodes and PostgreSQL.
TEXT
if [ "${DEMO_CLUSTER_ONCE:-0}" = 1 ]; then
    "$tally" cluster status --cluster "$url"
    exit 0
fi
wait
