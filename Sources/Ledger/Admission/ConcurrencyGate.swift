import Synchronization

/// How many relay requests may be in flight at once, overall and per channel,
/// counted where admission decides: a request that would exceed a limit is
/// refused before anything is reserved (`AdmissionFailure.overloaded`), rather
/// than reserved and then left to queue behind a full upstream pool until it
/// fails as a 502 after its hold was written.
///
/// The ledger actor calls it synchronously inside `admit`, in the same step as
/// the reservation, so it is a mutex-guarded counter table, never an actor: a
/// suspension there would let a burst pass the check together. It knows no
/// HTTP: the relay owns the instance (its configured limits) and hands it to
/// admission with each request; realtime sessions take a slot from it directly.
package final class ConcurrencyGate: Sendable {
    /// Which limit refused a request.
    package enum Overload: Error, Sendable, Equatable {
        /// The gateway-wide cap on requests in flight (`--max-concurrent-requests`).
        case gateway(limit: Int)
        /// Every channel that could serve the request is at its cap (`--channel-concurrency`).
        case channels(limit: Int)

        /// A bounded metric label.
        package var scope: String {
            switch self {
            case .gateway: "overall"
            case .channels: "channel"
            }
        }
    }

    /// Requests in flight through the whole gateway, at most.
    package let maxInFlight: Int
    /// Requests in flight through one channel, at most.
    package let perChannel: Int

    private struct Counts {
        var overall = 0
        var channels: [ChannelID: Int] = [:]
    }

    private let counts = Mutex(Counts())
    /// Told every change (channel, its count, the overall count), under the
    /// gate's lock so gauges never go back in time; must be cheap and must not
    /// call the gate.
    private let observe: (@Sendable (ChannelID, Int, Int) -> Void)?

    package init(maxInFlight: Int, perChannel: Int, observe: (@Sendable (ChannelID, Int, Int) -> Void)? = nil) {
        precondition(maxInFlight > 0 && perChannel > 0, "concurrency limits must be positive")
        self.maxInFlight = maxInFlight
        self.perChannel = perChannel
        self.observe = observe
    }

    /// A slot on `channel` and one of the overall slots, both or neither.
    package func enter(channel: ChannelID) -> Result<ConcurrencySlot, Overload> {
        let refusal: Overload? = counts.withLock { counts in
            guard counts.overall < maxInFlight else { return .gateway(limit: maxInFlight) }
            let current = counts.channels[channel, default: 0]
            guard current < perChannel else { return .channels(limit: perChannel) }
            counts.overall += 1
            counts.channels[channel] = current + 1
            observe?(channel, current + 1, counts.overall)
            return nil
        }
        if let refusal { return .failure(refusal) }
        return .success(ConcurrencySlot(gate: self, channel: channel))
    }

    /// Requests in flight: overall, and through `channel` when given.
    package func inFlight(channel: ChannelID? = nil) -> Int {
        counts.withLock { counts in channel.map { counts.channels[$0, default: 0] } ?? counts.overall }
    }

    /// Requests in flight through each of `channels`, in their order, under one
    /// lock: the `least_busy` strategy's ranks.
    func inFlight(of channels: [ChannelID]) -> [Int64] {
        counts.withLock { counts in channels.map { Int64(counts.channels[$0, default: 0]) } }
    }

    /// Whether `channel` has a free slot now: a retry's hint (`move` decides).
    func hasRoom(_ channel: ChannelID) -> Bool {
        counts.withLock { $0.channels[channel, default: 0] < perChannel }
    }

    /// Takes a slot on `to` and gives back the one on `from`; the overall slot stays.
    fileprivate func move(from: ChannelID, to: ChannelID) -> Bool {
        counts.withLock { counts in
            let target = counts.channels[to, default: 0]
            guard target < perChannel else { return false }
            counts.channels[to] = target + 1
            observe?(to, target + 1, counts.overall)
            Self.decrement(from, in: &counts)
            observe?(from, counts.channels[from, default: 0], counts.overall)
            return true
        }
    }

    fileprivate func leave(channel: ChannelID) {
        counts.withLock { counts in
            precondition(counts.overall > 0, "a concurrency slot was released twice")
            counts.overall -= 1
            Self.decrement(channel, in: &counts)
            observe?(channel, counts.channels[channel, default: 0], counts.overall)
        }
    }

    /// Drops a channel's entry at zero, so deleted channels leave nothing behind.
    private static func decrement(_ channel: ChannelID, in counts: inout Counts) {
        let left = counts.channels[channel, default: 0] - 1
        precondition(left >= 0, "a channel's concurrency slot was released twice")
        counts.channels[channel] = left == 0 ? nil : left
    }
}

/// One request's hold on the gate: an overall slot and a slot on the channel
/// it is being sent to. Released exactly once — by whoever ends the request
/// first (the ledger when it closes the reservation, a realtime session when
/// it ends) or, as a last resort, when the last reference goes away, so a
/// path that forgets cannot shrink the gateway's capacity for good.
package final class ConcurrencySlot: Sendable {
    private let gate: ConcurrencyGate
    /// The channel held; nil once released.
    private let held: Mutex<ChannelID?>

    fileprivate init(gate: ConcurrencyGate, channel: ChannelID) {
        self.gate = gate
        self.held = Mutex(channel)
    }

    /// The channel this slot is on (nil once released).
    package var channel: ChannelID? { held.withLock { $0 } }

    /// Moves the slot to `channel` (the relay retrying elsewhere). False when
    /// that channel is full or the slot was released: then do not send there.
    package func move(to channel: ChannelID) -> Bool {
        held.withLock { held in
            guard let current = held else { return false }
            if current == channel { return true }
            guard gate.move(from: current, to: channel) else { return false }
            held = channel
            return true
        }
    }

    /// Gives the slots back; later calls do nothing.
    package func release() {
        let channel = held.withLock { held in
            defer { held = nil }
            return held
        }
        if let channel { gate.leave(channel: channel) }
    }

    deinit { release() }
}
