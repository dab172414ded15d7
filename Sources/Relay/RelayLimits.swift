import Ledger

/// Bounds only the relay enforces, each with its reason, beside the ledger's
/// `Limits` (which the relay checks too: model names, request ids).
enum RelayLimits {
    /// Largest realtime message read from either side. Audio travels as base64
    /// inside JSON text messages; 4 MiB is ~65 s of 24 kHz PCM16 in one append,
    /// far above what clients send, and bounds the memory one message can pin.
    static let realtimeMessageBytes = 1 << 22
    /// Longest client request id kept for a realtime session: each response's
    /// id appends ".<n>" and must stay within the ledger's `Limits.requestIDBytes`.
    static let realtimeSessionIDBytes = Limits.requestIDBytes - 12
    /// An upstream's error body read to answer the client: provider errors are
    /// a few hundred bytes; 1 MiB keeps a misbehaving upstream from pinning more.
    static let upstreamErrorBodyBytes = 1 << 20
}
