#!/usr/bin/env bash
# Browser test of the dashboard against the real server.
#
# Installs what is missing (Debian's chromium and chromium-driver; Selenium
# from PyPI in a venv at .build/dashboard-venv), starts `tally serve --demo`
# on a free port with a throw-away data folder, runs test.py in headless
# Chromium, stops the server. test.py prints one line per failed check and
# last `N passed, M failed`; this script exits non-zero on any failure.
#
# The binary: $TALLY_BINARY if set, else .build/debug/tally (build it first:
# `swift build --product tally`; tools/test does).
#
# Options:
#   --update-screenshots  write the PNGs to Docs/screenshots/ (default:
#                         .build/dashboard-e2e/screenshots/, so a test run
#                         leaves the work tree clean)
#   --from-source         serve the dashboard files from Sources/Console/Dashboard
#                         instead of the copy bundled at build time (runs a copy
#                         of the binary next to a fresh resource bundle), to try
#                         edits to the HTML/CSS/JS without rebuilding
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
. tools/lib/ensure.sh

SHOTS="$ROOT/.build/dashboard-e2e/screenshots"
FROM_SOURCE=0
for arg in "$@"; do
    case "$arg" in
        --update-screenshots) SHOTS="$ROOT/Docs/screenshots" ;;
        --from-source) FROM_SOURCE=1 ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) echo "dashboard-e2e: unknown option $arg" >&2; exit 2 ;;
    esac
done

# --- what the test needs ---
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    echo "dashboard-e2e: installing chromium and chromium-driver" >&2
    apt_install chromium chromium-driver
fi
VENV="$ROOT/.build/dashboard-venv"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import selenium' 2>/dev/null; then
    echo "dashboard-e2e: installing selenium into $VENV" >&2
    ensure_venv "$VENV" selenium
fi

TALLY="${TALLY_BINARY:-$ROOT/.build/debug/tally}"
if [ ! -x "$TALLY" ]; then
    echo "dashboard-e2e: no tally binary at $TALLY (build it: swift build --product tally, or set TALLY_BINARY)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

WORK="$(mktemp -d)"
PID=""
cleanup() {
    if [ -n "$PID" ]; then
        kill "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

if [ "$FROM_SOURCE" -eq 1 ]; then
    # The resource accessor prefers a bundle beside the executable over the build folder's.
    BUNDLE="$(find "$(dirname "$TALLY")/" -maxdepth 1 -name '*_Console.resources' | head -n1)"
    if [ -z "$BUNDLE" ]; then
        echo "dashboard-e2e: no *_Console.resources beside $TALLY" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
    mkdir -p "$WORK/bin"
    cp "$TALLY" "$WORK/bin/tally"
    cp -R "$BUNDLE" "$WORK/bin/"
    rm -rf "$WORK/bin/$(basename "$BUNDLE")/Dashboard"
    cp -R "$ROOT/Sources/Console/Dashboard" "$WORK/bin/$(basename "$BUNDLE")/Dashboard"
    TALLY="$WORK/bin/tally"
fi

# --- the server ---
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
ADMIN_KEY="tk-$(python3 -c 'import secrets,string; a=string.ascii_letters+string.digits; print("".join(secrets.choice(a) for _ in range(48)))')"
LOG="$WORK/serve.log"
TALLY_ADMIN_KEY="$ADMIN_KEY" "$TALLY" serve --demo --data "$WORK/data" --host 127.0.0.1 --port "$PORT" >"$LOG" 2>&1 &
PID=$!

# Ready when the demo has seeded prices and channels (it prints its token then).
ready=0
for _ in $(seq 1 300); do
    if grep -q '^Demo token (shown once): sk-' "$LOG" 2>/dev/null; then ready=1; break; fi
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
done
if [ "$ready" -ne 1 ]; then
    echo "dashboard-e2e: the server did not become ready; its output:" >&2
    cat "$LOG" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

# The admin's one-time dashboard password, as a newcomer reads it off the demo's banner.
DEMO_PASSWORD="$(sed -n 's/^One-time password (shown once; you choose your own at first sign-in): //p' "$LOG" | head -n1)"

status=0
TZ=UTC TALLY_URL="http://127.0.0.1:$PORT" TALLY_ADMIN_KEY="$ADMIN_KEY" TALLY_DEMO_PASSWORD="$DEMO_PASSWORD" SCREENSHOT_DIR="$SHOTS" \
    "$VENV/bin/python" "$ROOT/tools/dashboard-e2e/test.py" || status=$?
if [ "$status" -ne 0 ]; then
    echo "dashboard-e2e: server output (last 40 lines):" >&2
    tail -n 40 "$LOG" >&2
fi
exit "$status"
