import Foundation
import Testing

/// `/metrics` scraped after a known load through the real binary shows the
/// counts the load implies, and every metric the shipped Grafana dashboard
/// and alert rules query is one the server exports.
@Suite struct MetricsScrapeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The sum of the samples of `name` whose labels contain every one of `labels` (`key="value"`).
    static func sum(_ text: String, _ name: String, _ labels: [String] = []) -> Double {
        text.split(separator: "\n").reduce(0) { total, line in
            guard !line.hasPrefix("#"), line.hasPrefix(name + "{") || line.hasPrefix(name + " ") else { return total }
            guard labels.allSatisfy({ line.contains($0) }), let value = line.split(separator: " ").last.flatMap({ Double($0) }) else { return total }
            return total + value
        }
    }

    @Test func aScrapeAfterAKnownLoadShowsItsCounts() async throws {
        // A free port is only free until someone binds it: with a hundred suites starting servers in
        // parallel, the metrics port can be taken before `tally serve` binds it (it then exits 2). Try again.
        var started: (gateway: Gateway, port: Int)?
        for attempt in 1...3 where started == nil {
            let port = try freePort()
            do {
                started = (try await Gateway.start(arguments: ["--metrics-address", "127.0.0.1:\(port)"]), port)
            } catch  where attempt < 3 {
                continue
            }
        }
        let (gateway, metricsPort) = try #require(started)
        let chat = "\(gateway.base)/v1/chat/completions"
        for _ in 0..<3 {
            let ok = try await HTTP.post(
                chat, headers: [("Authorization", "Bearer \(gateway.key)")],
                json: ["model": "mock-gpt", "messages": [["role": "user", "content": "hi"]]])
            #expect(ok.status == 200)
        }
        let failed = try await HTTP.post(
            chat, headers: [("Authorization", "Bearer \(gateway.key)")],
            json: ["model": "mock-error-500", "messages": [["role": "user", "content": "hi"]]])
        #expect(failed.status >= 500)
        let refused = try await HTTP.post(
            chat, headers: [("Authorization", "Bearer sk-" + String(repeating: "x", count: 48))], json: ["model": "mock-gpt", "messages": []])
        #expect(refused.status == 401)

        let scrape = try await HTTP.get("http://127.0.0.1:\(metricsPort)/metrics")
        #expect(scrape.status == 200)
        let text = scrape.text
        #expect(Self.sum(text, "tally_requests_closed_total", [#"model="mock-gpt""#, #"status="2xx""#]) == 3)
        #expect(Self.sum(text, "tally_requests_closed_total", [#"model="mock-error-500""#, #"status="5xx""#]) == 1)
        #expect(Self.sum(text, "tally_relay_charges_total", [#"result="settled""#]) == 3)
        #expect(Self.sum(text, "tally_relay_charges_total", [#"result="voided""#]) == 1)
        #expect(Self.sum(text, "tally_credits_charged_total", [#"model="mock-gpt""#]) > 0)
        #expect(Self.sum(text, "tally_relay_rejections_total") >= 1)
        #expect(Self.sum(text, "tally_pending_reservations") == 0)
        #expect(Self.sum(text, "tally_ledger_halted") == 0)
        let health = try await HTTP.get("\(gateway.base)/healthz")
        #expect(Self.sum(text, "tally_ledger_head_sequence") == (health.json?["seq"] as? NSNumber)?.doubleValue)
        let map = Self.sum(text, "tally_ledger_map_size_bytes")
        #expect(map > 0 && map <= Self.sum(text, "tally_ledger_map_ceiling_bytes"))
        // The writer's totals: at least one commit per request's reservation batch.
        #expect(Self.sum(text, "tally_ledger_commits_total") >= 4)
        #expect(Self.sum(text, "tally_ledger_committed_writes_total") >= Self.sum(text, "tally_ledger_commits_total"))
        #expect(Self.sum(text, "tally_ledger_commit_seconds_total") > 0)
        #expect(text.contains("tally_ledger_writer_queue_depth"))
        // Latency histograms: time to first byte and request duration by channel (a channel id, never a token),
        // admission (the four admitted requests; the refused one never got that far), and every commit.
        #expect(Self.sum(text, "tally_upstream_first_byte_seconds_count", [#"channel="ch_"#]) >= 4)
        #expect(Self.sum(text, "tally_request_duration_seconds_count", [#"channel="ch_"#]) == 4)
        #expect(Self.sum(text, "tally_admission_seconds_count") == 4)
        #expect(Self.sum(text, "tally_admission_seconds_sum") > 0)
        #expect(Self.sum(text, "tally_ledger_commit_latency_seconds_count") >= 4)
        #expect(Self.sum(text, "tally_ledger_commit_batch_jobs_count") >= 4)
        // Credits by group: the seeded token's group got every credit charged.
        let credits = Self.sum(text, "tally_credits_charged_total")
        #expect(credits > 0 && Self.sum(text, "tally_credits_charged_by_group_total", [#"group="default""#]) == credits)
        // No label is a token or a user: bounded cardinality.
        #expect(!text.contains("tok_") && !text.contains("usr_"))

        // Every tally_ metric the dashboard and the alerts query exists in the scrape.
        var queried = Set<String>()
        for file in ["Docs/grafana-dashboard.json", "Docs/alerts.yml"] {
            let source = try String(contentsOf: Self.root.appendingPathComponent(file), encoding: .utf8)
            let regex = try Regex(#"tally_[a-z_]+"#)
            for match in source.matches(of: regex) {
                var name = String(source[match.range])
                for suffix in ["_bucket", "_count", "_sum"] where name.hasSuffix(suffix) { name = String(name.dropLast(suffix.count)) }
                queried.insert(name)
            }
        }
        #expect(queried.count >= 10)
        for name in queried.sorted() {
            #expect(text.contains("\n" + name) || text.hasPrefix(name), "\(name) is queried but not exported")
        }
        await gateway.stop()
    }
}
