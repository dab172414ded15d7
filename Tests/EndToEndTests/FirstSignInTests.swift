import Foundation
import NIOHTTP1
import Testing

/// How an operator first gets into the dashboard, through the real binary:
/// the demo's printed one-time password, `tally admin password`, and
/// `TALLY_ADMIN_PASSWORD`. No password ever shows up in the log or the API.
@Suite(.serialized) struct FirstSignInTests {
    static func login(_ base: String, _ username: String, _ password: String) async throws -> HTTPResult {
        try await HTTP.post("\(base)/api/auth/login", json: ["username": username, "password": password])
    }

    static func cookie(_ response: HTTPResult) -> String? {
        response.headers["set-cookie"].first.map { String($0.split(separator: ";")[0]) }
    }

    /// The line of `text` after `prefix`, trimmed.
    static func line(after prefix: String, in text: String) -> String? {
        text.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { $0.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces) }
    }

    /// `tally serve --demo` with its standard output in a file; returns when the demo printed its token.
    static func demo(_ data: String, output: String) async throws -> ServerProcess {
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let server = try await ServerProcess(
            data: data, arguments: ["--demo"], standardOutput: try FileHandle(forWritingTo: URL(fileURLWithPath: output)))
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: output, encoding: .utf8), text.contains("Demo token (shown once): sk-") { return server }
            try await Task.sleep(for: .milliseconds(100))
        }
        await server.stop()
        throw HarnessError("the demo printed no token")
    }

    @Test func theDemoPrintsAOneTimePasswordThatTheFirstSignInReplaces() async throws {
        let data = Seed.directory()
        let output = data + "-stdout.txt"
        let server = try await Self.demo(data, output: output)
        let printed = try String(contentsOfFile: output, encoding: .utf8)
        #expect(Self.line(after: "Dashboard:", in: printed) == "\(server.baseURL)/  (sign in as: admin)")
        let prefix = "One-time password (shown once; you choose your own at first sign-in):"
        let oneTime = try #require(Self.line(after: prefix, in: printed))
        #expect(oneTime.count == 20)

        let login = try await Self.login(server.baseURL, "admin", oneTime)
        #expect(login.status == 200)
        #expect(login.json?["password_change_required"] as? Bool == true)
        let pending = try #require(Self.cookie(login))
        // Until a password of one's own is chosen, only me, password and logout answer.
        let tokens = try await HTTP.get("\(server.baseURL)/api/tokens", headers: [("Cookie", pending)])
        #expect(tokens.status == 403)
        #expect((tokens.json?["error"] as? [String: Any])?["code"] as? String == "password_change_required")
        let me = try await HTTP.get("\(server.baseURL)/api/auth/me", headers: [("Cookie", pending)])
        #expect(me.json?["password_change_required"] as? Bool == true)
        let chosen = "my own demo password"
        let changed = try await HTTP.post(
            "\(server.baseURL)/api/auth/password", headers: [("Cookie", pending), ("X-Tally-CSRF", "1")],
            json: ["current_password": oneTime, "new_password": chosen])
        #expect(changed.status == 204)
        let fresh = try #require(Self.cookie(changed))
        #expect(try await HTTP.get("\(server.baseURL)/api/tokens", headers: [("Cookie", fresh)]).status == 200)
        #expect(try await Self.login(server.baseURL, "admin", oneTime).status == 401)
        let again = try await Self.login(server.baseURL, "admin", chosen)
        #expect(again.status == 200)
        #expect(again.json?["password_change_required"] as? Bool == false)
        let events = try await HTTP.get("\(server.baseURL)/api/events?after=0&limit=1000", headers: [("Cookie", try #require(Self.cookie(again)))])
        #expect(events.status == 200)
        #expect(!events.text.contains(oneTime) && !events.text.contains(chosen) && !events.text.contains("$2"))
        await server.stop()

        // Neither password is anywhere in the data directory, nor in the server's output after the first banner.
        for file in try FileManager.default.contentsOfDirectory(atPath: data) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: data + "/" + file))
            #expect(bytes.range(of: Data(oneTime.utf8)) == nil, "\(file)")
            #expect(bytes.range(of: Data(chosen.utf8)) == nil, "\(file)")
        }
        // A second demo start prints no new one-time password: the admin has chosen their own.
        let output2 = data + "-stdout2.txt"
        let second = try await Self.demo(data, output: output2)
        let printed2 = try String(contentsOfFile: output2, encoding: .utf8)
        #expect(Self.line(after: prefix, in: printed2) == nil)
        #expect(printed2.contains("Password: the one you chose"))
        #expect(try await Self.login(second.baseURL, "admin", chosen).json?["password_change_required"] as? Bool == false)
        await second.stop()
    }

    @Test func adminPasswordSetsThePasswordOnAStoppedServersDirectory() async throws {
        let data = Seed.directory()
        var server = try await ServerProcess(data: data)  // a new install: creates the admin, with no password
        #expect(try await Self.login(server.baseURL, "admin", "anything at all").status == 401)
        // The server holds the writer lock: the command refuses and changes nothing.
        #expect(try TallyCommand.run(["admin", "password", "--data", data], input: "first password\n").status == 2)
        await server.stop()

        #expect(try TallyCommand.run(["admin", "password", "--data", data], input: "short\n").status == 2)
        #expect(try TallyCommand.run(["admin", "password", "--data", data, "--user", "nobody"], input: "first password\n").status == 2)
        let set = try TallyCommand.run(["admin", "password", "--data", data], input: "first password\n")
        #expect(set.status == 0)
        #expect(!set.output.contains("first password"))
        server = try await ServerProcess(data: data)
        let login = try await Self.login(server.baseURL, "admin", "first password")
        #expect(login.status == 200)
        #expect(login.json?["password_change_required"] as? Bool == false)
        await server.stop()

        let generated = try TallyCommand.run(["admin", "password", "--data", data, "--generate"])
        #expect(generated.status == 0)
        let oneTime = try #require(
            Self.line(after: "One-time password for admin (shown once; choose your own at the first sign-in):", in: generated.output))
        server = try await ServerProcess(data: data)
        #expect(try await Self.login(server.baseURL, "admin", "first password").status == 401)
        let pending = try await Self.login(server.baseURL, "admin", oneTime)
        #expect(pending.json?["password_change_required"] as? Bool == true)
        await server.stop()
    }

    @Test func adminPasswordFromTheEnvironmentAtBootstrap() async throws {
        let data = Seed.directory()
        let refused = try await #require(throws: HarnessError.self) {
            try await ServerProcess(data: data, environment: ["TALLY_ADMIN_PASSWORD": "short"])
        }
        #expect(refused.description.contains("exited with 2"))
        let server = try await ServerProcess(data: data, environment: ["TALLY_ADMIN_PASSWORD": "the operator's choice"])
        let login = try await Self.login(server.baseURL, "admin", "the operator's choice")
        #expect(login.status == 200)
        #expect(login.json?["password_change_required"] as? Bool == false)
        await server.stop()
        // Once the admin has a password, the variable no longer changes it.
        let restarted = try await ServerProcess(data: data, environment: ["TALLY_ADMIN_PASSWORD": "another password"])
        #expect(try await Self.login(restarted.baseURL, "admin", "another password").status == 401)
        #expect(try await Self.login(restarted.baseURL, "admin", "the operator's choice").status == 200)
        await restarted.stop()
    }
}
