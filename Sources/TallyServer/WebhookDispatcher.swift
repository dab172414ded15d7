import Crypto
import Ledger
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import TallyJSON
import UpstreamHTTP

/// Hands each endpoint its alerts, in order, one at a time: POST with a JSON
/// body, `X-Tally-Signature: sha256=<HMAC-SHA256(secret, body)>` and the
/// alert's id as `Idempotency-Key`, retried with exponential backoff
/// (`WebhookRetry`). The endpoint's position is the `webhook.delivered`
/// events, so a restart resumes where it stopped (at least once). Its own
/// HTTP client and tasks: a slow receiver never touches the relay.
struct WebhookDispatcher: Service {
    let ledger: Ledger
    let client: UpstreamClient
    let retry: WebhookRetry
    let deliveries: DeliveryLog
    let logger: Logger
    var interval: Duration = .milliseconds(250)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                // One task per endpoint, for as long as it exists (ids are never reused).
                var started = Set<WebhookID>()
                while !Task.isCancelled {
                    for id in await ledger.read({ Array($0.alerts.webhooks.keys) }) where started.insert(id).inserted {
                        group.addTask { await serve(id) }
                    }
                    do { try await Task.sleep(for: interval) } catch { break }
                }
                group.cancelAll()
            }
        }
        await client.shutdown()
    }

    /// Delivers the endpoint's alerts in order as they come, until it is removed.
    private func serve(_ id: WebhookID) async {
        while !Task.isCancelled {
            let pending = await ledger.read { state in
                state.alerts.webhooks[id].map { hook in (state.alerts.next(for: id), hook.definition.url) }
            }
            guard let (next, url) = pending else { return }
            guard let next else {
                do { try await Task.sleep(for: interval) } catch { return }
                continue
            }
            let status = await deliver(next.seq, next.alert, to: url, webhook: id)
            guard !Task.isCancelled else { return }
            do {
                try await ledger.recordDelivery(
                    WebhookDelivered(webhook: id, alert: next.seq, attempts: Int64(status.attempts), status: Int64(status.code)))
            } catch {
                logger.error("recording a webhook delivery failed; retried", metadata: ["webhook": "\(id)", "error": "\(error)"])
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
    }

    /// Tries until a 2xx or the retry window ends; the answering status (0 = abandoned) and the tries.
    private func deliver(_ seq: UInt64, _ alert: AlertRaised, to url: String, webhook: WebhookID) async -> (code: Int, attempts: Int) {
        let body = Array(Self.body(seq, alert).serialized.utf8)
        let started = ContinuousClock.now
        var attempt = 0
        while !Task.isCancelled {
            attempt += 1
            let sentAt = LedgerClock.now()
            let began = ContinuousClock.now
            var status = 0
            var failure: String?
            do {
                guard let secret = try ledger.webhookSecret(webhook) else { return (0, attempt - 1) }
                var request = UpstreamClient.Request(url: url)
                request.headers.add(name: "content-type", value: "application/json")
                request.headers.add(name: "user-agent", value: "tally-webhooks")
                request.headers.add(name: "idempotency-key", value: "alert_\(seq)")
                request.headers.add(name: "x-tally-signature", value: Self.signature(body, secret: secret))
                request.body = ByteBuffer(bytes: body)
                request.connectTimeout = .seconds(5)
                let response = try await client.execute(request, timeout: .seconds(10))
                status = Int(response.status.code)
                _ = try? await response.body.collect(upTo: 64 * 1024)
                if !(200..<300).contains(status) { failure = "status \(status)" }
            } catch {
                failure = "\(error)"
            }
            let elapsed = ContinuousClock.now - began
            let waited = ContinuousClock.now - started
            let wait = retry.delay(after: attempt)
            let done = failure == nil || waited + wait > retry.window
            deliveries.record(
                DeliveryAttempt(
                    alert: seq, attempt: attempt, time: sentAt, status: status, error: failure,
                    durationMs: elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000,
                    nextAttemptAt: done ? nil : sentAt + wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000),
                for: webhook)
            if failure == nil { return (status, attempt) }
            if done {
                logger.warning("webhook alert abandoned after the retry window", metadata: ["webhook": "\(webhook)", "alert": "alert_\(seq)"])
                return (0, attempt)
            }
            do { try await Task.sleep(for: wait) } catch { break }
        }
        return (0, attempt)
    }

    /// `sha256=` and the hex HMAC-SHA256 of the body under the endpoint's secret.
    static func signature(_ body: [UInt8], secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
        return "sha256=" + code.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// The alert as delivered: its id, kind, subject, threshold and figures.
    static func body(_ seq: UInt64, _ alert: AlertRaised) -> JSONValue {
        .object([("id", .string("alert_\(seq)"))] + EventJSON.alert(alert))
    }
}
