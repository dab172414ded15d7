import Hummingbird
import Ledger
import Logging
import NIOCore
import NIOHTTP1

/// An upstream error that carries a usage object: the provider billed the
/// work it did before failing, so the request is settled at that usage
/// (Docs/billing.md, "Outcomes") and the error passed on as any other. It is
/// not retried: the hold covers one upstream attempt's cost, and a second
/// billed attempt could pass it.
extension Relay {
    /// Settles `body`'s usage and answers the error, or nil when the error reports no usage.
    func billedError(
        _ status: Int, headers: HTTPHeaders, body: ByteBuffer, channelKey: String, admitted: Admitted, channel: ChannelID,
        started: ContinuousClock.Instant
    ) async -> Response? {
        var meter = UsageMeter(family: admitted.endpoint.family)
        meter.absorb(bytes: body)
        guard meter.reported else { return nil }
        meter.providerRequestHeader(headers.providerRequestID)
        let outcome = await outcome(meter, admitted: admitted, channel: channel, status: status, started: started)
        let receipt = await closeCharge(
            admitted.reservation, settle: outcome, voidReason: "", channel: channel, status: Int64(status),
            durationMs: outcome.durationMs)
        logger.info(
            "upstream error reported usage; settled it",
            metadata: ["channel": "\(channel)", "request_id": "\(admitted.requestID)", "status": "\(status)"])
        return upstreamError(
            status, headers: headers, body: body, channelKey: channelKey, family: admitted.endpoint.family,
            requestID: admitted.requestID
        ).receipt(receipt)
    }
}
