import Ledger

extension ChannelSet {
    /// A new `ChannelSet`. The ledger gives this payload no public
    /// initializer (its fields are public, its memberwise init is not), so the
    /// value is built the one public way there is: encoding a `channel.set`
    /// envelope with the ledger's own `BinaryWriter` (the layout of
    /// `Event+binary.swift`) and decoding it with `Envelope.decode`. Nothing
    /// is written anywhere; the ledger validates the result as any other.
    /// TODO(lead): a `public init` on `ChannelSet` in Ledger makes this go away.
    static func make(id: ChannelID, name: String, kind: ChannelKind, baseURL: String, models: [String], groups: [String],
                     priority: Int64, weight: Int64, enabled: Bool) throws -> ChannelSet {
        var payload = BinaryWriter()
        payload.fixed64(id.raw); payload.string(name); payload.byte(kind.rawValue); payload.string(baseURL)
        payload.strings(models); payload.strings(groups); payload.signed(priority); payload.signed(weight); payload.bool(enabled)
        var envelope = BinaryWriter()
        envelope.byte(1)                                  // envelope format
        envelope.signed(0)                                // time
        envelope.byte(0)                                  // actor: system
        envelope.varint(UInt64(EventType.channelSet.rawValue))
        envelope.byte(EventType.channelSet.currentVersion)
        envelope.varint(UInt64(payload.bytes.count))
        envelope.raw(payload.bytes)
        envelope.hash(.zero)                              // previous hash (unchecked by decode)
        envelope.hash(.zero)                              // hash (unchecked by decode)
        let decoded = try envelope.bytes.withUnsafeBytes { try Envelope.decode(seq: 1, from: $0) }
        guard case .channelSet(let channel) = decoded.event else { preconditionFailure("a channel.set envelope decodes to channel.set") }
        return channel
    }
}
