import Synchronization

/// The circuit breaker of every channel, in memory beside the projection:
/// admission routes only to channels it says are available, and the relay
/// reports each attempt's outcome to it. Its decisions become
/// `channel.suspended` / `channel.restored` events (the relay writes them), and
/// at startup it is seeded from the projection's suspensions, so a restart
/// keeps a channel out exactly as long as its recorded cooldown says.
///
/// - A refusal about the channel itself — its key (401/403) or its account's
///   quota — suspends it at once, for the longest cooldown: retrying sooner
///   would fail every request the same way.
/// - Failures that may pass — a 5xx, a timeout, a connection error — suspend it
///   after `policy.failures` in a row, for `policy.cooldownMs`, doubled after
///   each failed probe up to `policy.cooldownMaxMs`.
/// - After its cooldown a suspended channel is half-open: the next request
///   routed to it is the one probe (no other request is routed there while it
///   runs); an answer restores the channel, a failure suspends it again.
///
/// Mutex-guarded, never an actor: admission reads it inside the ledger
/// actor's step without a suspension, as it does the `ConcurrencyGate`.
package final class ChannelHealth: Sendable {
    /// What an attempt taught about its channel.
    package enum Outcome: Sendable, Equatable {
        /// The provider answered (2xx, or a 4xx about the request itself): the channel works.
        case answered(status: Int64)
        /// The provider refused the channel itself: its key, or its account's quota.
        case refused(SuspensionReason, status: Int64, detail: String)
        /// A failure that may pass: 5xx (`status`), or no answer at all (`status` 0: timeout, connection error).
        case failed(status: Int64, detail: String)
        /// Nothing learned (the request was cut or cancelled first); a probe is given back.
        case abandoned
    }

    /// A decision to record as an event.
    package enum Transition: Sendable, Equatable {
        case suspended(ChannelSuspended)
        case restored(ChannelRestored)
    }

    /// What `GET /api/channels` shows.
    package struct Status: Sendable, Equatable {
        package enum State: String, Sendable { case active, suspended, probing }
        package var state: State
        package var suspension: ChannelSuspension?
        /// Consecutive failures so far (reset by any answer).
        package var failures: Int
    }

    private struct Entry {
        var failures = 0
        var suspension: ChannelSuspension?
        var probing = false
    }

    package let policy: BreakerPolicy
    private let entries = Mutex<[ChannelID: Entry]>([:])
    /// Channels suspended now, kept under the lock with `entries`: when none is,
    /// admission's filter returns its input without taking the lock at all.
    private let suspendedCount = Atomic<Int>(0)

    package init(policy: BreakerPolicy, suspensions: [ChannelID: ChannelSuspension] = [:]) {
        self.policy = policy
        entries.withLock { entries in
            for (id, suspension) in suspensions { entries[id] = Entry(suspension: suspension) }
        }
        suspendedCount.store(suspensions.count, ordering: .releasing)
    }

    /// The channels among `channels` admission may route to at `nowMs`, in
    /// their order: those not suspended, and those past their cooldown with no
    /// probe out. One lock for all, none when nothing is suspended.
    package func available(_ channels: [ChannelDefinition], nowMs: Int64) -> [ChannelDefinition] {
        guard suspendedCount.load(ordering: .acquiring) > 0 else { return channels }
        return entries.withLock { entries in
            channels.filter { channel in
                guard let entry = entries[channel.id], let suspension = entry.suspension else { return true }
                return !entry.probing && nowMs >= suspension.untilMs
            }
        }
    }

    /// `available` for admission's serving list: the list itself (no copy) when nothing is suspended.
    package func available(_ list: ServingList, nowMs: Int64) -> ServingList {
        guard suspendedCount.load(ordering: .acquiring) > 0 else { return list }
        return ServingList(ordered: available(list.channels, nowMs: nowMs))
    }

    /// Claims an attempt on `channel` just before it is sent: always for a
    /// channel in service; for a suspended one past its cooldown, the one probe
    /// (false when another request holds it or the cooldown is not over).
    package func beginAttempt(_ channel: ChannelID, nowMs: Int64) -> Bool {
        guard suspendedCount.load(ordering: .acquiring) > 0 else { return true }
        return entries.withLock { entries in
            guard var entry = entries[channel], let suspension = entry.suspension else { return true }
            guard !entry.probing, nowMs >= suspension.untilMs else { return false }
            entry.probing = true
            entries[channel] = entry
            return true
        }
    }

    /// Folds in an attempt's outcome; returns the suspension or restoration to record, if any.
    package func record(_ channel: ChannelID, _ outcome: Outcome, nowMs: Int64) -> Transition? {
        entries.withLock { entries in
            var entry = entries[channel] ?? Entry()
            defer { entries[channel] = entry }
            let wasProbing = entry.probing
            entry.probing = false
            switch outcome {
            case .abandoned:
                return nil
            case .answered(let status):
                entry.failures = 0
                guard entry.suspension != nil else { return nil }
                entry.suspension = nil
                suspendedCount.subtract(1, ordering: .releasing)
                return .restored(ChannelRestored(channel: channel, cause: "probe", status: status))
            case .refused(let reason, let status, let detail):
                entry.failures = 0
                return suspend(&entry, channel, reason, status: status, cooldownMs: policy.cooldownMaxMs, detail: detail, nowMs: nowMs)
            case .failed(let status, let detail):
                entry.failures += 1
                if wasProbing, let previous = entry.suspension {
                    let doubled = min(max(previous.event.cooldownMs, policy.cooldownMs) * 2, policy.cooldownMaxMs)
                    return suspend(&entry, channel, .failures, status: status, cooldownMs: doubled, detail: detail, nowMs: nowMs)
                }
                guard entry.suspension == nil, entry.failures >= policy.failures else { return nil }
                return suspend(&entry, channel, .failures, status: status, cooldownMs: policy.cooldownMs, detail: detail, nowMs: nowMs)
            }
        }
    }

    /// An operator's fix (a new key, a successful test): back in service now.
    package func restore(_ channel: ChannelID, cause: String, status: Int64) -> Transition? {
        entries.withLock { entries in
            guard entries[channel]?.suspension != nil else { return nil }
            entries[channel] = Entry()
            suspendedCount.subtract(1, ordering: .releasing)
            return .restored(ChannelRestored(channel: channel, cause: cause, status: status))
        }
    }

    /// Forgets a removed channel.
    package func forget(_ channel: ChannelID) {
        entries.withLock { entries in
            if entries.removeValue(forKey: channel)?.suspension != nil { suspendedCount.subtract(1, ordering: .releasing) }
        }
    }

    package func status(_ channel: ChannelID) -> Status {
        entries.withLock { entries in
            let entry = entries[channel] ?? Entry()
            let state: Status.State = entry.suspension == nil ? .active : entry.probing ? .probing : .suspended
            return Status(state: state, suspension: entry.suspension, failures: entry.failures)
        }
    }

    /// The earliest time a suspended channel among `channels` may be probed (for `Retry-After`).
    package func nextProbeMs(among channels: [ChannelID]) -> Int64? {
        entries.withLock { entries in channels.compactMap { entries[$0]?.suspension?.untilMs }.min() }
    }

    private func suspend(
        _ entry: inout Entry, _ channel: ChannelID, _ reason: SuspensionReason, status: Int64, cooldownMs: Int64, detail: String, nowMs: Int64
    ) -> Transition {
        let event = ChannelSuspended(
            channel: channel, reason: reason, status: status, cooldownMs: cooldownMs, detail: String(detail.utf8.prefix(Limits.noteBytes)) ?? "")
        if entry.suspension == nil { suspendedCount.add(1, ordering: .releasing) }
        entry.suspension = ChannelSuspension(event: event, sinceMs: nowMs)
        return .suspended(event)
    }
}

/// The breaker's thresholds (`tally serve --breaker-failures`, `--breaker-cooldown`, `--breaker-cooldown-max`).
package struct BreakerPolicy: Sendable, Equatable {
    /// Consecutive 5xx answers, timeouts or connection errors that suspend a channel.
    package var failures: Int = 5
    /// The first cooldown after such failures; doubled after each failed probe.
    package var cooldownMs: Int64 = 30_000
    /// The longest cooldown, and the one a key or quota refusal gets at once.
    package var cooldownMaxMs: Int64 = 600_000

    package init(failures: Int = 5, cooldownMs: Int64 = 30_000, cooldownMaxMs: Int64 = 600_000) {
        precondition(failures > 0 && cooldownMs > 0 && cooldownMaxMs >= cooldownMs, "breaker limits must be positive and ordered")
        self.failures = failures
        self.cooldownMs = cooldownMs
        self.cooldownMaxMs = cooldownMaxMs
    }
}
