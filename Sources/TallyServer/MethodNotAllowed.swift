import HTTPTypes
import Hummingbird

/// A method no route serves on a path that is served (`TRACE`, `QUERY`,
/// `GET` on a relay endpoint) answers 405 with `Allow` (the path's methods),
/// as HTTP says, rather than the router's 404; a path nothing serves still
/// answers 404. A client or scanner probing for TRACE's echo (cross-site
/// tracing) is told the method is refused, not that the path is missing.
///
/// Added after every route, so it wraps only the router's not-found
/// responder: a request that reaches it matched no route.
struct MethodNotAllowed<Context: RequestContext>: RouterMiddleware {
    /// Each route's path, split into segments (`:name`, `{name}` and `*` match any one), and its methods.
    let routes: [(segments: [Substring], methods: [HTTPRequest.Method])]

    init(routes: [Router<Context>.RouteDescription]) {
        var methods: [String: [HTTPRequest.Method]] = [:]
        for route in routes { methods["\(route.path)", default: []].append(route.method) }
        self.routes = methods.map { path, methods in (path.split(separator: "/"), methods) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path.split(separator: "/")
        // The router's choice: literal segments win over captures. Catch-alls (`**`, the API's JSON 404) say nothing of a path's methods.
        let matching = routes.filter { !$0.segments.contains("**") && Self.matches($0.segments, path) }
        let literal = { (segments: [Substring]) in segments.count { !Self.isCapture($0) } }
        let best = matching.map { literal($0.segments) }.max()
        let allowed = Set(matching.filter { literal($0.segments) == best }.flatMap(\.methods).map(\.rawValue))
        guard !allowed.isEmpty else { return try await next(request, context) }
        return Response(status: .methodNotAllowed, headers: [.allow: allowed.sorted().joined(separator: ", ")])
    }

    static func matches(_ pattern: [Substring], _ path: [Substring]) -> Bool {
        pattern.count == path.count && zip(pattern, path).allSatisfy { isCapture($0) || $0 == $1 }
    }

    static func isCapture(_ segment: Substring) -> Bool {
        segment == "*" || segment.hasPrefix(":") || (segment.hasPrefix("{") && segment.hasSuffix("}"))
    }
}
