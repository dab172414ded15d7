import Glibc

/// The request log across a pruned log's start (Docs/auditing.md, "Older logs
/// from the archives"): the live log's rows, then, once a page goes below the
/// first kept event, the pruned periods' rows read from their archives in
/// `DATA/archive` on demand — the same rows, filters and cursors as if
/// nothing had been pruned.
///
/// The archives are trusted as far as a chain is: each one is opened once
/// (`IndexedArchive`: digest, every hash and link checked), its last hash must
/// be the live log's anchor or the next archive's first previous hash, and a
/// file replaced or changed since is opened again. A missing or unsound
/// archive is an error (`Failure`), never a short answer.
///
/// An actor: one page at a time reads the archives, so memory holds one
/// frame (two when a record straddles frames) whatever their size.
package actor ArchivedLog {
    package struct Page: Sendable {
        package var entries: [LogEntry]
        /// Continue below this sequence number; nil when nothing older can match.
        package var next: UInt64?
        /// The routing strategy the archives recorded for the rows' requests
        /// (the live index has none for pruned requests).
        package var routing: [String: RoutingStrategy]
    }

    /// Why the pruned part cannot be read: the rows are not served rather than served short.
    package struct Failure: Error, CustomStringConvertible {
        package var description: String
    }

    package let directory: String
    private var opened: [String: IndexedArchive] = [:]

    package init(directory: String) { self.directory = directory }

    /// Up to `limit` rows matching `query` with seq < `before` (nil: from the
    /// head), newest first: `LogReader.page` while the live log has rows, then
    /// the archives. `scanBudget` bounds the events one call reads (live, then
    /// archived, by whole frames).
    package func page(
        _ query: LogQuery, before: UInt64?, limit: Int, live: LogReader, scanBudget: Int = LogReader.defaultScanBudget
    ) throws -> Page {
        guard let start = try live.start(), start.isPruned else {
            let page = try live.page(query, before: before, limit: limit, scanBudget: scanBudget)
            return Page(entries: page.entries, next: page.next, routing: [:])
        }
        var entries: [LogEntry] = []
        var routing: [String: RoutingStrategy] = [:]
        if before.map({ $0 > start.first }) ?? true {
            // A close whose reservation was pruned takes its model from the archives, so the model is matched here.
            var liveQuery = query
            liveQuery.model = nil
            let page = try live.page(liveQuery, before: before, limit: limit, scanBudget: scanBudget)
            entries = try withPrunedReservations(page.entries, start: start).filter(query.matches)
            if let next = page.next { return Page(entries: entries, next: next, routing: [:]) }
            guard try mayReachArchives(query, live: live, start: start) else { return Page(entries: entries, next: nil, routing: [:]) }
            if entries.count >= limit { return Page(entries: entries, next: start.first, routing: [:]) }
        }
        let archived = try archivedPage(
            query, before: min(before ?? start.first, start.first), limit: limit - entries.count, start: start, scanBudget: scanBudget)
        entries += archived.entries
        routing = archived.routing
        return Page(entries: entries, next: archived.next, routing: routing)
    }

    /// Whether rows older than the live log can match: not when the query is
    /// one request whose reservation is live (every event of it is then live),
    /// nor when `from` is after the first kept event (times never decrease).
    private func mayReachArchives(_ query: LogQuery, live: LogReader, start: LogReader.Start) throws -> Bool {
        if let requestID = query.requestID, try live.reservation(requestID: requestID) != nil { return false }
        if let from = query.from, let (first, _) = try live.stored([start.first]).first, from > first.time { return false }
        return true
    }

    /// The live rows with the reservations the prune removed (a void, expiry
    /// or adjustment of a request reserved before the log's start), from the archives.
    private func withPrunedReservations(_ entries: [LogEntry], start: LogReader.Start) throws -> [LogEntry] {
        let wanted = Set(entries.filter(Self.wantsReservation).compactMap(\.envelope.event.requestID))
        guard !wanted.isEmpty else { return entries }
        let found = try reservations(of: wanted, before: start.first, start: start)
        return entries.map { entry in
            var entry = entry
            if Self.wantsReservation(entry), let id = entry.envelope.event.requestID { entry.reservation = found[id] }
            return entry
        }
    }

    /// A row that shows its reservation's model and stream flag and has not found it.
    private static func wantsReservation(_ entry: LogEntry) -> Bool {
        if case .chargeSettled = entry.envelope.event { return false }
        return entry.reservation == nil && entry.envelope.event.requestID != nil
    }

    /// The archived rows below `before` (at most the first kept event), a frame at a time, newest first.
    private func archivedPage(_ query: LogQuery, before: UInt64, limit: Int, start: LogReader.Start, scanBudget: Int) throws -> Page {
        var entries: [LogEntry] = []
        var routing: [String: RoutingStrategy] = [:]
        var upper = before  // exclusive
        var scanned = 0
        while upper > 1 {
            let archive = try self.archive(containing: upper - 1, start: start)
            var index = archive.frame(containing: upper - 1)
            // Frames that start after `to` hold no row in range (times never decrease).
            if let to = query.to, archive.frames[index].firstTime > to {
                guard let last = archive.frame(startingAtOrBefore: to) else {
                    upper = archive.first
                    continue
                }
                index = last
                upper = archive.frames[last + 1].firstSeq
            }
            let frame = archive.frames[index]
            var rows: [LogEntry] = []
            var reserved: [String: ChargeReserved] = [:]
            var older = true
            // One event past the window: the `request.routed` written right after its newest close.
            try read(archive, frame: index, through: upper) { envelope in
                switch envelope.event {
                case .chargeReserved(let e): reserved[e.requestID] = reserved[e.requestID] ?? e
                case .requestRouted(let e): routing[e.requestID] = e.strategy
                default: break
                }
                guard envelope.seq < upper else { return }
                scanned += 1
                if let from = query.from, envelope.time < from {
                    older = false
                    return
                }
                guard query.matchesEvent(envelope) else { return }
                var row = LogEntry(envelope: envelope)
                if Self.wantsReservation(row), let id = envelope.event.requestID { row.reservation = reserved[id] }
                rows.append(row)
            }
            let wanted = Set(rows.filter(Self.wantsReservation).compactMap(\.envelope.event.requestID))
            if !wanted.isEmpty {
                let found = try reservations(of: wanted, before: frame.firstSeq, start: start)
                for i in rows.indices where Self.wantsReservation(rows[i]) { rows[i].reservation = found[rows[i].envelope.event.requestID!] }
            }
            entries += rows.filter(query.matches).reversed()
            upper = frame.firstSeq
            if entries.count > limit {
                entries.removeLast(entries.count - limit)
                return Page(entries: entries, next: entries.last!.envelope.seq, routing: Self.only(routing, of: entries))
            }
            guard older, upper > 1 else { break }
            if scanned >= scanBudget { return Page(entries: entries, next: upper, routing: Self.only(routing, of: entries)) }
        }
        return Page(entries: entries, next: nil, routing: Self.only(routing, of: entries))
    }

    private static func only(_ routing: [String: RoutingStrategy], of entries: [LogEntry]) -> [String: RoutingStrategy] {
        let ids = Set(entries.compactMap(\.envelope.event.requestID))
        return routing.filter { ids.contains($0.key) }
    }

    /// The first reservation before `before` of each request in `requestIDs`,
    /// searched frame by frame backwards through the archives until each is
    /// found or the chain's start. A void follows its reservation within
    /// seconds, so this reads a frame or two; an adjustment may go back further.
    private func reservations(of requestIDs: Set<String>, before: UInt64, start: LogReader.Start) throws -> [String: ChargeReserved] {
        var found: [String: ChargeReserved] = [:]
        var upper = before
        while upper > 1, found.count < requestIDs.count {
            let archive = try self.archive(containing: upper - 1, start: start)
            let index = archive.frame(containing: upper - 1)
            var inFrame: [String: ChargeReserved] = [:]
            try read(archive, frame: index, through: upper - 1) { envelope in
                if case .chargeReserved(let e) = envelope.event, requestIDs.contains(e.requestID), found[e.requestID] == nil,
                    inFrame[e.requestID] == nil
                {
                    inFrame[e.requestID] = e
                }
            }
            found.merge(inFrame) { _, older in older }
            upper = archive.frames[index].firstSeq
        }
        return found
    }

    /// The archive holding event `seq`, reached from the live log's anchor down
    /// the chain of archives: each must be in the directory, check out, and end
    /// on the hash the one after it (or the live log) starts from.
    private func archive(containing seq: UInt64, start: LogReader.Start) throws -> IndexedArchive {
        let files = try archiveFiles()
        var through = start.first - 1
        var expected = start.anchor
        while true {
            guard let (first, path) = files[through] else {
                throw Failure(
                    description:
                        "events up to \(through) were pruned, and no archive of them is in \(directory): copy the archives back (`tally verify --archive DIR` checks them)"
                )
            }
            let archive = try open(path)
            guard archive.first == first, archive.through == through else {
                throw Failure(description: "\(path) holds events \(archive.first)…\(archive.through), not what its name says")
            }
            guard archive.lastHash == expected else {
                throw Failure(
                    description:
                        "\(path) does not link into the chain: its last hash is not the hash the event after it names (`tally verify --archive \(directory)`)"
                )
            }
            if first <= seq { return archive }
            through = first - 1
            expected = archive.firstPrevious
        }
    }

    /// `IndexedArchive.read`; an archive that fails it is forgotten (opened
    /// and checked again next time) and the failure is a `Failure`.
    private func read(_ archive: IndexedArchive, frame: Int, through last: UInt64, _ visit: (Envelope) throws -> Void) throws {
        do {
            try archive.read(frame: frame, through: last, visit)
        } catch {
            opened[archive.path] = nil
            throw Failure(description: "\(archive.path): \(error)")
        }
    }

    /// The archive at `path`, indexed, from the cache while the file is the one indexed.
    private func open(_ path: String) throws -> IndexedArchive {
        if let cached = opened[path], (try? FileIdentity(path: path)) == cached.identity { return cached }
        opened[path] = nil
        do {
            let archive = try IndexedArchive(path: path)
            opened[path] = archive
            return archive
        } catch {
            throw Failure(description: "\(path): \(error)")
        }
    }

    /// The archives in the directory by their last event: `events-FIRST-THROUGH.archive`.
    private func archiveFiles() throws -> [UInt64: (first: UInt64, path: String)] {
        guard let handle = opendir(directory) else {
            throw Failure(description: "the log was pruned, and its archives' directory \(directory) cannot be read (errno \(errno))")
        }
        defer { closedir(handle) }
        var files: [UInt64: (first: UInt64, path: String)] = [:]
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasPrefix("events-"), name.hasSuffix(".archive") else { continue }
            let numbers = name.dropFirst("events-".count).dropLast(".archive".count).split(separator: "-")
            guard numbers.count == 2, let first = UInt64(numbers[0]), let through = UInt64(numbers[1]) else { continue }
            files[through] = (first, directory + "/" + name)
        }
        return files
    }
}
