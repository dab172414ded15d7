import Foundation
import FoundationNetworking
import Ledger
import TallyJSON

/// `tally apply --server`: sends a declared configuration to a running
/// gateway's `POST /api/config/apply` (admin), which plans it against the live
/// state and applies it in one batch or not at all. The file's key sources
/// are read here, on the operator's machine, and sent as the keys themselves
/// (over the connection the admin key already travels): the server never
/// reads its own environment or files for a request. `tally export-config
/// --server` reads the live configuration back (`GET /api/config/export`).
struct ConfigClient {
    /// Long enough for a large file on a loaded server; a dead one still fails in bounded time.
    static let timeoutSeconds: TimeInterval = 60

    /// The plan the server made (and, unless a dry run, applied), and what it wrote.
    struct Answer {
        var steps: [(kind: ConfigPlan.Kind, line: String)]
        var applied: AppliedConfig
    }

    struct Refused: Error, CustomStringConvertible {
        let description: String
    }

    let base: URL
    let key: String

    init(server: String, key: String?) throws {
        guard server.hasPrefix("http://") || server.hasPrefix("https://"), let base = URL(string: server) else {
            throw Refused(description: "--server \(server) is not an http(s) URL")
        }
        guard let key, !key.isEmpty else { throw Refused(description: "--server needs an admin's access key: --key KEY or $TALLY_ADMIN_KEY") }
        self.base = base
        self.key = key
    }

    func send(_ document: ConfigNode, dryRun: Bool) async throws -> Answer {
        let url = base.appendingPathComponent("api/config/apply")
        var request = URLRequest(url: url, timeoutInterval: Self.timeoutSeconds)
        request.httpMethod = "POST"
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(JSONValue.object([("config", document.json), ("dry_run", .bool(dryRun))]).serialized.utf8)
        let (body, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let answer = try? JSONParser.parse(Array(body))
        guard status == 200, let answer else {
            let message = answer?["error"]?["message"]?.stringValue ?? String(decoding: body.prefix(500), as: UTF8.self)
            throw Refused(description: "\(url.absoluteString) answered \(status), nothing was changed: \(message)")
        }
        func list(_ key: String) -> [JSONValue] { if case .array(let items)? = answer[key] { items } else { [] } }
        func created(_ key: String) -> [JSONValue] { if case .array(let items)? = answer["created"]?[key] { items } else { [] } }
        let first = answer["first_seq"].flatMap { $0.int64 }, last = answer["last_seq"].flatMap { $0.int64 }
        let applied = AppliedConfig(
            seqs: first.flatMap { first in last.map { UInt64(first)...UInt64($0) } },
            users: created("users").map { ($0["username"]?.stringValue ?? "", $0["access_key"]?.stringValue ?? "") },
            tokens: created("tokens").map { ($0["owner"]?.stringValue ?? "", $0["name"]?.stringValue ?? "", $0["key"]?.stringValue ?? "") },
            webhooks: created("webhooks").map { ($0["url"]?.stringValue ?? "", $0["secret"]?.stringValue ?? "") })
        return Answer(
            steps: try list("changes").map { change in
                guard let kind = ConfigPlan.Kind.allCases.first(where: { "\($0)" == change["action"]?.stringValue }) else {
                    throw Refused(description: "\(url.absoluteString) answered a change this tally does not know: \(change.serialized)")
                }
                return (kind, change["summary"]?.stringValue ?? "")
            }, applied: applied)
    }

    /// The live configuration in `tally apply`'s format, as the server writes it.
    func export(webhookURLs: Bool) async throws -> String {
        var components = URLComponents(url: base.appendingPathComponent("api/config/export"), resolvingAgainstBaseURL: false)
        if webhookURLs { components?.queryItems = [URLQueryItem(name: "webhook_urls", value: "true")] }
        guard let url = components?.url else { throw Refused(description: "--server \(base.absoluteString) is not an http(s) URL") }
        var request = URLRequest(url: url, timeoutInterval: Self.timeoutSeconds)
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        let (body, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            let message = (try? JSONParser.parse(Array(body)))?["error"]?["message"]?.stringValue ?? String(decoding: body.prefix(500), as: UTF8.self)
            throw Refused(description: "\(url.absoluteString) answered \(status): \(message)")
        }
        return String(decoding: body, as: UTF8.self)
    }
}
