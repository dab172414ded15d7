#!/usr/bin/env python3
"""A slow OpenAI-style upstream for tools/bench-streams (stdlib only, asyncio).

`POST /v1/chat/completions` with `"stream": true` answers `text/event-stream`
(chunked): a role chunk at once, then one one-word content chunk every
--interval seconds (default 0.1) for --seconds (default 30), then a finish
chunk, a usage chunk (prompt_tokens = --prompt-tokens, completion_tokens = the
number of content chunks) and `data: [DONE]`. Without `stream` it answers the
same completion at once as one JSON body. HTTP/1.1 keep-alive.

All streams are driven by one timer: 10 ms slots, each stream in the slot it
arrived in, so a slot's streams get their next chunk every --interval.
`GET /stats` answers counters as JSON (peak concurrent connections and
streams, streams started / completed / cut by the peer, the timer's worst
lateness); `GET /stats/reset` answers them and starts new ones.

  drip_upstream.py --port P [--seconds 30] [--interval 0.1] [--prompt-tokens 10]
"""
import argparse
import asyncio
import json
import resource

HEAD = ('{"id":"chatcmpl-drip","object":"chat.completion.chunk","created":1700000000,'
        '"model":"drip","system_fingerprint":"fp_drip","choices":')
SLOT = 0.01


def http_chunk(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


def event(choices: str, usage: str = "null") -> bytes:
    return ("data: " + HEAD + choices + ',"usage":' + usage + "}\n\n").encode()


ROLE = http_chunk(event('[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]'))
WORD = http_chunk(event('[{"index":0,"delta":{"content":" w"},"logprobs":null,"finish_reason":null}]'))


class Stats:
    def __init__(self):
        self.reset()

    def reset(self):
        self.connections = getattr(self, "connections", 0)
        self.streams = getattr(self, "streams", 0)
        self.peak_connections = self.connections
        self.peak_streams = self.streams
        self.connections_opened = 0
        self.requests = 0
        self.streams_started = 0
        self.streams_completed = 0
        self.streams_cut = 0
        self.worst_lateness_ms = 0.0

    def as_json(self):
        return {"connections": self.connections, "streams": self.streams,
                "peak_connections": self.peak_connections, "peak_streams": self.peak_streams,
                "connections_opened": self.connections_opened, "requests": self.requests,
                "streams_started": self.streams_started, "streams_completed": self.streams_completed,
                "streams_cut": self.streams_cut, "worst_timer_lateness_ms": round(self.worst_lateness_ms, 2),
                "cpu_s": round(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]), 2)}


class Drip:
    def __init__(self, args):
        self.chunks = max(1, round(args.seconds / args.interval))
        self.prompt_tokens = args.prompt_tokens
        self.slots_per_interval = max(1, round(args.interval / SLOT))
        self.slots = [set() for _ in range(self.slots_per_interval)]
        self.tick = 0
        self.stats = Stats()
        usage = '{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}' % (
            self.prompt_tokens, self.chunks, self.prompt_tokens + self.chunks)
        self.tail = (http_chunk(event('[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]'))
                     + http_chunk(event("[]", usage)) + http_chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
        words = " ".join("w" for _ in range(self.chunks))
        self.plain = json.dumps({
            "id": "chatcmpl-drip", "object": "chat.completion", "created": 1700000000, "model": "drip",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": words}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.chunks,
                      "total_tokens": self.prompt_tokens + self.chunks}}).encode()

    def start(self, connection):
        # self.tick is the slot the timer runs next: join the one before it, so the
        # first content chunk comes one interval after the role chunk.
        connection.slot = (self.tick - 1) % self.slots_per_interval
        self.slots[connection.slot].add(connection)
        self.stats.streams += 1
        self.stats.streams_started += 1
        self.stats.peak_streams = max(self.stats.peak_streams, self.stats.streams)

    def stop(self, connection, completed):
        self.slots[connection.slot].discard(connection)
        connection.slot = None
        self.stats.streams -= 1
        if completed:
            self.stats.streams_completed += 1
        else:
            self.stats.streams_cut += 1

    async def run_timer(self):
        loop = asyncio.get_running_loop()
        start = loop.time()
        while True:
            self.tick += 1
            due = start + self.tick * SLOT
            delay = due - loop.time()
            await asyncio.sleep(max(0.0, delay))
            self.stats.worst_lateness_ms = max(self.stats.worst_lateness_ms, (loop.time() - due) * 1000)
            bucket = self.slots[self.tick % self.slots_per_interval]
            for connection in list(bucket):
                connection.sent += 1
                if connection.sent >= self.chunks:
                    connection.transport.write(WORD + self.tail)
                    self.stop(connection, True)
                    connection.next_request()
                else:
                    connection.transport.write(WORD)


class Connection(asyncio.Protocol):
    def __init__(self, drip):
        self.drip = drip
        self.buffer = b""
        self.slot = None
        self.sent = 0
        self.transport = None
        self.streaming = False

    def connection_made(self, transport):
        self.transport = transport
        stats = self.drip.stats
        stats.connections += 1
        stats.connections_opened += 1
        stats.peak_connections = max(stats.peak_connections, stats.connections)

    def connection_lost(self, exc):
        self.drip.stats.connections -= 1
        if self.slot is not None:
            self.drip.stop(self, False)

    def data_received(self, data):
        self.buffer += data
        if not self.streaming:
            self.parse()

    def next_request(self):
        self.streaming = False
        if self.buffer:
            self.parse()

    def parse(self):
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buffer[:end].decode("latin-1").split("\r\n")
        method, target = head[0].split(" ")[:2]
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        rest = self.buffer[end + 4:]
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body, consumed = b"", 0
            while True:
                line_end = rest.find(b"\r\n", consumed)
                if line_end < 0:
                    return
                size = int(rest[consumed:line_end].split(b";")[0], 16)
                if len(rest) < line_end + 2 + size + 2:
                    return
                body += rest[line_end + 2:line_end + 2 + size]
                consumed = line_end + 2 + size + 2
                if size == 0:
                    break
        else:
            length = int(headers.get("content-length", "0"))
            if len(rest) < length:
                return
            body, consumed = rest[:length], length
        self.buffer = rest[consumed:]
        self.respond(method, target, body)

    def respond(self, method, target, body):
        stats = self.drip.stats
        stats.requests += 1
        if method == "GET" and target.startswith("/stats"):
            payload = json.dumps(stats.as_json()).encode()
            if target == "/stats/reset":
                stats.reset()
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                                 % (len(payload), payload))
            return self.next_request()
        if method != "POST":
            self.transport.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            return self.next_request()
        try:
            stream = json.loads(body).get("stream") is True
        except ValueError:
            self.transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return self.next_request()
        if not stream:
            plain = self.drip.plain
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                                 % (len(plain), plain))
            return self.next_request()
        self.streaming = True
        self.sent = 0
        self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n" + ROLE)
        self.drip.start(self)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--prompt-tokens", type=int, default=10)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    drip = Drip(args)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Connection(drip), args.host, args.port, backlog=4096)
    print(json.dumps({"drip_upstream": f"{args.host}:{args.port}", "chunks": drip.chunks,
                      "interval_s": args.interval, "prompt_tokens": args.prompt_tokens,
                      "open_file_limit": hard}), flush=True)
    await asyncio.gather(server.serve_forever(), drip.run_timer())


if __name__ == "__main__":
    asyncio.run(main())
