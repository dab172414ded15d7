import HTTPTypes
import Hummingbird

/// Every answer names itself in a header, as the providers' do: Anthropic
/// sends `request-id`, OpenAI (and Azure) `x-request-id`, each unique per
/// answer and distinct from the body's id; Gemini sends none. The relay falls
/// back to it for answers whose body carries no id (Docs/auditing.md).
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = MockRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        let path = request.uri.path
        guard !path.hasPrefix("/mock/"), !path.contains("/models/"), !path.hasPrefix("/v1beta/") else { return response }
        response.headers[path == "/v1/messages" ? .requestID : .xRequestID] = makeID("req_")
        return response
    }
}

extension HTTPField.Name {
    static let requestID = Self("request-id")!
}
