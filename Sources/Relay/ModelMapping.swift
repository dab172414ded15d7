import Ledger
import NIOCore

/// A channel's model map applied to one admitted request: the client asked
/// for the public name, the channel's provider gets its own (in the body, or
/// in the path where the provider names the model there). Everything Tally
/// keeps — prices, the reservation, the log — stays on the public name; the
/// settle also records the name sent (`charge.settled` `upstream_model`).
extension Relay.Admitted {
    /// The name `channel`'s provider is asked for.
    func upstreamModel(on channel: ChannelDefinition) -> String { channel.upstreamModel(for: model) }

    /// The body for `channel`: the public one, or the one naming its mapping.
    func body(on channel: ChannelDefinition) -> ByteBuffer {
        mappedBodies[upstreamModel(on: channel)] ?? upstreamBody
    }

    /// The API path for `channel`: Gemini's `models/{model}:method` with the mapped name.
    func path(on channel: ChannelDefinition) -> String {
        let upstream = upstreamModel(on: channel)
        let prefix = "/v1beta/models/\(model):"
        guard upstream != model, endpoint.family == .gemini, upstreamPath.hasPrefix(prefix) else { return upstreamPath }
        return "/v1beta/models/\(upstream):" + upstreamPath.dropFirst(prefix.count)
    }

    /// The model name a settle records beside the public one: nil unless `channel` renamed it.
    func recordedUpstreamModel(on channel: ChannelID) -> String? {
        guard let definition = channels.first(where: { $0.id == channel }) else { return nil }
        let upstream = upstreamModel(on: definition)
        return upstream == model ? nil : upstream
    }
}

extension RequestInspection {
    /// The bodies naming each mapped model among `channels` (the public-name body is built once beside them).
    func mappedBodies(heldLimit: Int64, channels: some Sequence<ChannelDefinition>, family: APIFamily) -> [String: ByteBuffer] {
        guard family != .gemini else { return [:] }
        var bodies: [String: ByteBuffer] = [:]
        for channel in channels {
            let upstream = channel.upstreamModel(for: model)
            if upstream != model, bodies[upstream] == nil { bodies[upstream] = upstreamBody(heldLimit: heldLimit, model: upstream) }
        }
        return bodies
    }
}
