import HTTPTypes
import Hummingbird
import TallyJSON

/// JSON responses. API answers are never cached: they carry balances and
/// token states that change with every request.
enum JSONResponse {
    static func make(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(512)
        value.write(into: &bytes)
        bytes.append(0x0A)
        var buffer = ByteBuffer()
        buffer.writeBytes(bytes)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: buffer))
    }

    static func noContent() -> Response {
        Response(status: .noContent, headers: [.cacheControl: "no-store"])
    }

    /// `{"data": [...], "next_cursor": …}`, the shape of every list.
    static func list(_ rows: [JSONValue], next: String?) -> Response {
        make(.object([("data", .array(rows)), ("next_cursor", next.map(JSONValue.string) ?? .null)]))
    }
}
