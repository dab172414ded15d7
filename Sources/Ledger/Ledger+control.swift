/// The cluster's control stream: users, groups, prices, channels, routing,
/// webhooks, token lifecycle and credits, appended in one linearizable order
/// through PostgreSQL, so two nodes never both create one username or both
/// delete and edit one token. Charges stay in each node's own stream.
package enum ControlLog {
    package static let stream = "control"
    /// What node streams are called: `node:NAME`, appended to by that node alone.
    package static let nodeStreamPrefix = "node:"

    /// The stream of the node named `name`.
    package static func stream(ofNode name: String) -> String { nodeStreamPrefix + name }

    /// Whether events of `type` are control changes (everything an operator or
    /// user changes), as opposed to what a node's relay and upkeep write.
    package static func isControl(_ type: EventType) -> Bool {
        switch type {
        case .userCreated, .userUpdated, .balanceCredited, .balanceAdjusted, .groupSet, .groupRemoved, .priceSet, .priceRemoved,
            .channelSet, .channelRemoved, .tokenCreated, .tokenUpdated, .tokenDisabled, .tokenEnabled, .tokenRegenerated, .tokenDeleted,
            .tokenToppedUp, .webhookSet, .webhookRemoved, .lowBalanceSet, .routingSet,
            .leaseGranted, .leaseReturned, .nodeForgotten:
            true
        default:
            false
        }
    }
}

/// The control stream as the ledger drives it; the `Cluster` target implements it on PostgreSQL.
package protocol ControlStreamClient: Sendable {
    /// Starts a compare-and-append: the stream's head locked, and the events after `position`.
    func begin(after position: UInt64) async throws -> any ControlAppend
}

/// One compare-and-append in progress: the head is locked until `commit` or `rollback`.
package protocol ControlAppend: Sendable {
    var head: (seq: UInt64, hash: Hash256) { get }
    /// The control events after the position `begin` was given, up to `head`.
    var newer: [MirroredEvent] { get }
    /// Appends `sealed` (each event and its stored bytes, the first right after `head`) and commits.
    func commit(_ sealed: [(envelope: Envelope, stored: [UInt8])]) async throws
    func rollback() async
}

/// A control change that could not be made now: PostgreSQL unreachable, or
/// this node behind the control stream. Nothing changed; the management API
/// answers 503, and the relay keeps serving.
package struct ControlUnavailable: Error, CustomStringConvertible {
    package var reason: String

    package init(_ reason: String) { self.reason = reason }

    package var description: String { "control changes are unavailable: \(reason)" }
}

extension Ledger {
    /// Makes this ledger a cluster node's: control changes go through `client`.
    package func joinControl(_ client: any ControlStreamClient) { control = client }

    /// Whether `events` go through the control stream rather than straight into the log.
    func isControlled(_ events: [Event]) -> Bool {
        control != nil && events.contains { ControlLog.isControl($0.type) }
    }

    /// A control change by compare-and-append: the control stream's head
    /// locked, every control event up to it applied here, `command` checked
    /// against that state, its events appended after the head and committed,
    /// then applied here as copies of the control stream. Two nodes changing
    /// one thing at once are serialised by the lock, and the second one's
    /// command sees the first one's change (a username taken: 409).
    func controlled(by actor: EventActor, _ command: (LedgerState) throws(Rejection) -> [Event]) async throws -> [Envelope] {
        guard let control else { preconditionFailure("a control change outside cluster mode") }
        let append: any ControlAppend
        do {
            append = try await control.begin(after: try mirrorPosition(ControlLog.stream))
        } catch let error as ControlUnavailable {
            throw error
        } catch {
            throw ControlUnavailable("the cluster's PostgreSQL cannot be reached (\(error))")
        }
        let sealed: [(envelope: Envelope, stored: [UInt8])]
        do {
            try await mirror(append.newer, stream: ControlLog.stream, readThrough: append.head.seq)
            guard try mirrorPosition(ControlLog.stream) == append.head.seq else {
                throw ControlUnavailable("this node is still applying the cluster's control stream; retry in a moment")
            }
            let events = try command(state)
            guard !events.isEmpty else {
                await append.rollback()
                return []
            }
            let time = now()
            var previous = append.head.hash
            sealed = events.enumerated().map { offset, event in
                let (envelope, stored) = Envelope.seal(
                    seq: append.head.seq + 1 + UInt64(offset), time: time, actor: actor, event: event, previous: previous)
                previous = envelope.hash
                return (envelope, stored)
            }
            try await append.commit(sealed)
        } catch let error as ControlUnavailable {
            await append.rollback()
            throw error
        } catch let error as Rejection {
            await append.rollback()
            throw error
        } catch let error as LogError {
            await append.rollback()
            throw error
        } catch {
            await append.rollback()
            throw ControlUnavailable("the cluster's PostgreSQL did not take the change (\(error))")
        }
        let copies = sealed.map { MirroredEvent(origin: MirrorIndex.Origin(stream: ControlLog.stream, seq: $0.envelope.seq), envelope: $0.envelope) }
        try await mirror(copies, stream: ControlLog.stream, readThrough: sealed.last?.envelope.seq ?? 0)
        return sealed.map(\.envelope)
    }
}
