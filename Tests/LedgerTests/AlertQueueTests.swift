import LedgerTesting
import Testing

@testable import Ledger

/// The webhook queue in `AlertState` (an index of seqs beside the alerts, so a
/// long queue behind a dead endpoint costs each delivery a binary search)
/// against the plain model it replaced: after every event of a random history
/// — endpoints set, changed and removed, alerts raised, deliveries in order
/// and stale — the queue holds the same alerts and hands each endpoint the
/// same next one.
@Suite struct AlertQueueTests {
    /// The rule itself, written as plainly as possible.
    struct Model {
        var cursors: [WebhookID: UInt64] = [:]
        var kinds: [WebhookID: [AlertKind]] = [:]
        var undelivered: [UInt64: AlertRaised] = [:]

        func next(for hook: WebhookID) -> UInt64? {
            guard let cursor = cursors[hook], let kinds = kinds[hook] else { return nil }
            return undelivered.filter { $0.key > cursor && kinds.contains($0.value.key.kind) }.keys.min()
        }

        mutating func apply(_ event: Event, seq: UInt64) {
            switch event {
            case .webhookSet(let definition):
                if cursors[definition.id] == nil { cursors[definition.id] = seq }
                kinds[definition.id] = definition.alerts
            case .webhookRemoved(let id):
                (cursors[id], kinds[id]) = (nil, nil)
            case .alertRaised(let alert):
                if kinds.values.contains(where: { $0.contains(alert.key.kind) }) { undelivered[seq] = alert }
            case .webhookDelivered(let delivered):
                if let cursor = cursors[delivered.webhook], delivered.alert > cursor { cursors[delivered.webhook] = delivered.alert }
            default:
                return
            }
            undelivered = undelivered.filter { seq, alert in
                cursors.contains { id, cursor in cursor < seq && kinds[id]?.contains(alert.key.kind) == true }
            }
        }
    }

    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6, 7, 8])
    func theQueueHandsOutWhatThePlainRuleDoes(seed: UInt64) {
        var random = SplitMix(state: seed)
        var state = AlertState()
        var model = Model()
        let hooks = (1...3).map { WebhookID(raw: $0) }
        for seq in UInt64(1)...3_000 {
            let hook = hooks[Int.random(in: 0..<hooks.count, using: &random)]
            let event: Event
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<4:
                let kinds = AlertKind.allCases.filter { _ in Bool.random(using: &random) }
                event = .webhookSet(WebhookDefinition(id: hook, url: "https://hooks.test/\(hook.raw)", alerts: kinds.isEmpty ? [.lowBalance] : kinds))
            case 4..<6:
                event = .webhookRemoved(hook)
            case 6..<60:
                let kind = AlertKind.allCases[Int.random(in: 0..<AlertKind.allCases.count, using: &random)]
                let key = AlertKey(kind: kind, subject: seq, threshold: 80, periodStart: 0)
                event = .alertRaised(AlertRaised(key: key, value: 80, limit: 100))
            default:
                // Mostly the endpoint's next alert, sometimes a stale or foreign one.
                let alert = Bool.random(using: &random) ? (model.next(for: hook) ?? seq) : UInt64.random(in: 1...seq, using: &random)
                event = .webhookDelivered(WebhookDelivered(webhook: hook, alert: alert, attempts: 1, status: 200))
            }
            state.apply(event, seq: seq)
            model.apply(event, seq: seq)
            #expect(state.undelivered == model.undelivered, "seed \(seed), seq \(seq)")
            for id in hooks { #expect(state.next(for: id)?.seq == model.next(for: id), "seed \(seed), seq \(seq), \(id)") }
            if state.undelivered != model.undelivered { return }
        }
        #expect(!model.undelivered.isEmpty || seed > 0)
    }
}
