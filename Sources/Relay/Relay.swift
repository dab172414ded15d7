import Hummingbird
import Ledger
import Logging
import Tracing
import UpstreamHTTP

/// The gateway of SPEC §2: every relay endpoint, admitted in the SPEC's order,
/// forwarded to a channel and charged in two phases through the ledger.
public struct Relay: Sendable {
    let ledger: Ledger
    let configuration: RelayConfiguration
    let upstream: UpstreamClient
    let logger: Logger
    let metrics = RelayMetrics()
    /// The concurrency limits (`--max-concurrent-requests`, `--channel-concurrency`),
    /// taken at admission and by realtime sessions.
    let gate: ConcurrencyGate
    /// The spans of relayed requests; nil when tracing is off (the default).
    let tracing: RelayTracing?

    package init(ledger: Ledger, configuration: RelayConfiguration, upstream: UpstreamClient, logger: Logger, tracer: (any Tracer)? = nil) {
        self.ledger = ledger
        tracing = tracer.map { RelayTracing(tracer: $0) }
        self.configuration = configuration
        self.upstream = upstream
        self.logger = logger
        let metrics = self.metrics
        gate = ConcurrencyGate(maxInFlight: configuration.maxConcurrentRequests, perChannel: configuration.channelConcurrency) {
            channel, count, overall in
            metrics.inFlight(channel: channel, count: count, overall: overall)
        }
    }

    /// Adds the relay and its self-service routes to `router`.
    public func register<Context: RequestContext & RemoteAddressRequestContext>(on router: Router<Context>) {
        for endpoint in Endpoint.openAI {
            router.post(RouterPath(endpoint.path)) { request, context in
                await self.relay(request, peer: context.remoteAddress, endpoint: endpoint, pathModel: nil)
            }
        }
        for prefix in ["/v1beta/models", "/v1/models"] {
            router.post(RouterPath("\(prefix)/:target")) { request, context in
                await self.relayGemini(request, peer: context.remoteAddress, prefix: prefix, target: context.parameters.get("target") ?? "")
            }
        }
        router.get("/v1/models") { request, context in
            await self.listModels(request, peer: context.remoteAddress)
        }
        router.get("/api/usage/token") { request, context in
            await self.tokenUsage(request, peer: context.remoteAddress)
        }
        router.get("/v1/dashboard/billing/subscription") { request, context in
            await self.billingSubscription(request, peer: context.remoteAddress)
        }
        router.get("/v1/dashboard/billing/usage") { request, context in
            await self.billingUsage(request, peer: context.remoteAddress)
        }
        router.get("/v1/receipts/:request_id") { request, context in
            await self.receipt(request, peer: context.remoteAddress, requestID: context.parameters.get("request_id") ?? "")
        }
    }
}
