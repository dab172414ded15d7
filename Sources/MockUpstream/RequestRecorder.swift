import HTTPTypes
import Hummingbird
import TallyJSON

/// Keeps the last 100 requests the mock received, so end-to-end tests can check
/// what the gateway actually sent upstream (the channel key rather than the
/// client's token, an added `stream_options.include_usage`, …).
actor RequestRecorder {
    static let capacity = 100

    struct Entry: Sendable {
        let method: String
        let path: String
        let query: String?
        let headers: [(String, String)]
        let body: [UInt8]
    }

    private var entries: [Entry] = []

    func record(_ entry: Entry) {
        entries.append(entry)
        if entries.count > Self.capacity { entries.removeFirst(entries.count - Self.capacity) }
    }

    func clear() { entries.removeAll() }

    /// `[{method, path, query, headers: {lowercased name: value}, body}]`, oldest first.
    /// `body` is the parsed JSON when the body was JSON, else its text (`null` when empty);
    /// `raw` is the body's bytes as received, as UTF-8 text (for byte-for-byte checks).
    func json() -> JSONValue {
        .array(
            entries.map { entry in
                let body: JSONValue =
                    entry.body.isEmpty ? .null : JSONValue.parse(entry.body) ?? .string(String(decoding: entry.body, as: UTF8.self))
                return [
                    "method": .string(entry.method),
                    "path": .string(entry.path),
                    "query": .optional(entry.query) { .string($0) },
                    "headers": .object(entry.headers.map { ($0.0, .string($0.1)) }),
                    "body": body,
                    "raw": .string(String(decoding: entry.body, as: UTF8.self)),
                ]
            }
        )
    }
}

/// Records every request except the introspection ones, before routing, so even
/// rejected (401) requests are visible to tests.
struct RecordingMiddleware: RouterMiddleware {
    typealias Context = MockRequestContext
    let recorder: RequestRecorder

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !request.uri.path.hasPrefix("/mock/") else { return try await next(request, context) }
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        // Repeated headers are joined with ", " as HTTP allows; names are lowercase in HTTPTypes.
        // HTTP/1 `Host` arrives as the request's authority, not as a header field.
        var headers: [(String, String)] = request.head.authority.map { [("host", $0)] } ?? []
        for field in request.headers {
            let name = field.name.canonicalName
            if let i = headers.firstIndex(where: { $0.0 == name }) {
                headers[i].1 += ", " + field.value
            } else {
                headers.append((name, field.value))
            }
        }
        await recorder.record(
            .init(
                method: request.method.rawValue,
                path: request.uri.path,
                query: request.uri.query,
                headers: headers,
                body: Array(body.readableBytesView)
            )
        )
        return try await next(request, context)
    }
}

/// `GET /mock/requests` lists the recorded requests; `DELETE /mock/requests` forgets them.
/// No authentication: these are for tests, never part of a provider's API.
enum IntrospectionRoutes {
    static func add(to router: Router<MockRequestContext>, recorder: RequestRecorder) {
        router.get("/mock/requests") { _, _ in
            jsonResponse(await recorder.json())
        }
        router.delete("/mock/requests") { _, _ in
            await recorder.clear()
            return Response(status: .noContent)
        }
    }
}
