import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ledger
import Logging
import NIOCore
import Relay
import TallyServer
import Testing

/// SPEC §1: disable, enable, edit and delete take effect on the very next
/// relay request. The server runs in-process around a ledger the test holds,
/// standing in for the management API (which changes the same ledger actor).
@Suite(.serialized) struct LiveChangesTests {
    static let chat = ByteBuffer(string: #"{"model":"mock-gpt","max_tokens":2,"messages":[{"role":"user","content":"a b"}]}"#)

    /// The mock upstream, a seeded ledger the test holds, and the server around it in-process.
    func live(_ body: @Sendable (Seeded, Ledger, any TestClientProtocol) async throws -> Void) async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: mock.baseURL)
        let ledger = try Ledger(path: data, logger: Logger(label: "live"))
        let app = try await buildApplication(ServerConfiguration(dataPath: data, port: 0), ledger: ledger, logger: Logger(label: "live"))
        try await app.test(.live) { client in try await body(seeded, ledger, client) }
    }

    @Test func tokenChangesApplyToTheNextRequest() async throws {
        let chat = Self.chat
        let claude = ByteBuffer(string: #"{"model":"mock-claude","max_tokens":2,"messages":[{"role":"user","content":"a b"}]}"#)
        try await live { seeded, ledger, client in
            func send(_ body: ByteBuffer, path: String = "/v1/chat/completions") async throws -> (Int, String) {
                try await client.execute(
                    uri: path, method: .post,
                    headers: [.authorization: "Bearer \(seeded.key)", .contentType: "application/json"],
                    body: body
                ) { response in (response.status.code, String(buffer: response.body)) }
            }
            #expect(try await send(chat).0 == 200)
            _ = try await ledger.setTokenEnabled(seeded.token, false, by: .system)
            let disabled = try await send(chat)
            #expect(disabled.0 == 401 && disabled.1.contains("token_disabled"))
            _ = try await ledger.setTokenEnabled(seeded.token, true, by: .system)
            #expect(try await send(chat).0 == 200)
            _ = try await ledger.updateToken(TokenUpdated(id: seeded.token, models: ["mock-claude"]), by: .system)
            let edited = try await send(chat)
            #expect(edited.0 == 403 && edited.1.contains("model_not_allowed"))
            #expect(try await send(claude, path: "/v1/messages").0 == 200)
            try await ledger.deleteToken(seeded.token, by: .system)
            let deleted = try await send(claude, path: "/v1/messages")
            #expect(deleted.0 == 401)
        }
    }

    /// The relay keeps channel keys unsealed in memory; a key change must still
    /// reach the very next request (the mock accepts only `mock-key`).
    @Test func aChannelKeyChangeAppliesToTheNextRequest() async throws {
        try await live { seeded, ledger, client in
            let channel = try #require(await ledger.read { $0.channels.values.first { $0.kind == .openai } })
            func send() async throws -> Int {
                try await client.execute(
                    uri: "/v1/chat/completions", method: .post,
                    headers: [.authorization: "Bearer \(seeded.key)", .contentType: "application/json"], body: Self.chat
                ) { response in Int(response.status.code) }
            }
            #expect(try await send() == 200)
            try await ledger.setChannel(channel, key: "revoked-key", by: .system)
            #expect(try await send() != 200)
            try await ledger.setChannel(channel, key: "mock-key", by: .system)
            #expect(try await send() == 200)
        }
    }
}
