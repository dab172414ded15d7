#!/usr/bin/env python3
# tools/bench-overview-http.py PORT ADMIN_KEY FROM TO N: the overview routes through HTTP (Docs/benchmarks.md,
# "Overview token views, day layer").
# Times GET /api/overview/{series,top} on one keep-alive connection: N sequential reads per view.
import http.client, json, sys, time
port, key, start, end, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
views = [
    ("series model/day", f"/api/overview/series?split=model&bucket=day&from={start}&to={end}"),
    ("series user/day", f"/api/overview/series?split=user&bucket=day&from={start}&to={end}"),
    ("series token/day", f"/api/overview/series?split=token&bucket=day&from={start}&to={end}"),
    ("series token/hour", f"/api/overview/series?split=token&bucket=hour&from={start}&to={end}"),
    ("top tokens", f"/api/overview/top?by=token&from={start}&to={end}"),
    ("top users", f"/api/overview/top?by=user&from={start}&to={end}"),
]
c = http.client.HTTPConnection("127.0.0.1", port)
h = {"Authorization": "Bearer " + key}
for name, path in views:
    c.request("GET", path, headers=h); r = c.getresponse(); body = r.read()  # warm-up (and the fold, if not done)
    assert r.status == 200, (r.status, body[:300])
    rows = len(json.loads(body).get("data", []))
    samples = []
    for _ in range(n):
        t = time.perf_counter(); c.request("GET", path, headers=h); r = c.getresponse(); body = r.read(); samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    p99 = samples[min(len(samples) - 1, -(-len(samples) * 99 // 100) - 1)]
    print(f"{name}: {rows} rows, {len(body)} bytes, p50 {samples[len(samples)//2]:.2f} ms, p99 {p99:.2f} ms over {n} reads")
