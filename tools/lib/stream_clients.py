#!/usr/bin/env python3
"""Many concurrent streamed chat completions, for tools/bench-streams (stdlib only).

  stream_clients.py streams --port P --key K --model M --streams N --expect-events E
                            [--watch-pid PID] [--probe-port P --probe-key K --probe-model M]
  stream_clients.py probe PORT KEY MODEL INTERVAL OUTFILE

`streams` opens N connections (at most --connect-concurrency TCP connects in
progress at a time), sends one streamed `POST /v1/chat/completions` on each (raw HTTP/1.1,
asyncio protocols) and reads every answer to its end. A stream is *completed*
when it answered 200, carried `data: [DONE]` and ended its chunked body; every
other outcome is counted by status (or `connect_error`, `cut` for a 200 that
ended early, `deadline` for one still open at --deadline seconds). With
--watch-pid it samples that process's VmRSS every 0.25 s (VmHWM at the end).
With --probe-* a separate process sends one short non-streamed request every
--probe-interval seconds on a kept-alive connection and records its latency:
alone for --probe-baseline seconds first, then while the streams open (ramp),
while all are open (plateau: from the moment every stream has its headers or
has failed until the first one ends), and until the last one ends.
Prints one JSON object.
"""
import argparse
import asyncio
import http.client
import json
import os
import resource
import subprocess
import sys
import time


def percentile(values, q):
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 3)


class Run:
    def __init__(self, args):
        self.args = args
        self.open = 0            # answered 200 with headers, not ended
        self.peak_open = 0
        self.pending = args.streams  # not yet headers-or-failed
        self.unfinished = args.streams
        self.outcomes = {}
        self.error_bodies = {}
        self.event_mismatch = 0
        self.no_usage = 0
        self.ttfb = []
        self.durations = []
        self.t_all_open = None
        self.t_first_done = None
        self.t_last_done = None
        self.done = asyncio.Event()
        self.streams = []

    def headers_or_failure(self):
        self.pending -= 1
        if self.pending == 0 and self.t_all_open is None:
            self.t_all_open = time.monotonic()

    def finish(self, stream, outcome):
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        now = time.monotonic()
        if outcome == "completed" and self.t_first_done is None:
            self.t_first_done = now
        self.t_last_done = now
        self.unfinished -= 1
        if self.unfinished == 0:
            self.done.set()


class Stream(asyncio.Protocol):
    def __init__(self, run, request):
        self.run = run
        self.request = request
        self.buffer = b""
        self.status = None
        self.headers_done = False
        self.counted_header = False
        self.events = 0
        self.saw_done = False
        self.saw_usage = False
        self.tail = b""
        self.finished = False
        self.chunked = False
        self.length = None
        self.body_bytes = 0
        self.error_body = b""
        self.transport = None
        self.sent_at = None

    def connection_made(self, transport):
        self.transport = transport
        self.sent_at = time.monotonic()
        transport.write(self.request)

    def data_received(self, data):
        if not self.headers_done:
            self.buffer += data
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1").split("\r\n")
            self.status = int(head[0].split(" ")[1])
            for line in head[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "transfer-encoding" and "chunked" in value.lower():
                    self.chunked = True
                elif name == "content-length":
                    self.length = int(value.strip())
            self.headers_done = True
            data = self.buffer[end + 4:]
            self.buffer = b""
            self.run.ttfb.append((time.monotonic() - self.sent_at) * 1000)
            self.run.headers_or_failure()
            self.counted_header = True
            if self.status == 200:
                self.run.open += 1
                self.run.peak_open = max(self.run.peak_open, self.run.open)
        self.body(data)

    def body(self, data):
        # self.tail: the last 16 bytes already seen, so a marker split between two reads is
        # still found; "data: " (6 bytes) is counted in the last 5 of them + the new bytes,
        # where no earlier occurrence can be counted twice.
        self.body_bytes += len(data)
        window = self.tail + data
        if self.status != 200:
            if len(self.error_body) < 300:
                self.error_body += data[:300]
        else:
            self.events += (self.tail[-5:] + data).count(b"data: ")
            if not self.saw_done and b"data: [DONE]" in window:
                self.saw_done = True
            if not self.saw_usage and b'"usage":{' in window:
                self.saw_usage = True
        self.tail = window[-16:]
        if self.chunked:
            ended = self.tail.endswith(b"\r\n0\r\n\r\n")
        elif self.length is not None:
            ended = self.body_bytes >= self.length
        else:
            ended = False
        if ended:
            self.end(closing=True)

    def end(self, closing=False, outcome=None):
        if self.finished:
            return
        self.finished = True
        if self.status == 200:
            self.run.open -= 1
        if outcome is None:
            if self.status is None:
                outcome = "no_answer"
            elif self.status == 200:
                outcome = "completed" if self.saw_done and closing else "cut"
            else:
                outcome = f"status_{self.status}"
                self.run.error_bodies.setdefault(outcome, self.error_body.decode("utf-8", "replace")[:300])
        if outcome == "completed":
            if self.run.args.expect_events and self.events != self.run.args.expect_events:
                self.run.event_mismatch += 1
            if not self.saw_usage:
                self.run.no_usage += 1
            self.run.durations.append((time.monotonic() - self.sent_at) * 1000)
        if not self.counted_header:
            self.counted_header = True
            self.run.headers_or_failure()
        self.run.finish(self, outcome)
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc):
        self.end()


def sample_rss(pid):
    values = {}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    values[line.split(":")[0]] = int(line.split()[1])
    except OSError:
        pass
    return values


async def streams(args):
    run = Run(args)
    # include_usage: the client asks for the usage chunk (as SDK users who track usage do), so a
    # complete stream carries the same events direct and through Tally
    body = json.dumps({"model": args.model, "stream": True, "stream_options": {"include_usage": True},
                       "max_tokens": args.max_tokens,
                       "messages": [{"role": "user", "content": "drip one word every tick until the end"}]}).encode()
    request = (f"POST {args.path} HTTP/1.1\r\nHost: 127.0.0.1:{args.port}\r\nAuthorization: Bearer {args.key}\r\n"
               f"Content-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    loop = asyncio.get_running_loop()
    rss = []  # (t, VmRSS KiB, open streams)

    async def watch():
        while True:
            values = sample_rss(args.watch_pid)
            if "VmRSS" in values:
                rss.append((time.monotonic(), values["VmRSS"], run.open))
            await asyncio.sleep(0.25)

    watcher = loop.create_task(watch()) if args.watch_pid else None
    probe = None
    probe_file = None
    if args.probe_port:
        probe_file = args.probe_out or f"/tmp/stream-probe-{os.getpid()}.txt"
        probe = subprocess.Popen([sys.executable, __file__, "probe", str(args.probe_port), args.probe_key,
                                  args.probe_model, str(args.probe_interval), probe_file])
        await asyncio.sleep(args.probe_baseline)
    elif args.watch_pid:
        await asyncio.sleep(1)

    t_start = time.monotonic()
    gate = asyncio.Semaphore(args.connect_concurrency)

    async def open_one(stream):
        # the gate bounds connects in progress (not open streams): a burst of thousands of
        # SYNs at once would only measure the accept backlog
        async with gate:
            try:
                await loop.create_connection(lambda: stream, "127.0.0.1", args.port)
            except OSError as error:
                stream.end(outcome="connect_error")
                run.error_bodies.setdefault("connect_error", str(error))
        return stream

    run.streams = [Stream(run, request) for _ in range(args.streams)]
    openers = [loop.create_task(open_one(stream)) for stream in run.streams]
    try:
        await asyncio.wait_for(run.done.wait(), timeout=max(1.0, args.deadline - (time.monotonic() - t_start)))
    except asyncio.TimeoutError:
        pass
    t_end = time.monotonic()
    for task in openers:
        task.cancel()
    for stream in run.streams:
        if not stream.finished:
            stream.end(outcome="deadline")
    await asyncio.sleep(0.2)
    if watcher:
        watcher.cancel()
    final = sample_rss(args.watch_pid) if args.watch_pid else {}

    result = {"streams": args.streams, "outcomes": dict(sorted(run.outcomes.items())),
              "completed": run.outcomes.get("completed", 0),
              "error_bodies": run.error_bodies,
              "event_count_mismatch": run.event_mismatch, "completed_without_usage": run.no_usage,
              "peak_open": run.peak_open,
              "ramp_s": round(run.t_all_open - t_start, 3) if run.t_all_open else None,
              "wall_s": round(t_end - t_start, 3),
              "client_cpu_s": round(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]), 2),
              "ttfb_ms": {"p50": percentile(run.ttfb, 0.5), "p99": percentile(run.ttfb, 0.99),
                          "max": percentile(run.ttfb, 1.0)},
              "stream_duration_ms": {"p50": percentile(run.durations, 0.5), "max": percentile(run.durations, 1.0)}}
    if args.watch_pid:
        before = [value for t, value, _ in rss if t < t_start]
        during = [(value, opened) for t, value, opened in rss if t_start <= t <= (run.t_last_done or t_end)]
        rss_before = before[-1] if before else None
        rss_peak = max((value for value, _ in during), default=None)
        # the sample with the most streams open (the latest such), and Tally's RSS then
        most_open, rss_at_most_open = max(((opened, value) for value, opened in during), default=(None, None))
        result["rss_kib"] = {"before": rss_before, "at_most_open": rss_at_most_open, "most_open_sampled": most_open,
                             "peak_during": rss_peak, "after": final.get("VmRSS"), "hwm_end": final.get("VmHWM")}
        if rss_before and rss_at_most_open and most_open:
            result["rss_kib_per_open_stream"] = round((rss_at_most_open - rss_before) / most_open, 1)
        if rss_before and rss_peak:
            # when not every stream got through, the others (queued, refused) hold memory too:
            # the highest growth over every stream asked for is the other bound
            result["rss_kib_per_stream_requested"] = round((rss_peak - rss_before) / args.streams, 1)
    if probe:
        probe.terminate()
        probe.wait()
        windows = {"alone": (0, t_start), "ramp": (t_start, run.t_all_open or t_end),
                   "plateau": (run.t_all_open or t_end, run.t_first_done or t_end),
                   "while_streaming": (t_start, run.t_last_done or t_end)}
        samples = []
        with open(probe_file) as lines:
            for line in lines:
                t, latency, status = line.split()
                samples.append((float(t), float(latency), int(status)))
        os.unlink(probe_file)
        result["short_request_ms"] = {}
        for name, (low, high) in windows.items():
            inside = [(latency, status) for t, latency, status in samples if low <= t < high]
            ok = [latency for latency, status in inside if status == 200]
            result["short_request_ms"][name] = {"requests": len(inside), "non_200": len(inside) - len(ok),
                                                "p50": percentile(ok, 0.5), "p99": percentile(ok, 0.99),
                                                "max": percentile(ok, 1.0)}
    print(json.dumps(result), flush=True)


def probe(port, key, model, interval, path):
    body = json.dumps({"model": model, "max_tokens": 12,
                       "messages": [{"role": "user", "content": "a short request"}]})
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    interval = float(interval)
    connection = None
    with open(path, "w", buffering=1) as out:
        while True:
            start = time.monotonic()
            status = 0
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
                connection.request("POST", "/v1/chat/completions", body, headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                if connection is not None:
                    connection.close()
                connection = None
            latency = (time.monotonic() - start) * 1000
            out.write(f"{start:.6f} {latency:.3f} {status}\n")
            time.sleep(max(0.0, interval - latency / 1000))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "probe":
        return probe(*sys.argv[2:7])
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["streams"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/v1/chat/completions")
    parser.add_argument("--key", default="none")
    parser.add_argument("--model", default="drip-stream")
    parser.add_argument("--max-tokens", type=int, default=1000)
    parser.add_argument("--streams", type=int, default=5000)
    parser.add_argument("--expect-events", type=int, default=0, help="data: events a complete stream carries")
    parser.add_argument("--deadline", type=float, default=120)
    parser.add_argument("--connect-concurrency", type=int, default=256)
    parser.add_argument("--watch-pid", type=int)
    parser.add_argument("--probe-port", type=int)
    parser.add_argument("--probe-key", default="none")
    parser.add_argument("--probe-model", default="gpt-4o-mini")
    parser.add_argument("--probe-interval", type=float, default=0.02)
    parser.add_argument("--probe-baseline", type=float, default=5)
    parser.add_argument("--probe-out")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(streams(args))


if __name__ == "__main__":
    main()
