import Crypto
import Foundation
import Ledger
import Testing

/// Closing the books end to end through the real binary (Docs/auditing.md,
/// "Closing the books"): requests relayed before and after an instant, `tally
/// close --until` that instant, the close's figures against the log, `tally
/// verify` of the live log and of the sealed archives (alone and as one chain
/// linked to the live log), the refusals (a correction into the closed
/// period, the same period twice, a period not ended), compressed archives
/// edited on purpose, a lost archive written again, a second close after a
/// snapshot, an uncompressed archive (session 8's format) in the chain, and
/// the closed period's logs read by a restarted server.
@Suite(.serialized) struct BooksTests {
    static func json(_ output: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(output.utf8))) as? [String: Any] ?? [:]
    }

    /// Settled credits by request id, the seq of each request's reservation, and the admin's balance now.
    static func facts(_ data: String, admin: UserID) async throws -> (credits: [String: Int64], reserved: [String: UInt64], balance: Int64) {
        try await Seed.inspect(data) { ledger in
            var credits: [String: Int64] = [:], reserved: [String: UInt64] = [:]
            for envelope in try ledger.log.events(after: 0, limit: 100_000) {
                switch envelope.event {
                case .chargeSettled(let e): credits[e.requestID] = e.credits
                case .chargeReserved(let e): reserved[e.requestID] = envelope.seq
                default: break
                }
            }
            return (credits, reserved, await ledger.read { $0 }.users[admin]!.balance)
        }
    }

    @Test func closeSealsVerifiesAndRefusesWritesIntoTheClosedPeriod() async throws {
        let gateway = try await Gateway.start()
        let cases = ChargingTests.cases(key: gateway.key)
        for (i, item) in cases.enumerated() {
            let response = try await HTTP.post(gateway.base + item.path, headers: item.headers + [("X-Request-Id", "bk-a\(i)")], json: item.body)
            #expect(response.status == 200, "\(item.name): \(response.text)")
        }
        try await Task.sleep(for: .milliseconds(600))
        let boundary = RFC3339.format(milliseconds: LedgerClock.now())
        try await Task.sleep(for: .milliseconds(600))
        for (i, item) in cases.prefix(3).enumerated() {
            let response = try await HTTP.post(gateway.base + item.path, headers: item.headers + [("X-Request-Id", "bk-b\(i)")], json: item.body)
            #expect(response.status == 200, "\(item.name): \(response.text)")
        }
        await gateway.stop()
        let data = gateway.data, admin = gateway.seeded.admin
        let facts = try await Self.facts(data, admin: admin)
        let before = facts.credits.filter { $0.key.hasPrefix("bk-a") }, after = facts.credits.filter { $0.key.hasPrefix("bk-b") }
        #expect(before.count == cases.count && after.count == 3)

        // The close: its figures are the log's, up to the last event before the instant.
        let closing = try TallyCommand.run(["close", "--data", data, "--until", boundary, "--json"], errors: true)
        #expect(closing.status == 0, "\(closing.output)")
        let close = Self.json(closing.output)
        let payload = try #require(close["payload"] as? [String: Any], "\(closing.output)")
        let totals = try #require(payload["totals"] as? [String: Any])
        #expect(totals["settled"] as? Int == cases.count && totals["voided"] as? Int == 0)
        #expect(totals["charged"] as? Int64 == before.values.reduce(0, +))
        let through = try #require(payload["through"] as? Int)
        #expect(UInt64(through) < facts.reserved["bk-b0"]! && UInt64(through) > facts.reserved["bk-a\(cases.count - 1)"]!)
        let users = try #require(payload["users"] as? [[String: Any]])
        let adminAtClose = try #require(users.first { $0["user"] as? String == admin.description })
        // The balance at the close is today's plus what the later requests were charged.
        #expect(adminAtClose["balance"] as? Int64 == facts.balance + after.values.reduce(0, +))
        #expect(adminAtClose["reserved"] as? Int == 0)
        let archive = try #require(close["archive"] as? String)
        #expect(archive.hasSuffix("/archive/" + String(format: "events-%012d-%012d.archive", 1, through)))
        // Format 2: deflated frames, well under the records they hold (about half on so small a period; a third on a month).
        let stored = try #require(FileManager.default.contents(atPath: archive))
        let records = try Self.formatOne(archive).count
        #expect(stored[8] == 2 && stored.count * 3 < records * 2, "\(stored.count) bytes for \(records)")

        // The live log, the archive alone, and the archives linked to the live log all verify.
        let verified = try TallyCommand.run(["verify", "--data", data], errors: true)
        #expect(verified.status == 0, "\(verified.output)")
        let alone = try TallyCommand.run(["verify", "--archive", archive, "--json"], errors: true)
        #expect(alone.status == 0, "\(alone.output)")
        #expect(Self.json(alone.output)["balances_checked"] as? Bool == true)
        let chained = try TallyCommand.run(["verify", "--data", data, "--archive", data + "/archive"], errors: true)
        #expect(chained.status == 0 && chained.output.contains("linked to the live log"), "\(chained.output)")

        // Refusals: each exit 2 with a clear reason, nothing appended.
        let head = try await Seed.inspect(data) { ledger in await ledger.read { $0 }.seq }
        let refusals: [([String], String)] = [
            (["adjust", "--data", data, "--request", "bk-a0", "--amount", "-1", "--reason", "late refund"], "in a closed period"),
            (["close", "--data", data, "--until", boundary], "already closed"),
            (["close", "--data", data, "--period", "2999-01"], "has not ended"),
            (["close", "--data", data, "--period", "2026-13"], "--period must be a month"),
        ]
        for (arguments, message) in refusals {
            let refused = try TallyCommand.run(arguments, errors: true)
            #expect(refused.status == 2, "\(arguments): \(refused.output)")
            #expect(refused.output.contains(message), "\(refused.output)")
        }
        #expect(try await Seed.inspect(data) { ledger in await ledger.read { $0 }.seq } == head)
        // A request of the open period is still corrected.
        let adjusted = try TallyCommand.run(
            ["adjust", "--data", data, "--request", "bk-b0", "--amount", "-1", "--reason", "late refund"], errors: true)
        #expect(adjusted.status == 0, "\(adjusted.output)")

        try Self.tamperedArchivesFail(archive, scratch: data)

        // An archive lost after its close (a crash between the two) is written again by the same command, and only it.
        let sealed = try #require(FileManager.default.contents(atPath: archive))
        try FileManager.default.removeItem(atPath: archive)
        let headBefore = try await Seed.inspect(data) { ledger in await ledger.read { $0 }.seq }
        let again = try TallyCommand.run(["close", "--data", data, "--until", boundary, "--json"], errors: true)
        #expect(again.status == 0, "\(again.output)")
        #expect(Self.json(again.output)["archive_only"] as? Bool == true)
        #expect(FileManager.default.contents(atPath: archive) == sealed, "the same bytes")
        #expect(try await Seed.inspect(data) { ledger in await ledger.read { $0 }.seq } == headBefore)

        // A snapshot (format 8 holds the closed books), a second close, and the two archives as one chain.
        #expect(try TallyCommand.run(["snapshot", "--data", data]).status == 0)
        try await Task.sleep(for: .milliseconds(20))
        let second = try TallyCommand.run(
            ["close", "--data", data, "--until", RFC3339.format(milliseconds: LedgerClock.now()), "--json"], errors: true)
        #expect(second.status == 0, "\(second.output)")
        let secondPayload = try #require(Self.json(second.output)["payload"] as? [String: Any])
        #expect(secondPayload["previous_through"] as? Int == through && secondPayload["first"] as? Int == through + 1)
        #expect((secondPayload["totals"] as? [String: Any])?["charge_adjustments"] as? Int == -1)
        let both = try TallyCommand.run(["verify", "--data", data, "--archive", data + "/archive", "--json"], errors: true)
        #expect(both.status == 0, "\(both.output)")
        let bothJSON = Self.json(both.output)
        #expect((bothJSON["archives"] as? [Any])?.count == 2 && bothJSON["live_log_linked"] as? Bool == true)
        #expect(try TallyCommand.run(["verify", "--data", data]).status == 0)

        // An uncompressed archive (format 1, as session 8 wrote them) still verifies, in a chain with a compressed one
        // and on its own as session 8's binary wrote it.
        try Data(try Self.formatOne(archive)).write(to: URL(fileURLWithPath: archive))
        let mixed = try TallyCommand.run(["verify", "--data", data, "--archive", data + "/archive", "--json"], errors: true)
        #expect(mixed.status == 0 && Self.json(mixed.output)["live_log_linked"] as? Bool == true, "\(mixed.output)")
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            "Fixtures/session8-format1.archive")
        let old = try TallyCommand.run(["verify", "--archive", fixture.path, "--json"], errors: true)
        #expect(old.status == 0 && Self.json(old.output)["balances_checked"] as? Bool == true, "\(old.output)")

        // A restarted server replays the closes and still shows the closed period's logs.
        let server = try await ServerProcess(data: data)
        let adminKey = [("Authorization", "Bearer tk-" + String(repeating: "a", count: 40))]
        let rows = try await HTTP.get(server.baseURL + "/api/logs?request=bk-a0", headers: adminKey)
        #expect((rows.json?["data"] as? [[String: Any]])?.first?["request_id"] as? String == "bk-a0", "\(rows.text)")
        let events = try await HTTP.get(server.baseURL + "/api/events?after=\(through)&limit=500", headers: adminKey)
        let types = (events.json?["data"] as? [[String: Any]])?.compactMap { $0["type"] as? String } ?? []
        #expect(types.filter { $0 == "books.closed" }.count == 2, "\(types)")
        await server.stop()
    }

    /// Hostile edits of a compressed archive through the binary: each fails
    /// the digest as it is and, with the digest recomputed, is refused for
    /// what it did — a changed byte in a frame's deflated bytes, a frame
    /// claiming 4 GiB (refused before anything is inflated), a cut file.
    static func tamperedArchivesFail(_ archive: String, scratch: String) throws {
        let bytes = try #require(FileManager.default.contents(atPath: archive))
        let firstFrame = 33  // past the header: the first frame's two lengths, then its zlib stream
        var flipped = bytes
        flipped[firstFrame + 8 + 10] ^= 0x01
        var bomb = bytes
        bomb.replaceSubrange((firstFrame + 4)..<(firstFrame + 8), with: [0xFF, 0xFF, 0xFF, 0xFF])
        let cut = bytes.prefix(bytes.count - 32 - 20) + bytes.suffix(32)
        let cases: [(String, Data, String)] = [
            ("a byte of the deflated body", flipped, "the frame at byte 33"),
            ("a frame claiming 4 GiB", bomb, "states 4294967295 inflated bytes, not 1…1048576: refused unread"),
            ("cut short", cut, "the archive was cut short"),
        ]
        let altered = scratch + "/altered.archive"
        for (name, edited, reason) in cases {
            try edited.write(to: URL(fileURLWithPath: altered))
            let digestFails = try TallyCommand.run(["verify", "--archive", altered], errors: true)
            #expect(digestFails.status == 1 && digestFails.output.contains("digest does not match"), "\(name): \(digestFails.output)")
            let resealed = edited.prefix(edited.count - 32) + SHA256.hash(data: edited.prefix(edited.count - 32))
            try resealed.write(to: URL(fileURLWithPath: altered))
            let refused = try TallyCommand.run(["verify", "--archive", altered], errors: true)
            #expect(refused.status == 1 && refused.output.contains(reason), "\(name): \(refused.output)")
        }
    }

    /// The archive at `path` as format 1 (session 8's, uncompressed): the
    /// header with format 1, every record as it is, then the digest.
    static func formatOne(_ path: String) throws -> [UInt8] {
        let reader = try ArchiveReader(path: path)
        var bytes = Array("TALLYARC".utf8) + [1]
        for number in [reader.first, reader.through, reader.closeSeq] { bytes += withUnsafeBytes(of: number.bigEndian, Array.init) }
        func record(_ value: some Collection<UInt8>) {
            var length = value.count
            while length >= 0x80 {
                bytes.append(UInt8(length & 0x7F) | 0x80)
                length >>= 7
            }
            bytes.append(UInt8(length))
            bytes += value
        }
        try reader.events { _, value in
            record(value)
            return true
        }
        record(try reader.closeValue())
        return bytes + SHA256.hash(data: bytes)
    }
}
