import NIOHTTP1

extension HTTPHeaders {
    /// The provider's id of an answer as its headers give it: OpenAI (and most
    /// OpenAI-compatible hosts) send `x-request-id`, Anthropic `request-id`.
    /// Read only when the body names no id (`UsageMeter.providerRequestHeader`).
    var providerRequestID: String? { first(name: "x-request-id") ?? first(name: "request-id") }
}
