import Ledger

/// `ChannelSet` has no public initializer (the ledger builds it only when
/// decoding events), yet the demo seeding and tests must create channels.
/// Until the ledger grows one, build the value through the public event codec:
/// encode the fields in `channel.set`'s layout and decode them back.
extension ChannelSet {
    public static func make(id: ChannelID = .random(), name: String, kind: ChannelKind, baseURL: String, models: [String],
                            groups: [String] = [], priority: Int64 = 0, weight: Int64 = 1, enabled: Bool = true) -> ChannelSet {
        var writer = BinaryWriter()
        writer.fixed64(id.raw)
        writer.string(name)
        writer.byte(kind.rawValue)
        writer.string(baseURL)
        writer.strings(models)
        writer.strings(groups)
        writer.signed(priority)
        writer.signed(weight)
        writer.bool(enabled)
        let bytes = writer.bytes
        let event = bytes.withUnsafeBytes { buffer -> Event? in
            var reader = BinaryReader(buffer)
            return try? Event.decodePayload(.channelSet, from: &reader)
        }
        guard case .channelSet(let channel) = event else { preconditionFailure("channel.set layout changed; update ChannelSet.make") }
        return channel
    }
}
