import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import NIOCore
import TallyJSON

/// Request context of the mock: WebSocket-capable (for `/v1/realtime`) and holding
/// the connection, so `mock-abort` can drop it without answering.
struct MockRequestContext: RequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    let webSocket: WebSocketHandlerReference<MockRequestContext>
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.channel = source.channel
    }

    /// Audio uploads for transcriptions can be large.
    var maxUploadSize: Int { 32 * 1024 * 1024 }
}

extension HTTPField.Name {
    static let xAPIKey = Self("x-api-key")!
    static let xGoogAPIKey = Self("x-goog-api-key")!
    static let anthropicVersion = Self("anthropic-version")!
    static let xRequestID = Self("x-request-id")!
}

/// A JSON response with the content type every SDK checks.
func jsonResponse(_ body: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
    Response(
        status: status,
        headers: [.contentType: "application/json"],
        body: .init(byteBuffer: ByteBuffer(string: body.serialized))
    )
}

/// The request body as JSON; a 400 in the caller's family when it is not a JSON object.
func readJSONBody(_ request: Request, context: MockRequestContext, family: Family) async throws -> JSONValue {
    let buffer = try await request.body.collect(upTo: context.maxUploadSize)
    guard let json = JSONValue.parse(buffer.readableBytesView), case .object = json else {
        throw MockHTTPError(family, status: .badRequest, message: "The request body must be a JSON object.")
    }
    return json
}

/// Provider-looking ids (`chatcmpl-…`, `msg_…`); unique per response, never part of the deterministic rules.
func makeID(_ prefix: String) -> String {
    prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
}

/// Unix seconds, as the `created` fields carry them.
func unixNow() -> Int { Int(Date().timeIntervalSince1970) }
