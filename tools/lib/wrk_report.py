#!/usr/bin/env python3
"""Reads wrk output for tools/bench-relay; prints a human line and a JSON line per run,
and the figures of issue #10 at the end.

  wrk_report.py run NAME WRK_OUTPUT RESULTS.jsonl CONNECTIONS CLK_TCK [LABEL=TICKS ...]
      LABEL=TICKS: a process's utime+stime delta (clock ticks) over the run, e.g.
      tally=812 nginx_worker=40; each becomes cpu_us_per_request.LABEL
      = ticks * 1e6 / CLK_TCK / requests completed in the run. The label `tally` is
      the measured server process: Tally, or one of the floors (`tally bench
      proxy-floor` / `nio-floor`) in their runs.
  wrk_report.py summary RESULTS.jsonl FSYNC.json
"""
import json
import re
import sys

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def ms(text):
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    return round(float(match.group(1)) * UNITS[match.group(2)], 4) if match else None


def parse(path):
    text = open(path).read()
    result = {"requests": 0, "seconds": None, "rps": None, "p50_ms": None, "p99_ms": None,
              "non2xx": 0, "socket_errors": 0}
    match = re.search(r"(\d+) requests in ([0-9.]+)(ms|s|m)", text)
    if match:
        result["requests"] = int(match.group(1))
        result["seconds"] = ms(match.group(2) + match.group(3)) / 1000.0
    match = re.search(r"Requests/sec:\s+([0-9.]+)", text)
    if match:
        result["rps"] = float(match.group(1))
    for label, key in (("50%", "p50_ms"), ("99%", "p99_ms")):
        match = re.search(r"^\s+" + re.escape(label) + r"\s+(\S+)", text, re.M)
        if match:
            result[key] = ms(match.group(1))
    match = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if match:
        result["non2xx"] = int(match.group(1))
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if match:
        result["socket_errors"] = sum(int(g) for g in match.groups())
    return result


def run(name, path, results, connections, clk_tck, *cpu):
    figure = {"bench": "relay", "run": name, "connections": int(connections)}
    figure.update(parse(path))
    per_request = {}
    for item in cpu:
        label, ticks = item.split("=", 1)
        if figure["requests"]:
            per_request[label] = round(int(ticks) * 1e6 / int(clk_tck) / figure["requests"], 1)
    if per_request:
        figure["cpu_us_per_request"] = per_request
    with open(results, "a") as out:
        out.write(json.dumps(figure) + "\n")
    cpu_text = "".join(f"  cpu {label} {value:g} µs/req" for label, value in per_request.items())
    print(f"{name:<24} c={connections:<3} rps={figure['rps']}  p50={figure['p50_ms']} ms  p99={figure['p99_ms']} ms"
          f"  requests={figure['requests']}  non2xx={figure['non2xx']}  socket_errors={figure['socket_errors']}{cpu_text}")
    print(json.dumps(figure), flush=True)


def summary(results, fsync_path):
    runs = {}
    for line in open(results):
        figure = json.loads(line)
        runs[figure["run"]] = figure
    fsync = json.load(open(fsync_path))
    lines = []

    def ratio(a, b):
        if a in runs and b in runs and runs[a]["rps"] and runs[b]["rps"]:
            return round(runs[a]["rps"] / runs[b]["rps"], 3)
        return None

    out = {"bench": "relay", "figure": "issue10"}
    for kind in ("plain", "stream"):
        for mode in ("durable", "relaxed"):
            value = ratio(f"tally-{mode}-{kind}", f"nginx-proxy-{kind}")
            out[f"{kind}_{mode}_over_nginx_proxy"] = value
            lines.append(f"{kind:<6} throughput, Tally {mode} ÷ nginx proxy: {value} (target ≥ 0.3)")
        value = ratio(f"floor-{kind}", f"nginx-proxy-{kind}")
        out[f"{kind}_floor_over_nginx_proxy"] = value
        lines.append(f"{kind:<6} throughput, bare Hummingbird + AsyncHTTPClient proxy (the stack's floor) ÷ nginx proxy: {value}")
        value = ratio(f"nio-floor-{kind}", f"nginx-proxy-{kind}")
        out[f"{kind}_nio_floor_over_nginx_proxy"] = value
        lines.append(f"{kind:<6} throughput, NIO channel-handler proxy ÷ nginx proxy: {value}")
        value = ratio(f"nginx-proxy-{kind}", f"direct-{kind}")
        out[f"{kind}_nginx_proxy_over_direct"] = value
        lines.append(f"{kind:<6} throughput, nginx proxy ÷ direct: {value}")
    direct = runs.get("direct-latency", {}).get("p50_ms")
    for mode in ("durable", "relaxed"):
        tally = runs.get(f"tally-{mode}-latency", {}).get("p50_ms")
        added = round(tally - direct, 4) if tally is not None and direct is not None else None
        out[f"added_p50_ms_{mode}"] = added
    floor = runs.get("floor-latency", {}).get("p50_ms")
    out["added_p50_ms_floor"] = round(floor - direct, 4) if floor is not None and direct is not None else None
    nio = runs.get("nio-floor-latency", {}).get("p50_ms")
    out["added_p50_ms_nio_floor"] = round(nio - direct, 4) if nio is not None and direct is not None else None
    proxy = runs.get("nginx-proxy-latency", {}).get("p50_ms")
    out["added_p50_ms_nginx_proxy"] = round(proxy - direct, 4) if proxy is not None and direct is not None else None
    out["fsync_p50_ms"] = fsync.get("fdatasync_p50_ms")
    out["ledger_commit_ms"] = fsync.get("ledger_commit_ms")
    lines.append(f"added p50 at 1 connection: Tally relaxed {out['added_p50_ms_relaxed']} ms (target ≤ 0.15), "
                 f"durable {out['added_p50_ms_durable']} ms (target ≤ relaxed + one fsync = "
                 f"{round(out['added_p50_ms_relaxed'] + out['fsync_p50_ms'], 4) if out['added_p50_ms_relaxed'] is not None and out['fsync_p50_ms'] is not None else None} ms), "
                 f"nginx proxy {out['added_p50_ms_nginx_proxy']} ms, the stack's floor {out['added_p50_ms_floor']} ms, "
                 f"NIO channel-handler proxy {out['added_p50_ms_nio_floor']} ms")
    lines.append(f"one fsync, same filesystem, same run: p50 {fsync.get('fdatasync_p50_ms')} ms, p99 {fsync.get('fdatasync_p99_ms')} ms "
                 f"(4 KiB pwrite + fdatasync); one durable ledger commit {fsync.get('ledger_commit_ms')} ms, raw LMDB {fsync.get('raw_lmdb_commit_ms')} ms")
    for kind in ("plain", "stream"):
        for mode in ("durable", "relaxed"):
            value = runs.get(f"tally-{mode}-{kind}", {}).get("cpu_us_per_request", {}).get("tally")
            out[f"cpu_us_per_request_tally_{mode}_{kind}"] = value
        proxy_cpu = runs.get(f"nginx-proxy-{kind}", {}).get("cpu_us_per_request", {}).get("nginx_worker")
        direct_cpu = runs.get(f"direct-{kind}", {}).get("cpu_us_per_request", {}).get("nginx_worker")
        floor_cpu = runs.get(f"floor-{kind}", {}).get("cpu_us_per_request", {}).get("tally")
        out[f"cpu_us_per_request_floor_{kind}"] = floor_cpu
        nio_cpu = runs.get(f"nio-floor-{kind}", {}).get("cpu_us_per_request", {}).get("tally")
        out[f"cpu_us_per_request_nio_floor_{kind}"] = nio_cpu
        out[f"cpu_us_per_request_nginx_proxy_{kind}"] = proxy_cpu
        out[f"cpu_us_per_request_nginx_direct_{kind}"] = direct_cpu
        lines.append(f"{kind:<6} CPU per request at 32 connections: Tally durable {out[f'cpu_us_per_request_tally_durable_{kind}']} µs, "
                     f"relaxed {out[f'cpu_us_per_request_tally_relaxed_{kind}']} µs (target ≤ 60); nginx worker proxying "
                     f"{proxy_cpu} µs (proxy and fixed upstream in one worker; the upstream alone: {direct_cpu} µs); "
                     f"the stack's floor (bare Hummingbird + AsyncHTTPClient) {floor_cpu} µs; NIO channel-handler proxy {nio_cpu} µs")
    for line in lines:
        print(line)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    {"run": run, "summary": summary}[sys.argv[1]](*sys.argv[2:])
