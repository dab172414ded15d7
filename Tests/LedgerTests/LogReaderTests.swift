import LMDB
import LedgerTesting
import Testing

@testable import Ledger

/// `LogReader`, the one way to read the log and its indexes, through real
/// LMDB files: request-log pages (cursors, scan budget) while events append,
/// request-id lookups with hostile ids, time search, the export walk's bounds,
/// the audit stream and the auditors' raw pass.
@Suite struct LogReaderTests {
    static let closing: Set<EventType> = [.chargeSettled, .chargeVoided, .chargeExpired, .chargeAdjusted]

    /// Alice with two tokens, Bob with one, and `count` closed requests spread over them.
    struct Scene: Sendable {
        let ledger: Ledger
        let alice: [TokenID]
        let bob: UserID
        let bobToken: TokenID
        var tokens: [TokenID] { alice + [bobToken] }

        static func make(_ f: Fixture) async throws -> Scene {
            let (a1, _) = try await f.token("a1")
            let (a2, _) = try await f.token("a2")
            let (bob, _) = try await f.ledger.createUser(UserDraft(username: "bob"), by: .system)
            _ = try await f.ledger.credit(bob.id, amount: 1_000_000, by: .system)
            let bobToken = try await f.ledger.createToken(TokenDraft(name: "b"), owner: bob.id, by: .user(bob.id)).token.id
            return Scene(ledger: f.ledger, alice: [a1.id, a2.id], bob: bob.id, bobToken: bobToken)
        }

        /// Closes request `n`: settled, or voided every fifth (whose model only its reservation knows).
        func charge(_ n: Int, model: String = Fixture.model) async throws {
            let id = "req-\(n)"
            _ = try await ledger.reserve(requestID: id, token: tokens[n % tokens.count], model: model, amount: 5, stream: n % 2 == 0)
            if n % 5 == 0 {
                try await ledger.void(requestID: id, reason: "upstream failed", status: 502)
            } else {
                _ = try await ledger.settle(requestID: id, outcome: Outcome(usage: Usage(promptTokens: 2, completionTokens: 1)))
            }
        }
    }

    /// Whether `envelope` is a row of `query`, decided without `LogReader` (model conditions aside).
    static func expected(_ envelope: Envelope, _ query: LogQuery) -> Bool {
        (query.types ?? Set(EventType.allCases)).contains(envelope.type)
            && (query.token == nil || envelope.event.tokenID == query.token)
            && (query.user == nil || envelope.event.userID == query.user)
    }

    /// Pages of the whole log, one token and one user, followed by cursor
    /// while requests keep closing (between pages and from a concurrent task):
    /// every row at or below the first page's newest appears exactly once, in
    /// descending order, and nothing newer leaks in.
    @Test(arguments: ["all", "token", "user"])
    func pagesNeitherDuplicateNorDropRowsWhileEventsAppend(_ scope: String) async throws {
        try await withFixture { f in
            let scene = try await Scene.make(f)
            for n in 0..<60 { try await scene.charge(n) }
            var query = LogQuery(types: Self.closing)
            switch scope {
            case "token": query.token = scene.alice[0]
            case "user": query.user = f.alice
            default: break
            }
            let background = Task {
                for n in 1000..<1060 { try await scene.charge(n) }
            }
            var rows: [LogEntry] = []
            var before: UInt64?
            var pages = 0
            var appended = 100
            repeat {
                let page = try f.ledger.log.page(query, before: before, limit: 5)
                #expect(page.entries.count <= 5)
                rows += page.entries
                before = page.next
                pages += 1
                // Newer requests close between this page and the next.
                for _ in 0..<2 { try await scene.charge(appended); appended += 1 }
                await Task.yield()
            } while before != nil && pages < 1000
            try await background.value
            #expect(pages > 3)

            let seqs = rows.map(\.envelope.seq)
            #expect(zip(seqs, seqs.dropFirst()).allSatisfy { $0 > $1 }, "rows must be strictly newest first, no duplicates")
            let top = try #require(seqs.first)
            let want = try allEnvelopes(f.ledger.store).filter { $0.seq <= top && Self.expected($0, query) }.map(\.seq).reversed()
            #expect(seqs == Array(want))
            #expect(
                try allEnvelopes(f.ledger.store).contains { $0.seq > top && Self.expected($0, query) },
                "requests closed while paging are newer than the first page, so never listed")
            // A void's row carries its reservation (model, stream flag); a settle repeats them itself.
            for row in rows {
                if case .chargeVoided = row.envelope.event {
                    #expect(row.reservation?.requestID == row.envelope.event.requestID)
                }
                #expect(row.model == Fixture.model)
            }
        }
    }

    /// A selective query over a long stretch returns short (even empty) pages
    /// with a cursor, each scanning at most the budget; following them finds
    /// exactly the matching rows, including a void found by its reservation's model.
    @Test func scanBudgetReturnsShortPagesWithACursor() async throws {
        try await withFixture { f in
            let scene = try await Scene.make(f)
            try await scene.charge(5, model: "other")  // voided: its model is only in the reservation
            try await scene.charge(6, model: "other")
            for n in 10..<50 { try await scene.charge(n) }
            for token in [nil, scene.alice[0]] {
                var query = LogQuery(types: Self.closing, model: "other")
                query.token = token
                var before: UInt64?
                var found: [String] = []
                var pages = 0
                var sawEmptyPageWithCursor = false
                repeat {
                    let page = try f.ledger.log.page(query, before: before, limit: 10, scanBudget: 5)
                    if page.entries.isEmpty && page.next != nil { sawEmptyPageWithCursor = true }
                    if let next = page.next, let before { #expect(next < before, "a cursor always moves down") }
                    found += page.entries.compactMap { $0.envelope.event.requestID }
                    before = page.next
                    pages += 1
                } while before != nil && pages < 1000
                #expect(sawEmptyPageWithCursor)
                #expect(pages > 2)
                let all = token == nil ? ["req-6", "req-5"] : ["req-6"]  // req-5 is bob's, req-6 alice's first token's
                #expect(found == all, "token \(token.map { "\($0)" } ?? "none")")
            }
            // With room to spare, a single page answers and says nothing older can match.
            let whole = try f.ledger.log.page(LogQuery(types: Self.closing, model: "other"), before: nil, limit: 10)
            #expect(whole.entries.count == 2 && whole.next == nil)
        }
    }

    /// A full page stops at `limit` and continues below its last row.
    @Test func aFullPageContinuesBelowItsLastRow() async throws {
        try await withFixture { f in
            let scene = try await Scene.make(f)
            for n in 0..<6 { try await scene.charge(n) }
            let query = LogQuery(types: Self.closing, user: scene.bob)
            let first = try f.ledger.log.page(query, before: nil, limit: 1)
            #expect(first.entries.count == 1)
            #expect(first.next == first.entries.first?.envelope.seq)
            let rest = try f.ledger.log.page(query, before: first.next, limit: 10)
            #expect(rest.entries.count == 1 && rest.next == nil)
            #expect(rest.entries.allSatisfy { $0.envelope.event.userID == scene.bob })
        }
    }

    /// Only exactly the id asked for: "ab" never sees "abc"'s events, and ids
    /// no event could be indexed under (empty, longer than an LMDB key) answer
    /// nothing instead of an LMDB error.
    @Test func requestIDLookupsWithHostileIDs() async throws {
        try await withFixture { f in
            let (token, _) = try await f.token()
            _ = try await f.ledger.reserve(requestID: "abc", token: token.id, model: Fixture.model, amount: 5, stream: true)
            _ = try await f.ledger.settle(requestID: "abc", outcome: Outcome(usage: Usage(promptTokens: 1)))
            _ = try await f.ledger.reserve(requestID: "abcd", token: token.id, model: "other", amount: 5, stream: false)
            let log = f.ledger.log
            #expect(try log.events(requestID: "ab").isEmpty)
            #expect(try log.reservation(requestID: "ab") == nil)
            #expect(try log.events(requestID: "abc").map(\.type) == [.chargeReserved, .chargeSettled])
            #expect(try log.events(requestID: "abcd").map(\.type) == [.chargeReserved])
            #expect(try log.reservation(requestID: "abc")?.stream == true)
            #expect(try log.reservation(requestID: "abcd")?.model == "other")
            for hostile in [
                "", String(repeating: "x", count: 600), String(repeating: "a", count: 503),
                String(repeating: "a", count: 504), "a", "abc\u{0}", "ab\u{FF}c", "é",
            ] {
                #expect(try log.events(requestID: hostile).isEmpty, "\(hostile.utf8.count) bytes")
                #expect(try log.reservation(requestID: hostile) == nil)
            }
        }
    }

    /// The first event at or after an instant, by binary search over event times.
    @Test func firstSeqAtOrAfterATime() async throws {
        let path = temporaryPath("reader-empty")
        defer { removeDirectory(path) }
        let empty = try LedgerStore(path: path, options: testConfiguration().environment)
        #expect(try empty.reader.firstSeq(atOrAfter: 0) == 1)

        try await withFixture { f in
            let scene = try await Scene.make(f)
            var times: [Int64] = []
            for n in 0..<12 {
                f.clock.advance(byMs: n % 3 == 0 ? 1000 : 0)  // several events share a millisecond
                times.append(f.clock.now)
                try await scene.charge(n)
            }
            let envelopes = try allEnvelopes(f.ledger.store)
            let head = try #require(envelopes.last?.seq)
            let log = f.ledger.log
            let probes = [envelopes[0].time - 1, TestClock.start] + times + times.map { $0 + 1 } + [times.last! + 10_000]
            for probe in probes {
                let want = envelopes.first { $0.time >= probe }?.seq ?? head + 1
                #expect(try log.firstSeq(atOrAfter: probe) == want, "time \(probe)")
            }
        }
    }

    /// The export walk: oldest first; `from` inclusive; an exclusive end
    /// (`end(before:)`, as `tally export --to`) drops events at that very
    /// millisecond, where the API's inclusive `to` keeps them.
    @Test func exportWalkBoundsAndFilters() async throws {
        try await withFixture { f in
            let scene = try await Scene.make(f)
            var times: [Int64] = []
            for n in 0..<9 {
                f.clock.advance(byMs: 1000)
                times.append(f.clock.now)
                try await scene.charge(n)
            }
            let all = try allEnvelopes(f.ledger.store)
            let log = f.ledger.log
            func walk(_ query: LogQuery) throws -> [UInt64] {
                var seqs: [UInt64] = []
                try log.forEach(matching: query) { seqs.append($0.seq) }
                return seqs
            }

            var exclusive = LogQuery(from: times[2])
            exclusive.end(before: times[5])
            #expect(try walk(exclusive) == all.filter { $0.time >= times[2] && $0.time < times[5] }.map(\.seq))
            #expect(try walk(exclusive).allSatisfy { seq in all[Int(seq) - 1].time != times[5] })
            let inclusive = LogQuery(from: times[2], to: times[5])
            #expect(try walk(inclusive) == all.filter { $0.time >= times[2] && $0.time <= times[5] }.map(\.seq))
            #expect(try walk(inclusive).count > walk(exclusive).count)

            #expect(try walk(LogQuery()) == all.map(\.seq))
            let typed = LogQuery(types: [.chargeReserved, .chargeVoided], token: scene.alice[1])
            #expect(try walk(typed) == all.filter { Self.expected($0, typed) }.map(\.seq))
            #expect(try walk(LogQuery(user: scene.bob)) == all.filter { $0.event.userID == scene.bob }.map(\.seq))
            #expect(try walk(LogQuery(requestID: "req-5")) == all.filter { $0.event.requestID == "req-5" }.map(\.seq))
            #expect(try walk(LogQuery(requestID: "req-")).isEmpty)
            // A model condition takes a void's model from its reservation.
            let voids = LogQuery(types: [.chargeVoided], model: Fixture.model)
            #expect(try walk(voids) == all.filter { $0.type == .chargeVoided }.map(\.seq))
            #expect(try walk(LogQuery(types: [.chargeVoided], model: "other")).isEmpty)
            var past = LogQuery()
            past.end(before: times[0] - 1000)
            #expect(try walk(past) == all.filter { $0.time < times[0] - 1000 }.map(\.seq))
        }
    }

    /// The audit stream: oldest first after a sequence number, bounded by `limit`.
    @Test func eventsAfterASequenceNumber() async throws {
        try await withFixture { f in
            let all = try allEnvelopes(f.ledger.store)
            let log = f.ledger.log
            #expect(try log.events(after: 0, limit: 3).map(\.seq) == [1, 2, 3])
            #expect(try log.events(after: 2, limit: 1000) == Array(all.dropFirst(2)))
            #expect(try log.events(after: UInt64(all.count), limit: 10).isEmpty)
            #expect(try log.events(after: UInt64.max, limit: 10).isEmpty)
            #expect(try log.events(after: UInt64.max - 1, limit: 10).isEmpty)
        }
    }

    /// The auditors' raw pass: every stored event in order, stoppable, then `finish` in the same transaction.
    @Test func rawPassVisitsEveryEventInOrder() async throws {
        try await withFixture { f in
            let store = f.ledger.store
            let head = try store.head().seq
            var seqs: [UInt64] = []
            let counted = try store.reader.walk(
                visit: { _, seq, value in
                    #expect(!value.isEmpty)
                    seqs.append(try #require(seq))
                    return true
                }, finish: { txn in try txn.count(store.events) })
            #expect(seqs == Array(1...head))
            #expect(counted == Int(head))
            var visited = 0
            try store.reader.walk(
                visit: { _, _, _ in
                    visited += 1; return visited < 2
                }, finish: { _ in })
            #expect(visited == 2)
        }
    }
}
