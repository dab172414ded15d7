#!/usr/bin/env bash
# Compatibility check with the three official SDKs (openai, anthropic, google-genai):
# starts `tally serve --demo` (mock upstream in-process) on a free port and runs
# sdk_test.py against it. Prints "N passed, M failed" last; exits non-zero on failure.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.build/compat-venv"
TALLY="${TALLY_BIN:-$ROOT/.build/debug/tally}"

if [ ! -x "$TALLY" ]; then
  swift build --product tally >&2
fi
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV" >&2
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check openai anthropic google-genai >&2

DATA="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
LOG="$DATA/serve.log"
"$TALLY" serve --demo --data "$DATA/data" --port "$PORT" >"$LOG" 2>&1 &
PID=$!
cleanup() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$DATA"; }
trap cleanup EXIT

TOKEN=""
for _ in $(seq 1 300); do
  TOKEN="$(sed -n 's/^Demo token (shown once): \(sk-[A-Za-z0-9]*\)$/\1/p' "$LOG" | head -n1)"
  [ -n "$TOKEN" ] && break
  kill -0 "$PID" 2>/dev/null || { cat "$LOG" >&2; echo "0 passed, 1 failed"; exit 1; }
  sleep 0.1
done
if [ -z "$TOKEN" ]; then cat "$LOG" >&2; echo "0 passed, 1 failed"; exit 1; fi

TALLY_URL="http://127.0.0.1:$PORT" TALLY_TOKEN="$TOKEN" "$VENV/bin/python" "$ROOT/tools/compat/sdk_test.py"
