#!/usr/bin/env bash
# Docs/openapi.yaml against a live `tally serve --demo`, as a new integrator would check it:
# schemathesis (from PyPI, in a venv under .build) generates requests from the document, for
# every phase — examples, coverage, fuzzing, and stateful sequences through the document's links —
# and checks each answer against it (no server error, status and schema as documented).
# What no schema can say (rules over two values, or over the ledger's state) is in schemathesis.toml beside this.
# Usage: tools/schemathesis/run.sh [--bounded] [extra schemathesis options, e.g. --max-examples 20]
#   --bounded: the run tools/test makes — the same cases on every run (derandomized generation, which
#   needs no seed and keeps no example database between runs; one worker, so the requests reach the
#   server in one order) and 25 per operation in fuzzing and stateful ($SCHEMATHESIS_EXAMPLES): the
#   same 4,434 cases over every phase in 38–45 s on 2 cores (the coverage phase's boundary cases,
#   which no example count bounds, are about 15 s of it).
#   Without it: schemathesis' defaults, a different and longer run each time (7,642 cases, about 5 minutes).
# Prints schemathesis' report; exits non-zero when it found a failure.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
. tools/lib/ensure.sh
VENV="$ROOT/.build/schemathesis-venv"
TALLY="${TALLY_BIN:-$ROOT/.build/debug/tally}"

[ -x "$TALLY" ] || swift build --product tally >&2
ensure_venv "$VENV" schemathesis >&2

DATA="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
# The admin's access key, so the admin routes are exercised too (never a real one: a throwaway directory).
ADMIN_KEY="tk-$(python3 -c 'import secrets,string; print("".join(secrets.choice(string.ascii_letters+string.digits) for _ in range(48)))')"
LOG="$DATA/serve.log"
TALLY_ADMIN_KEY="$ADMIN_KEY" "$TALLY" serve --demo --data "$DATA/data" --port "$PORT" >"$LOG" 2>&1 &
PID=$!
cleanup() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$DATA"; }
trap cleanup EXIT
for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 "$PID" 2>/dev/null || { cat "$LOG" >&2; exit 1; }
  sleep 0.1
done

bounded=()
if [ "${1:-}" = "--bounded" ]; then
  shift
  bounded=(--generation-deterministic --max-examples "${SCHEMATHESIS_EXAMPLES:-25}" --workers 1)
fi

"$VENV/bin/schemathesis" --config-file "$ROOT/tools/schemathesis/schemathesis.toml" run "$ROOT/Docs/openapi.yaml" \
  --url "http://127.0.0.1:$PORT" \
  --header "Authorization: Bearer $ADMIN_KEY" \
  --phases examples,coverage,fuzzing,stateful \
  --checks all \
  "${bounded[@]}" \
  "$@"
