import HTTPTypes
import Hummingbird
import Ledger
import TallyJSON

/// An API failure that renders itself as `{"error":{"message","code"}}`
/// (plus `"field"` when one field is at fault). Every handler error goes
/// through `APIError.from`, so a ledger `Rejection`, a body-size error or a
/// bug all answer in the same shape.
struct APIError: Error, Sendable {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    var field: String?
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, code: String, _ message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    static func badRequest(_ message: String, field: String? = nil, code: String = "invalid_request") -> APIError {
        APIError(.badRequest, code: code, message, field: field)
    }

    static func invalid(_ field: String, _ message: String) -> APIError {
        APIError(.unprocessableContent, code: "invalid_value", "\(field): \(message)", field: field)
    }

    static let unauthorized = APIError(
        .unauthorized, code: "unauthorized",
        "Sign in, or send your access key as \"Authorization: Bearer <access key>\".")
    static let adminOnly = APIError(.forbidden, code: "forbidden", "Only administrators may do this.")
    static let passwordChangeRequired = APIError(
        .forbidden, code: "password_change_required",
        "You signed in with a generated one-time password. Choose your own first: POST /api/auth/password.")

    static func notFound(_ what: String) -> APIError { APIError(.notFound, code: "not_found", "\(what) not found") }

    /// Maps a ledger rejection: invalid 422, not found 404, conflict 409, forbidden 403.
    static func from(_ rejection: Rejection) -> APIError {
        switch rejection.kind {
        case .invalid: APIError(.unprocessableContent, code: "invalid_value", rejection.description, field: rejection.field)
        case .notFound: APIError(.notFound, code: "not_found", rejection.description)
        case .conflict: APIError(.conflict, code: "conflict", rejection.description)
        case .forbidden: APIError(.forbidden, code: "forbidden", rejection.description)
        case .insufficient: APIError(.conflict, code: "insufficient_quota", rejection.description)
        }
    }

    var body: JSONValue {
        var error: [(String, JSONValue)] = [("message", .string(message)), ("code", .string(code))]
        if let field { error.append(("field", .string(field))) }
        return .object([("error", .object(error))])
    }

    var response: Response {
        var response = JSONResponse.make(body, status: status)
        for field in headers { response.headers.append(field) }
        return response
    }
}
