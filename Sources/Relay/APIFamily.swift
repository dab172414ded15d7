import Foundation
import HTTPTypes
import Hummingbird
import Ledger

/// The three wire formats a client may speak. The family decides where the
/// token is read from, which channels may serve the call (Tally forwards,
/// it does not translate between formats) and the shape of error bodies.
public enum APIFamily: String, Sendable {
    case openai, anthropic, gemini

    /// The presented key. SPEC §2: Bearer everywhere; `x-api-key` for Anthropic
    /// (and accepted anywhere), `x-goog-api-key` or `?key=` for Gemini.
    func presentedKey(in request: Request) -> String? {
        if let bearer = request.headers[.authorization].flatMap(BearerToken.credential) { return bearer }
        if let key = request.headers[.xAPIKey] { return key }
        if self == .gemini {
            if let key = request.headers[.xGoogAPIKey] { return key }
            if let key = request.uri.queryParameters.get("key") { return key }
        }
        return nil
    }

    /// The channel type that speaks this format.
    var channelKind: ChannelKind {
        switch self {
        case .openai: .openai
        case .anthropic: .anthropic
        case .gemini: .gemini
        }
    }
}

extension HTTPField.Name {
    static let xAPIKey = HTTPField.Name("x-api-key")!
    static let xGoogAPIKey = HTTPField.Name("x-goog-api-key")!
    static let anthropicVersion = HTTPField.Name("anthropic-version")!
    static let anthropicBeta = HTTPField.Name("anthropic-beta")!
    static let openAIBeta = HTTPField.Name("openai-beta")!
    static let xRequestID = HTTPField.Name("x-request-id")!
    /// The close's place in the ledger (`Receipt.header`): Docs/auditing.md, "Receipts".
    static let xTallyReceipt = HTTPField.Name("x-tally-receipt")!
    static let xForwardedFor = HTTPField.Name("x-forwarded-for")!
}
