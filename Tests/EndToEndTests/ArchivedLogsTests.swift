import Foundation
import Ledger
import Synchronization
import Testing

/// Older logs read from the archives (Docs/auditing.md, "Older logs from the
/// archives"), through the real binary over HTTP: a ledger closed and pruned
/// answers `GET /api/logs` and its export exactly as its never-pruned twin
/// (the same events, closed but not pruned) does, across the live/archive
/// boundary, with filters and small pages, as an admin and as a user; a
/// changed or missing archive answers 503, never other rows. Then the
/// dashboard's "Verify now" and `tally restore` on the pruned log: both check
/// its anchor against the archive.
@Suite(.serialized) struct ArchivedLogsTests {
    static let admin = PruneTests.adminKey
    static let aliceKey = "tk-" + String(repeating: "b", count: 40)
    static let alice = [("Authorization", "Bearer " + aliceKey)]

    /// A clock a second further on at every reading, from a day ago: a past the test can close.
    final class SteppingClock: Sendable {
        let now = Mutex(LedgerClock.now() - 86_400_000)
        func read() -> Int64 {
            now.withLock {
                $0 += 1_000; return $0
            }
        }
    }

    /// What the built ledger's test needs to know of it.
    struct Built: Sendable {
        var boundary: Int64 = 0
        var alice = UserID(raw: 0)
        var aliceToken = TokenID(raw: 0)
        /// Times inside the archived part and inside the live part, for `from`/`to`.
        var archivedTime: Int64 = 0
        var liveTime: Int64 = 0
    }

    /// `pairs` reserve/settle pairs (request ids `prefix-N`), alternately on the two tokens and two models, one
    /// commit; every seventh request also routed by `least_busy`.
    static func bulk(_ ledger: Ledger, prefix: String, pairs: Int, owners: [(TokenID, UserID)]) async throws {
        var events: [Event] = []
        for i in 0..<pairs {
            let (token, user) = owners[i % 2]
            let model = i % 3 == 0 ? "mock-claude" : "mock-gpt"
            let requestID = "\(prefix)-\(i)"
            let usage = Usage(promptTokens: 100 + Int64(i % 50), completionTokens: 20 + Int64(i % 9))
            let price = Seed.prices[model]!
            events.append(
                .chargeReserved(ChargeReserved(requestID: requestID, token: token, user: user, model: model, amount: 50_000, stream: false)))
            events.append(
                .chargeSettled(
                    ChargeSettled(
                        requestID: requestID, token: token, user: user, model: model, channel: nil, usage: usage,
                        credits: PriceMath.credits(for: usage, price: price, multiplier: .one), price: price, multiplier: .one,
                        estimated: false, stream: i % 4 == 0, durationMs: 300 + Int64(i % 11), status: 200)))
            if i % 7 == 0 { events.append(.requestRouted(RequestRouted(requestID: requestID, strategy: .leastBusy))) }
        }
        _ = try await ledger.commit(events, by: .relay)
    }

    /// The ledger: about 21,000 events before the boundary (four archive frames), 6,000 after; voids, expiries
    /// and adjustments on both sides, some whose reservation is frames before them or across the boundary.
    static func build(at data: String) async throws -> Built {
        let clock = SteppingClock()
        let built = Mutex(Built())
        let extra: @Sendable (Ledger, UserID) async throws -> Void = { ledger, admin in
            let alice = try await ledger.createUser(UserDraft(username: "alice"), accessKey: aliceKey, by: .system)
            _ = try await ledger.credit(alice.id, amount: 1_000_000_000_000, by: .system)
            let aliceToken = try await ledger.createToken(TokenDraft(name: "alice-token"), owner: alice.id, by: .system).token.id
            let adminToken = try await ledger.createToken(TokenDraft(name: "admin-bulk"), owner: admin, by: .system).token.id
            let owners = [(aliceToken, alice.id), (adminToken, admin)]
            // The closed period: an expiry, a reservation voided frames later, an adjustment frames after its request.
            _ = try await ledger.reserve(requestID: "x-old", token: adminToken, model: "mock-claude", amount: 700, stream: false)
            _ = try await ledger.expireDangling(policy: .void)
            let long = try await ledger.reserve(requestID: "v-long", token: aliceToken, model: "mock-claude", amount: 900, stream: true)
            var archivedTime: Int64 = 0
            for batch in 0..<10 {
                try await bulk(ledger, prefix: "b\(batch)", pairs: 1_000, owners: owners)
                if batch == 4 { archivedTime = await ledger.read { $0.time } }
            }
            try await ledger.void(long, reason: "upstream 502", status: 502)
            _ = try await ledger.adjustCharge(requestID: "b0-3", amount: -10, reason: "refund", by: .system)
            // Open across the boundary: closed in the open period.
            let straddle = try await ledger.reserve(requestID: "v-straddle", token: aliceToken, model: "mock-gemini", amount: 800, stream: true)
            _ = try await ledger.reserve(requestID: "x-straddle", token: adminToken, model: "mock-gpt", amount: 600, stream: false)
            let boundary = await ledger.read { $0.time } + 1
            for batch in 10..<13 { try await bulk(ledger, prefix: "b\(batch)", pairs: 1_000, owners: owners) }
            let liveTime = await ledger.read { $0.time }
            try await ledger.void(straddle, reason: "client left", status: 499)
            _ = try await ledger.expireDangling(policy: .void)
            _ = try await ledger.adjustCharge(requestID: "b11-6", amount: 5, reason: "surcharge", by: .system)
            built.withLock {
                $0 = Built(boundary: boundary, alice: alice.id, aliceToken: aliceToken, archivedTime: archivedTime, liveTime: liveTime)
            }
        }
        _ = try await Seed.make(at: data, mock: "http://127.0.0.1:9", balance: 1_000_000_000_000, extra: extra, clock: { clock.read() })
        return built.withLock { $0 }
    }

    /// Every row of a query, paged to the end with its cursor; nil when a page did not answer 200.
    static func rows(_ base: String, _ query: String, limit: Int, headers: [(String, String)]) async throws -> [Any]? {
        var rows: [Any] = []
        var cursor: String?
        for _ in 0..<2_000 {
            let url = base + "/api/logs?limit=\(limit)" + (query.isEmpty ? "" : "&" + query) + (cursor.map { "&cursor=" + $0 } ?? "")
            let page = try await HTTP.get(url, headers: headers)
            guard page.status == 200, let json = page.json else { return nil }
            rows += json["data"] as? [Any] ?? []
            cursor = json["next_cursor"] as? String
            if cursor == nil { return rows }
        }
        return nil
    }

    static func seqs(_ rows: [Any]) -> [Int] { rows.compactMap { ($0 as? [String: Any])?["seq"] as? Int } }

    @Test func prunedLogsReadFromTheArchivesAsTheTwinAnswers() async throws {
        let data = Seed.directory()
        let built = try await Self.build(at: data)
        let twin = Seed.directory() + "/twin"
        try FileManager.default.copyItem(atPath: data, toPath: twin)
        let until = RFC3339.format(milliseconds: built.boundary)
        let closing = try TallyCommand.run(["close", "--data", data, "--until", until, "--prune-archived", "--json"], errors: true)
        #expect(closing.status == 0, "\(closing.output)")
        let close = BooksTests.json(closing.output)
        let archive = try #require(close["archive"] as? String, "\(closing.output)")
        let first = try #require((close["pruned"] as? [String: Any])?["first"] as? Int, "\(closing.output)")
        #expect(try TallyCommand.run(["close", "--data", twin, "--until", until]).status == 0)

        let pruned = try await ServerProcess(data: data)
        let whole = try await ServerProcess(data: twin)
        let token = built.aliceToken.description
        let queries: [(String, Int, [(String, String)])] = [
            ("", 500, Self.admin),
            ("model=mock-claude", 500, Self.admin),
            ("model=mock-gemini", 3, Self.admin),
            ("token=\(token)", 500, Self.admin),
            ("user=\(built.alice)", 317, Self.admin),
            ("type=voided,expired,adjusted", 1, Self.admin),
            ("type=voided,expired,adjusted&model=mock-claude", 2, Self.admin),
            ("request=v-long", 50, Self.admin),
            ("request=b0-3", 50, Self.admin),
            ("request=v-straddle", 50, Self.admin),
            ("from=\(RFC3339.format(milliseconds: built.archivedTime))&to=\(RFC3339.format(milliseconds: built.liveTime))", 499, Self.admin),
            ("to=\(RFC3339.format(milliseconds: built.archivedTime))&type=settled", 500, Self.admin),
            ("", 500, Self.alice),
            ("model=mock-claude&type=settled,voided", 100, Self.alice),
            ("type=voided,expired,adjusted", 1, Self.alice),
        ]
        for (query, limit, headers) in queries {
            let got = try #require(try await Self.rows(pruned.baseURL, query, limit: limit, headers: headers), "\(query)")
            let want = try #require(try await Self.rows(whole.baseURL, query, limit: limit, headers: headers), "\(query)")
            #expect(!want.isEmpty, "\(query)")
            #expect(NSArray(array: got) == NSArray(array: want), "\(query): \(got.count) rows, the twin \(want.count)")
            if headers.first?.1 == Self.alice.first?.1 {
                #expect(got.allSatisfy { ($0 as? [String: Any])?["user_id"] as? String == built.alice.description }, "\(query)")
            }
        }
        // The unfiltered pages did go into the archive: rows below the first kept event, the model of a void taken from
        // a reservation frames before it, and of a live void from an archived reservation.
        let all = try #require(try await Self.rows(pruned.baseURL, "", limit: 500, headers: Self.admin))
        #expect(Self.seqs(all).contains { $0 < first } && Self.seqs(all).count > 13_000)
        let voids = try #require(try await Self.rows(pruned.baseURL, "type=voided", limit: 10, headers: Self.admin)) as? [[String: Any]]
        #expect(voids?.map { $0["model"] as? String } == ["mock-gemini", "mock-claude"], "\(voids ?? [])")

        // The export streams the same rows.
        for (query, headers) in [("format=jsonl", Self.admin), ("format=csv&model=mock-claude", Self.alice)] {
            let got = try await HTTP.get(pruned.baseURL + "/api/logs/export?" + query, headers: headers)
            let want = try await HTTP.get(whole.baseURL + "/api/logs/export?" + query, headers: headers)
            #expect(got.status == 200 && got.body == want.body && want.body.count > 100_000, "\(query): \(got.text.prefix(300))")
        }

        // A changed archive, then a missing one: 503 below the log's start, never other rows; the live rows still answer.
        let below = pruned.baseURL + "/api/logs?limit=50&cursor=\(first)"
        let bytes = try #require(FileManager.default.contents(atPath: archive))
        var altered = bytes
        altered[altered.count / 2] ^= 0x01
        try altered.write(to: URL(fileURLWithPath: archive))
        let changed = try await HTTP.get(below, headers: Self.admin)
        #expect(changed.status == 503 && changed.text.contains("archive_unavailable"), "\(changed.status) \(changed.text)")
        #expect(try await HTTP.get(pruned.baseURL + "/api/logs?limit=50&type=settled", headers: Self.admin).status == 200)
        try FileManager.default.removeItem(atPath: archive)
        let missing = try await HTTP.get(below, headers: Self.alice)
        #expect(missing.status == 503 && missing.text.contains("archive_unavailable"), "\(missing.status) \(missing.text)")
        #expect(try await Self.rows(pruned.baseURL, "", limit: 500, headers: Self.admin) == nil)
        // "Verify now" finds the missing archive, as `tally verify` does.
        let verifyRun = try await Self.verifyNow(pruned.baseURL)
        #expect(verifyRun["clean"] as? Bool == false && "\(verifyRun)".contains("unchecked"), "\(verifyRun)")
        try bytes.write(to: URL(fileURLWithPath: archive))
        let back = try #require(try await Self.rows(pruned.baseURL, "", limit: 500, headers: Self.admin))
        #expect(NSArray(array: back) == NSArray(array: all))
        let clean = try await Self.verifyNow(pruned.baseURL)
        #expect(clean["clean"] as? Bool == true, "\(clean)")
        await pruned.stop()
        await whole.stop()
    }

    /// Starts the dashboard's verify run and waits for its result.
    static func verifyNow(_ base: String) async throws -> [String: Any] {
        let started = try await HTTP.post(base + "/api/ledger/verify", headers: admin, json: [String: Any]())
        #expect(started.status == 202, "\(started.text)")
        for _ in 0..<600 {
            let status = try await HTTP.get(base + "/api/ledger/verify", headers: admin)
            if status.json?["state"] as? String == "idle", let last = status.json?["last"] as? [String: Any] { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("the verify run did not finish")
    }

    @Test func restoreChecksThePrunedLogsArchive() async throws {
        let data = Seed.directory()
        let built = try await Self.build(at: data)
        let closing = try TallyCommand.run(
            ["close", "--data", data, "--until", RFC3339.format(milliseconds: built.boundary), "--prune-archived"], errors: true)
        #expect(closing.status == 0, "\(closing.output)")
        let backup = Seed.directory() + "/backup"
        #expect(try TallyCommand.run(["backup", "--data", data, "--out", backup]).status == 0)

        // No archive beside the backup: the link to the pruned events cannot be checked, so nothing is restored.
        let refused = Seed.directory()
        let bare = try TallyCommand.run(["restore", "--from", backup, "--data", refused], errors: true)
        #expect(bare.status != 0 && bare.output.contains("does not verify"), "\(bare.output)")
        #expect(!FileManager.default.fileExists(atPath: refused + "/data.mdb"))

        // An archive that is not the one the log links to: refused too.
        let archives = data + "/archive"
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: archives).first)
        var bytes = try #require(FileManager.default.contents(atPath: archives + "/" + name))
        let forged = Seed.directory()
        try FileManager.default.createDirectory(atPath: forged, withIntermediateDirectories: true)
        bytes[bytes.count / 3] ^= 0x04
        try bytes.write(to: URL(fileURLWithPath: forged + "/" + name))
        let wrong = try TallyCommand.run(["restore", "--from", backup, "--data", refused, "--archive", forged], errors: true)
        #expect(wrong.status != 0 && wrong.output.contains("does not verify"), "\(wrong.output)")

        // With the archives beside the backup it restores, copies them, and the restored directory verifies whole.
        try FileManager.default.copyItem(atPath: archives, toPath: backup + "/archive")
        let restored = Seed.directory()
        let restore = try TallyCommand.run(["restore", "--from", backup, "--data", restored], errors: true)
        #expect(restore.status == 0 && restore.output.contains("archives copied into"), "\(restore.output)")
        let verified = try TallyCommand.run(["verify", "--data", restored], errors: true)
        #expect(verified.status == 0, "\(verified.output)")
    }
}
