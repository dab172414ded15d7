import Foundation
import FoundationNetworking
import Ledger

/// Asks a running server where its log stands, for `tally reconcile --server`:
/// `GET /healthz` → `{"status":"ok","seq":N}`, then
/// `GET /api/events?after=N-1&limit=1` (admin) → that event's type and hash,
/// which must match the same event in the data directory. Deliberately small:
/// one request each, a timeout, and plain `JSONSerialization` for reading
/// (key order does not matter when reading).
struct ServerProbe {
    /// How long either request may take: a reconcile should not hang on a dead server.
    static let timeoutSeconds: TimeInterval = 10

    struct Head { var seq: UInt64; var type: String?; var hash: String? }

    enum ProbeError: Error, CustomStringConvertible {
        case badURL(String)
        case http(String, Int)
        case badBody(String)
        var description: String {
            switch self {
            case .badURL(let url): "--server \(url) is not an http(s) URL"
            case .http(let path, let status): "the server answered \(status) to \(path)"
            case .badBody(let path): "the server's answer to \(path) is not the expected JSON"
            }
        }
    }

    let base: String
    let adminKey: String?

    init(server: String, adminKey: String?) throws {
        guard server.hasPrefix("http://") || server.hasPrefix("https://"), URL(string: server) != nil else { throw ProbeError.badURL(server) }
        base = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.adminKey = adminKey
    }

    /// The server's head sequence number from `/healthz`.
    func headSeq() async throws -> UInt64 {
        let health = try await get("/healthz")
        guard let seqNumber = health["seq"] as? NSNumber else { throw ProbeError.badBody("/healthz") }
        return seqNumber.uint64Value
    }

    /// The server's event `seq` from `/api/events` (admin).
    func event(_ seq: UInt64) async throws -> Head {
        let path = "/api/events?after=\(seq - 1)&limit=1"
        let events = try await get(path)
        guard let data = events["data"] as? [[String: Any]], let first = data.first,
            (first["seq"] as? NSNumber)?.uint64Value == seq
        else { throw ProbeError.badBody(path) }
        return Head(seq: seq, type: first["type"] as? String, hash: first["hash"] as? String)
    }

    private func get(_ path: String) async throws -> [String: Any] {
        guard let url = URL(string: base + path) else { throw ProbeError.badURL(base + path) }
        var request = URLRequest(url: url, timeoutInterval: ServerProbe.timeoutSeconds)
        if let adminKey { request.setValue("Bearer \(adminKey)", forHTTPHeaderField: "Authorization") }
        let (body, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else { throw ProbeError.http(path, status) }
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { throw ProbeError.badBody(path) }
        return object
    }
}
