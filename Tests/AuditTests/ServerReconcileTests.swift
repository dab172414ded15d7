import Foundation
import LMDB
import Ledger
import Testing

/// `reconcile --server` compares a running server's head with the data directory.
@Suite struct ServerReconcileTests {
    @Test func serverHeadMatchesOrNot() async throws {
        let scripted = try await ScriptedLedger()
        defer { scripted.remove() }
        _ = try await scripted.seed(requests: 3)
        await scripted.ledger.close()
        let head = try #require(try scripted.store.event(try scripted.store.head().seq))
        let line = EventJSON.line(head)
        let honest = try TinyHTTPServer { path, headers in
            if path == "/healthz" { return (200, #"{"status":"ok","seq":\#(head.seq)}"#) }
            guard headers["authorization"] == "Bearer admin-key" else { return (401, "{}") }
            guard path == "/api/events?after=\(head.seq - 1)&limit=1" else { return (404, "{}") }
            return (200, #"{"data":[\#(line)],"next_cursor":null}"#)
        }
        defer { honest.stop() }
        let ok = try TallyProcess.run(["reconcile", "--data", scripted.directory, "--server", honest.url, "--admin-key", "admin-key", "--json"])
        #expect(ok.status == 0, "\(ok.stdout) \(ok.stderr)")
        let server = try #require(try ok.json()["server"] as? [String: Any])
        #expect(server["hash"] as? String == head.hash.hex)

        let forged = line.replacingOccurrences(of: head.hash.hex, with: String(repeating: "0", count: 64))
        let liar = try TinyHTTPServer { path, _ in
            path == "/healthz" ? (200, #"{"status":"ok","seq":\#(head.seq)}"#) : (200, #"{"data":[\#(forged)],"next_cursor":null}"#)
        }
        defer { liar.stop() }
        let bad = try TallyProcess.run(["reconcile", "--data", scripted.directory, "--server", liar.url, "--json"])
        #expect(bad.status == 1)
        #expect((try bad.json()["findings"] as? [[String: Any]])?.contains { $0["kind"] as? String == "server" } == true)

        let ahead = try TinyHTTPServer { path, _ in (200, path == "/healthz" ? #"{"status":"ok","seq":\#(head.seq + 5)}"# : "{}") }
        defer { ahead.stop() }
        #expect(try TallyProcess.run(["reconcile", "--data", scripted.directory, "--server", ahead.url]).status == 1)
    }
}
