import Glibc
import LMDB
import Logging

/// The ledger: the projections in memory, the log on disk, and the one place
/// where commands are checked and turned into events.
///
/// An actor so that checking a command and applying its events happen as one
/// step (two reservations cannot both pass the same balance check). Events are
/// applied to the in-memory state when sealed and enqueued on the writer in the
/// same step; most callers resume only once the writer made them durable
/// (`commit`), the relay's closes as soon as they are applied (`append`, with a
/// `Durability` to wait on afterwards). Meanwhile other commands proceed, which
/// is what lets the writer gather them into one transaction. If a commit fails
/// the state is ahead of the disk, so the ledger halts (fails closed) until restart.
package actor Ledger {
    package nonisolated let store: LedgerStore
    package nonisolated let secrets: SecretStore
    /// Each channel's circuit breaker, seeded from the projection's suspensions;
    /// admission routes by it, the relay reports outcomes to it (`recordHealth`).
    package nonisolated let health: ChannelHealth
    let writer: LogWriter
    let logger: Logger
    let clock: @Sendable () -> Int64
    package let configuration: LedgerConfiguration

    /// The projections. Not public: callers read through `read { }`, which
    /// returns only the result, so no copy of the whole state leaves the actor.
    private(set) var state: LedgerState
    /// Request ids sealed but not yet durable (so not yet in `by_request`), and the newest write's handle.
    nonisolated let pending = PendingWrites()
    var halted: String?
    /// The writer's commit totals and queue depth (`/metrics`).
    package nonisolated var writerStats: LogWriter.Stats { writer.stats }
    /// Whether a failed commit stopped the writer (`/metrics` shows it; only a restart clears it).
    package var isHalted: Bool { halted != nil }
    /// Held while this ledger may write; released by `close()` (or the process's exit).
    var writerLock: WriterLock?
    var eventsSinceSnapshot: UInt64 = 0
    var rejections = RejectionCoalescer()
    package internal(set) var rates = RateWindows()
    /// Open reservations' holds on their tokens' TPM windows, by reservation sequence.
    var rateHolds: [UInt64: RateHold] = [:]
    /// Time to first byte per channel, for the `lowest_latency` strategy (fed by every close's attempts).
    var latency = ChannelLatency()
    /// Credits settled since the ledger opened, by the token's group (`/metrics`; groups are the operator's, a bounded set).
    package internal(set) var creditsChargedByGroup: [String: Int64] = [:]
    /// The last checkpoint and the hashes since (nil: the configuration writes none).
    var checkpoints: CheckpointTrail?
    /// The subjects changed since the last alert pass (`raiseAlerts`).
    var alertWatch = AlertWatch()
    /// Cluster mode: how far each other stream has been copied into this log
    /// (loaded from `mirror` on first use), and where control changes go.
    var mirrorPositions: [String: UInt64]?
    var control: (any ControlStreamClient)?
    /// Cluster mode: the escrow leases this node holds and what it used of them (nil on one node).
    var leases: LeaseBook?

    /// Opens the store, loads the newest snapshot and replays the log's tail.
    package init(
        path: String, configuration: LedgerConfiguration = LedgerConfiguration(), logger: Logger,
        clock: @escaping @Sendable () -> Int64 = LedgerClock.now
    ) throws {
        let store = try LedgerStore(path: path, options: configuration.environment)
        let lock = configuration.environment.readOnly ? nil : try WriterLock(directory: path)
        let loaded = try Replay.latest(store: store, logger: logger)
        self.store = store
        self.secrets = try SecretStore(store: store, directory: path, create: !configuration.environment.readOnly)
        self.writer = LogWriter(store: store, observe: configuration.commitObserver)
        self.logger = logger
        self.clock = clock
        self.configuration = configuration
        self.state = loaded
        self.health = ChannelHealth(policy: configuration.breaker, suspensions: loaded.suspensions)
        self.writerLock = lock
        self.rates = try Replay.recentRates(store: store, state: loaded, now: clock())
        self.checkpoints = try configuration.checkpoints.map { try store.reader.checkpointTrail(policy: $0) }
    }

    /// Flushes and stops the writer. Nothing is accepted afterwards.
    package func close() {
        writer.shutdown()
        halted = halted ?? "the ledger is closed"
        writerLock = nil
    }

    /// The current time for commands, never before the last event's.
    func now() -> Int64 { max(clock(), state.time) }

    /// Seals `events` onto the chain, applies them, and returns once durable.
    @discardableResult
    package func commit(_ events: [Event], by actor: EventActor, applied: (LedgerState) -> Void = { _ in }) async throws -> [Envelope] {
        if isControlled(events) {
            let envelopes = try await controlled(by: actor) { _ in events }
            applied(state)
            return envelopes
        }
        let (envelopes, durability) = try append(events, by: actor, applied: applied)
        try await awaitDurable(durability)
        return envelopes
    }

    /// Seals `events` onto the chain, applies them and enqueues them on the
    /// writer, in one synchronous step on the actor: jobs reach the writer in
    /// the order their sequence numbers were assigned, which `MDB_APPEND`
    /// needs. Returns as soon as the state shows the events, with the handle
    /// that resolves once they are durable. Until then a crash loses them: a
    /// caller that answers from the state before waiting accepts that (the
    /// relay's closes do; the reservation they close is durable, and startup
    /// resolves it under `--dangling-policy`). `secrets` (sealed keys the
    /// events bring) are written in the same transaction as the events.
    package func append(
        _ events: [Event], by actor: EventActor, secrets: [StoreWrite] = [], applied: (LedgerState) -> Void = { _ in }
    ) throws -> ([Envelope], Durability) {
        // A commit that failed since the last append halts the ledger before anything more is applied.
        if halted == nil, let failure = writer.failure { halted = failure }
        if let halted { throw LogError.halted(halted) }
        guard !events.isEmpty else { return ([], .durable) }
        let time = now()
        let seqBefore = state.seq
        var envelopes: [Envelope] = []
        envelopes.reserveCapacity(events.count)
        var writes = PackedWrites(events: events.count + 1)
        var requestIDs: [String] = []
        func seal(_ event: Event, by actor: EventActor) throws -> Envelope {
            let envelope = writes.seal(seq: state.seq + 1, time: time, actor: actor, event: event, previous: state.head, in: store)
            do {
                try state.apply(envelope)
            } catch {
                // A validated event that cannot be applied is a bug in a command: stop before it reaches disk.
                halted = "\(error)"
                throw LogError.halted(halted!)
            }
            checkpoints?.observe(envelope)
            alertWatch.note(envelope.event)
            return envelope
        }
        for event in events {
            let envelope = try seal(event, by: actor)
            if let requestID = envelope.event.requestID { requestIDs.append(requestID) }
            envelopes.append(envelope)
        }
        // A checkpoint that falls due rides in the same batch, after the events that made it due.
        if let checkpoint = checkpoints?.due(now: time) { _ = try seal(checkpoint, by: .system) }
        applied(state)
        #if DEBUG
            // Debug builds (every test run) check the projections' own invariants on a sample of commits.
            if state.seq % Ledger.invariantSample < UInt64(events.count) {
                let problems = state.invariantViolations()
                assert(problems.isEmpty, "projection invariants broken at event \(state.seq): \(problems)")
            }
        #endif
        eventsSinceSnapshot += state.seq - seqBefore
        let durability = Durability()
        pending.enqueued(requestIDs, durability: durability)
        writer.enqueue(events: writes, secrets) { [pending, requestIDs] result in
            pending.committed(requestIDs)
            durability.resolve(result)
        }
        return (envelopes, durability)
    }

    /// Applies an event copied from another stream of the cluster (`mirror`)
    /// and seals it as this log's next, at `time` or the log's last time if
    /// later; nil, with nothing changed, when it does not apply to this state
    /// (every event's checks come before its changes).
    func applyCopy(_ event: Event, actor: EventActor, time: Int64, into writes: inout PackedWrites) -> Envelope? {
        let seq = state.seq + 1
        let time = max(time, state.time)
        do { try state.apply(event, seq: seq, time: time) } catch { return nil }
        let envelope = writes.seal(seq: seq, time: time, actor: actor, event: event, previous: state.head, in: store)
        state.advance(to: envelope)
        checkpoints?.observe(envelope)
        alertWatch.note(envelope.event)
        eventsSinceSnapshot += 1
        return envelope
    }

    /// Waits for `durability`; a failed write halts the ledger (the state is ahead of the disk).
    func awaitDurable(_ durability: Durability) async throws {
        do {
            try await durability.wait()
        } catch {
            if halted == nil {
                halted = "\(error)"
                logger.critical("ledger write failed; halting", metadata: ["error": "\(error)"])
            }
            throw error
        }
    }

    /// Returns once every event applied so far is durable (or its write failed;
    /// the ledger halts then, and what is durable is all there is). The barrier
    /// before reading the log (`log`, which sees only committed transactions),
    /// so a read of request logs or usage shows every close the state already
    /// shows. Cheap when nothing is pending: no write, no hop to the actor.
    package nonisolated func durable() async {
        try? await pending.newest?.wait()
    }

    /// Debug builds check `invariantViolations()` about once per this many events (O(state) each time).
    static let invariantSample: UInt64 = 257

    /// Runs a pure command against the state and commits its event (in a
    /// cluster, a control change goes through the control stream, checked again at its head).
    @discardableResult
    func run(by actor: EventActor, _ command: (LedgerState) throws(Rejection) -> Event?) async throws -> Envelope? {
        guard let event = try command(state) else { return nil }
        if control != nil, ControlLog.isControl(event.type) {
            return try await controlled(by: actor) { state throws(Rejection) in try command(state).map { [$0] } ?? [] }.first
        }
        return try await commit([event], by: actor).first
    }

    /// Runs a pure command and applies its event; the handle says when it is durable.
    func runApplied(by actor: EventActor, _ command: (LedgerState) throws(Rejection) -> Event?) throws -> (Envelope?, Durability) {
        guard let event = try command(state) else { return (nil, .durable) }
        let (envelopes, durability) = try append([event], by: actor)
        return (envelopes.first, durability)
    }

    /// Runs a command and answers what `read` finds in the state its event
    /// produced — read as soon as the event is applied, not after the durable
    /// wait, during which another command (an admin removing that group) may
    /// already have changed it.
    func run<T>(by actor: EventActor, _ command: (LedgerState) throws(Rejection) -> Event?, reading read: (LedgerState) -> T?) async throws -> T {
        var result: T?
        if let event = try command(state) {
            if control != nil, ControlLog.isControl(event.type) {
                // Checked again at the control stream's head, where it may have become a different change or none.
                _ = try await controlled(by: actor) { state throws(Rejection) in try command(state).map { [$0] } ?? [] }
                result = read(state)
            } else {
                try await commit([event], by: actor) { result = read($0) }
            }
        } else {
            result = read(state)
        }
        guard let result else { throw Rejection.notFound("the result of this change") }
        return result
    }
}

/// Milliseconds since the Unix epoch from the system clock.
package enum LedgerClock {
    @Sendable package static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}
