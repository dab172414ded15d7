import HTTPTypes
import Hummingbird

/// Makes sure every response carries `X-Request-Id`, including routes that do
/// not mint one themselves (health, 404s, the management API). The relay sets
/// its own (the id it charged under); this only fills a gap.
struct RequestIDEcho<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let name = HTTPField.Name("x-request-id")!
        let presented = request.headers[name]
        do {
            var response = try await next(request, context)
            if response.headers[name] == nil { response.headers[name] = Self.accept(presented) ?? Self.generate() }
            return response
        } catch var error as HTTPError {
            // 404s and other errors Hummingbird renders itself.
            if error.headers[name] == nil { error.headers[name] = Self.accept(presented) ?? Self.generate() }
            throw error
        }
    }

    static func accept(_ presented: String?) -> String? {
        guard let presented, !presented.isEmpty, presented.utf8.count <= 128,
            presented.utf8.allSatisfy({ $0 > 32 && $0 < 127 })
        else { return nil }
        return presented
    }

    static func generate() -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        return "req_" + String((0..<20).map { _ in alphabet.randomElement()! })
    }
}
