import Foundation
import HTTPTypes
import Hummingbird
import TallyJSON

/// The wire family of an endpoint; it decides how the caller authenticates and
/// how errors are shaped, exactly as the real provider would.
enum Family: Sendable {
    case openAI, anthropic, gemini
}

/// An error answered in the caller's family shape:
/// OpenAI `{"error":{"message","type","param","code"}}`,
/// Anthropic `{"type":"error","error":{"type","message"}}`,
/// Gemini `{"error":{"code","message","status"}}`.
struct MockHTTPError: HTTPResponseError {
    let family: Family
    let status: HTTPResponse.Status
    let message: String
    /// The usage a billed error reports beside the error (`usageMetadata` for Gemini).
    let usage: JSONValue?

    init(_ family: Family, status: HTTPResponse.Status, message: String, usage: JSONValue? = nil) {
        self.family = family
        self.status = status
        self.message = message
        self.usage = usage
    }

    var body: JSONValue {
        var body = errorBody
        if let usage { body.set(family == .gemini ? "usageMetadata" : "usage", usage) }
        return body
    }

    private var errorBody: JSONValue {
        switch family {
        case .openAI:
            let (type, code): (String, String?) =
                switch status.code {
                case 401: ("invalid_request_error", "invalid_api_key")
                case 404: ("invalid_request_error", "not_found")
                case 429: ("requests", "rate_limit_exceeded")
                case 400..<500: ("invalid_request_error", nil)
                default: ("server_error", nil)
                }
            return ["error": ["message": .string(message), "type": .string(type), "param": nil, "code": .optional(code) { .string($0) }]]
        case .anthropic:
            let type: String =
                switch status.code {
                case 401: "authentication_error"
                case 404: "not_found_error"
                case 429: "rate_limit_error"
                case 400..<500: "invalid_request_error"
                case 529: "overloaded_error"
                default: "api_error"
                }
            return ["type": "error", "error": ["type": .string(type), "message": .string(message)]]
        case .gemini:
            let grpc: String =
                switch status.code {
                case 401: "UNAUTHENTICATED"
                case 403: "PERMISSION_DENIED"
                case 404: "NOT_FOUND"
                case 429: "RESOURCE_EXHAUSTED"
                case 400..<500: "INVALID_ARGUMENT"
                case 503: "UNAVAILABLE"
                default: "INTERNAL"
                }
            return ["error": ["code": .int(Int(status.code)), "message": .string(message), "status": .string(grpc)]]
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = jsonResponse(body, status: status)
        if status == .tooManyRequests {
            response.headers[.retryAfter] = "1"
        }
        return response
    }
}

/// Thrown by `mock-abort`; by then the connection is already closed, so nothing is answered.
struct MockAbort: Error {}

/// Checks the caller's key the way each provider does (never echoing it back).
///
/// - OpenAI: `Authorization: Bearer <key>`.
/// - Anthropic: `x-api-key: <key>`, or Bearer.
/// - Gemini: `x-goog-api-key: <key>`, or `?key=<key>`.
func authenticate(_ request: Request, family: Family, apiKey: String) throws {
    let bearer: String? = request.headers[.authorization].flatMap { value in
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }
    let presented: [String?] =
        switch family {
        case .openAI: [bearer]
        case .anthropic: [request.headers[.xAPIKey], bearer]
        case .gemini: [request.headers[.xGoogAPIKey], request.uri.queryParameters.get("key")]
        }
    let given = presented.compactMap { $0 }.filter { !$0.isEmpty }
    if given.contains(apiKey) { return }
    let message: String =
        switch (family, given.isEmpty) {
        case (.openAI, true): "You didn't provide an API key. Send it as `Authorization: Bearer <key>`."
        case (.anthropic, true): "x-api-key header is required."
        case (.gemini, true): "Method doesn't allow unregistered callers. Send an API key as `x-goog-api-key` or `?key=`."
        case (_, false): "Incorrect API key provided. Use the key the mock upstream was started with."
        }
    throw MockHTTPError(family, status: .unauthorized, message: message)
}
