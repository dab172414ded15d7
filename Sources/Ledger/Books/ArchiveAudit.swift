/// `tally verify --archive`: checks sealed archives (`BookArchive`) with no
/// ledger beside them — the file's digest, every event's hash and link, the
/// close's totals recomputed from the archive's events, and, when the
/// archives run from event 1, every balance and token's use by replaying
/// them. Archives are checked in chain order, each linking to the one before;
/// `link(to:)` then ties them to the live log.
package struct ArchiveAudit {
    /// What one archive held, once checked.
    package struct Sealed: Sendable {
        package var path: String
        package var first: UInt64
        package var through: UInt64
        package var closeSeq: UInt64
        package var lastHash: Hash256
        package var closeValue: [UInt8]
        package var closed: BooksClosed
    }

    package private(set) var findings = FindingList()
    package private(set) var sealed: [Sealed] = []
    /// The state replayed through the archives so far; nil unless they start at event 1.
    private var state: LedgerState?
    private var previousHash: Hash256?
    private let fromStart: Bool

    /// `fromStart`: the archives checked must begin at event 1 (a directory holds the whole closed chain).
    package init(fromStart: Bool) { self.fromStart = fromStart }

    /// Whether the balances and token use were checked (the archives replayed from event 1).
    package var replayedBalances: Bool { state != nil }

    /// Checks the archive at `path`; throws only when it cannot be read.
    /// `visit` is handed each archived event in order (a pruned period's logs,
    /// `tally export --archive`); trust them only once `findings` is empty.
    package mutating func check(path: String, visit: (Envelope) throws -> Void = { _ in }) throws {
        do {
            try check(ArchiveReader(path: path), visit: visit)
        } catch let error as BackupError {
            throw error
        } catch {
            findings.add(.archive, "\(path): \(error)")
        }
    }

    private mutating func check(_ archive: ArchiveReader, visit: (Envelope) throws -> Void) throws {
        let path = archive.path, first = archive.first, through = archive.through, closeSeq = archive.closeSeq
        if sealed.isEmpty, first == 1 { state = LedgerState() }
        if sealed.isEmpty, fromStart, first != 1 {
            findings.add(.archive, "\(path): the first archive starts at event \(first): the archives before it are missing")
        }
        if let last = sealed.last, first != last.through + 1 {
            findings.add(.archive, "\(path): starts at event \(first), but the archive before it ends at \(last.through)")
            state = nil
        }
        var totals = BooksTotals()
        var previous = previousHash
        try archive.events { seq, value in
            try checkLink(value, seq: seq, previous: &previous, path: path)
            let envelope = try Envelope.decode(seq: seq, from: value)
            try visit(envelope)
            totals.add(envelope.event)
            if state != nil {
                do { try state!.apply(envelope) } catch {
                    findings.add(.archive, seq: seq, "\(path): does not replay: \(error)")
                    state = nil
                }
            }
            return true
        }
        let closeValue = try archive.closeValue()
        var closePrevious: Hash256? = nil
        try closeValue.withUnsafeBytes { try checkLink($0, seq: closeSeq, previous: &closePrevious, path: path) }
        guard case .booksClosed(let closed) = try closeValue.withUnsafeBytes({ try Envelope.decode(seq: closeSeq, from: $0) }).event else {
            throw ArchiveError("its last record (event \(closeSeq)) is not a books.closed")
        }
        let lastHash = previous ?? .zero
        // The close it must follow: the archive before it, none at the start of the chain, else as it says.
        let expected =
            if let last = sealed.last { ClosedBooks(lastClose: last.closeSeq, through: last.through) } else if first == 1 {
                ClosedBooks()
            } else { ClosedBooks(lastClose: closed.previous, through: closed.previousThrough) }
        let replayed = state.map { BooksClosing.close($0, totals: totals, periodEnd: closed.periodEnd, previous: expected) }
        var recomputed =
            replayed
            ?? BooksClosed(
                periodEnd: closed.periodEnd, through: through, throughHash: lastHash, previous: expected.lastClose,
                previousThrough: expected.through, totals: totals, users: closed.users, tokens: closed.tokens)
        recomputed.throughHash = lastHash
        if closed.first != first {
            findings.add(.archive, seq: closeSeq, "\(path): the close starts at event \(closed.first), the archive at \(first)")
        }
        for difference in BooksClosing.differences(closed, recomputed) { findings.add(.archive, seq: closeSeq, "\(path): \(difference)") }
        previousHash = lastHash
        sealed.append(
            Sealed(path: path, first: first, through: through, closeSeq: closeSeq, lastHash: lastHash, closeValue: closeValue, closed: closed))
    }

    /// Recomputes a stored event's hash and checks its link to `previous`
    /// (nil: the first event seen, whose own previous-hash field is taken as given).
    private mutating func checkLink(_ value: UnsafeRawBufferPointer, seq: UInt64, previous: inout Hash256?, path: String) throws {
        let link = try Self.link(of: value, seq: seq)
        if let previous, link.previous != previous {
            findings.add(.archive, seq: seq, "\(path): its previous-hash field does not match the event before it")
        }
        if !link.sound { findings.add(.archive, seq: seq, "\(path): its hash does not match its bytes: the event was altered") }
        previous = link.hash
    }

    /// A stored event's two hashes (the one before it and its own), and
    /// whether its own is its bytes' (recomputed): what every reader of an
    /// archive checks of each event it trusts.
    package static func link(of value: UnsafeRawBufferPointer, seq: UInt64) throws -> (previous: Hash256, hash: Hash256, sound: Bool) {
        guard value.count > 64 else { throw BinaryDecodingError(reason: "event \(seq) is too short", offset: 0) }
        let previous = Hash256(loading: value, at: value.count - 64), hash = Hash256(loading: value, at: value.count - 32)
        return (previous, hash, Envelope.recomputeHash(seq: seq, stored: value, previous: previous) == hash)
    }

    /// Ties the checked archives to the live log: the live chain's hash at
    /// each archive's last sequence number (the first kept event's anchor once
    /// pruned, `LogReader.chainHash`) is the archive's last hash, and the close
    /// is stored live byte for byte. What was pruned is tied through the
    /// archives' own chain.
    package mutating func link(to store: LedgerStore) throws {
        let first = try store.reader.start()?.first ?? 1
        for archive in sealed where archive.closeSeq >= first {
            if archive.through + 1 >= first {
                let hash = try store.reader.chainHash(at: archive.through)
                if hash != archive.lastHash {
                    findings.add(.archive, seq: archive.through, "\(archive.path): its last hash is not the live log's at event \(archive.through)")
                }
            }
            guard let (_, close) = try store.reader.stored([archive.closeSeq]).first else {
                findings.add(.archive, seq: archive.closeSeq, "\(archive.path): the live log does not hold its close, event \(archive.closeSeq)")
                continue
            }
            if close != archive.closeValue {
                findings.add(.archive, seq: archive.closeSeq, "\(archive.path): its close differs from the live log's event \(archive.closeSeq)")
            }
        }
    }
}
