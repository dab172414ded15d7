# Shared by tools/bench-relay and tools/bench-streams: an nginx instance of our
# own (Debian's nginx-light, see ensure_nginx) run from a config in a work
# folder: its own pid file, error log and temp paths, no access log, `daemon
# off` in the background, and ONE worker process (worker_processes 1), so its
# CPU time is one process's and the reference is a single event loop.
#
# Server block A (port $2) is a fixed upstream: `POST /v1/chat/completions`
# answers a constant OpenAI chat completion with `usage`; `POST
# /sse/v1/chat/completions` answers a constant SSE stream (a role chunk, 12
# one-word content chunks, a finish chunk, a usage chunk, `data: [DONE]`),
# `text/event-stream`. A channel whose base_url is http://127.0.0.1:A/sse is
# sent to the second. Server block B (port $3, optional) is a reverse proxy to
# A with an upstream keep-alive pool (`keepalive 64; proxy_http_version 1.1;
# proxy_set_header Connection ""`), response buffering off for /sse/ as an
# SSE proxy is configured.
#
#   nginx_start WORKDIR PORT_A [PORT_B]   sets NGINX_PID (master) and NGINX_WORKER_PID
#   nginx_stop

# The constant answers (usage: 5 prompt tokens, 12 completion tokens).
NGINX_PLAIN_BODY='{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","system_fingerprint":"fp_bench","choices":[{"index":0,"message":{"role":"assistant","content":"w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":12,"total_tokens":17}}'
NGINX_PROMPT_TOKENS=5
NGINX_COMPLETION_TOKENS=12

nginx_sse_body() { # one line, nginx-escaped newlines (\n)
    local head='{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","system_fingerprint":"fp_bench","choices":'
    local out i
    out="data: ${head}[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\\n\\n"
    for i in $(seq 12); do
        local word="w$i"; [ "$i" -gt 1 ] && word=" w$i"
        out+="data: ${head}[{\"index\":0,\"delta\":{\"content\":\"$word\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\\n\\n"
    done
    out+="data: ${head}[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\\n\\n"
    out+="data: ${head}[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":12,\"total_tokens\":17}}\\n\\n"
    out+="data: [DONE]\\n\\n"
    printf '%s' "$out"
}

nginx_start() {
    local work="$1" port_a="$2" port_b="${3:-}"
    local dir="$work/nginx"
    mkdir -p "$dir/tmp"
    local proxy_block=""
    if [ -n "$port_b" ]; then
        proxy_block="
    upstream fixed_upstream {
        server 127.0.0.1:$port_a;
        keepalive 64;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$port_b backlog=4096;
        location / {
            proxy_pass http://fixed_upstream;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
        }
        location /sse/ {
            proxy_pass http://fixed_upstream;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_buffering off;
        }
    }"
    fi
    cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
worker_rlimit_nofile 65536;
events {
    worker_connections 32768;
}
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    server {
        listen 127.0.0.1:$port_a backlog=4096;
        location = /v1/chat/completions {
            default_type application/json;
            return 200 '$NGINX_PLAIN_BODY';
        }
        location = /sse/v1/chat/completions {
            default_type text/event-stream;
            return 200 '$(nginx_sse_body)';
        }
    }$proxy_block
}
CONF
    local nginx; nginx="$(nginx_binary)"
    "$nginx" -t -q -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >"$dir/test.log" 2>&1 \
        || { cat "$dir/test.log" >&2; return 1; }
    "$nginx" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >"$dir/stdout.log" 2>&1 &
    NGINX_PID=$!
    NGINX_WORKER_PID=""
    local _
    for _ in $(seq 100); do
        NGINX_WORKER_PID="$(cat "/proc/$NGINX_PID/task/$NGINX_PID/children" 2>/dev/null | awk '{print $1}')"
        if [ -n "$NGINX_WORKER_PID" ] && curl -s -o /dev/null -X POST "http://127.0.0.1:$port_a/v1/chat/completions"; then
            return 0
        fi
        sleep 0.1
    done
    echo "nginx did not start:" >&2; cat "$dir/error.log" "$dir/stdout.log" >&2
    return 1
}

nginx_stop() {
    if [ -n "${NGINX_PID:-}" ]; then
        kill "$NGINX_PID" 2>/dev/null || true
        wait "$NGINX_PID" 2>/dev/null || true
        NGINX_PID=""
    fi
}
