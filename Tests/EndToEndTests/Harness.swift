import AsyncHTTPClient
import Foundation
import Hummingbird
import Ledger
import Logging
import MockUpstream
import NIOCore
import NIOHTTP1
import Relay
import Synchronization
import Testing

/// The built `tally` binary, next to the test bundle in the build products folder.
enum TallyBinary {
    static var url: URL {
        get throws {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            for candidate in [".build/debug/tally", ".build/release/tally"] {
                let url = root.appendingPathComponent(candidate)
                if FileManager.default.isExecutableFile(atPath: url.path) { return url }
            }
            throw HarnessError("tally is not built; run `swift build --product tally` first")
        }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A free TCP port on loopback (bind to 0, read it back, release it), never
/// one this process handed out before: suites run in parallel, and once
/// released a port may come back from the kernel to the next caller before
/// the first caller's server has bound it.
func freePort() throws -> Int {
    for _ in 0..<100 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw HarnessError("cannot find a free port") }
        let port = Int(UInt16(bigEndian: address.sin_port))
        if handedOutPorts.withLock({ $0.insert(port).inserted }) { return port }
    }
    throw HarnessError("cannot find a port not handed out before")
}

private let handedOutPorts = Mutex<Set<Int>>([])

/// Whether process `pid` holds a listening TCP socket on loopback port `port`
/// (read from /proc): a healthy answer on a port proves nothing by itself,
/// since another process may have bound the port between `freePort` and the server's own bind.
func listens(pid: pid_t, port: Int) -> Bool {
    let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
    var sockets: Set<Substring> = []
    for fd in fds {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"), target.hasPrefix("socket:[")
        else { continue }
        sockets.insert(target.dropFirst("socket:[".count).dropLast())
    }
    let local = String(format: ":%04X", port)
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        // Read to the end: a procfs file reports size 0 and comes a page at a time.
        let bytes = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: table)).readToEnd()) ?? Data()
        let text = String(decoding: bytes, as: UTF8.self)
        // Columns: sl, local address, remote address, state (0A: listening), …, inode (the tenth).
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            if fields.count > 9, fields[1].hasSuffix(local), fields[3] == "0A", sockets.contains(fields[9]) { return true }
        }
    }
    return false
}

/// The mock provider, in the test process, on a free port.
final class MockServer: Sendable {
    let port: Int
    private let task: Task<Void, any Error>

    init() async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = buildMockUpstream(MockUpstreamConfiguration(host: "127.0.0.1", port: 0, apiKey: "mock-key")) { port in
            continuation.yield(port)
        }
        task = Task { try await app.run() }
        var iterator = stream.makeAsyncIterator()
        guard let port = await iterator.next() else { throw HarnessError("mock did not start") }
        self.port = port
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    func stop() { task.cancel() }
}

/// What the seeding made: the keys a test uses.
struct Seeded: Sendable {
    var admin: UserID
    var token: TokenID
    var key: String
}

/// A data directory seeded through the ledger library, then closed for the server.
enum Seed {
    static let prices: [String: Price] = [
        "mock-gpt": Price(input: 2_000_000, output: 8_000_000, cachedInput: 500_000),
        "mock-gpt-cached": Price(input: 2_000_000, output: 8_000_000, cachedInput: 500_000),
        "mock-claude": Price(input: 3_000_000, output: 15_000_000, cachedInput: 300_000),
        "mock-gemini": Price(input: 1_000_000, output: 4_000_000, cachedInput: 250_000),
        "mock-slow": Price(input: 2_000_000, output: 8_000_000),
        "mock-no-usage": Price(input: 2_000_000, output: 8_000_000),
        "mock-abort": Price(input: 2_000_000, output: 8_000_000),
        "mock-error-500": Price(input: 2_000_000, output: 8_000_000),
        "mock-error-429": Price(input: 2_000_000, output: 8_000_000),
        "mock-error-401": Price(input: 2_000_000, output: 8_000_000),
        "mock-error-quota": Price(input: 2_000_000, output: 8_000_000),
        "mock-error-400": Price(input: 2_000_000, output: 8_000_000),
        "mock-embedding": Price(input: 100_000),
        "mock-image": Price(perRequest: 40_000),
        "mock-unrouted": Price(input: 1_000_000, output: 1_000_000),
        "mock-realtime": Price(input: 5_000_000, output: 20_000_000),
    ]

    /// `mock-slow` on an Anthropic and a Gemini channel too (the seed serves it on the OpenAI one only).
    static let slowEverywhere: @Sendable (Ledger, UserID) async throws -> Void = { ledger, _ in
        let mock = await ledger.read { state in state.channels.values.first { $0.kind == .openai }?.baseURL } ?? ""
        try await ledger.setChannel(
            ChannelDefinition(name: "anthropic-slow", kind: .anthropic, baseURL: mock, models: ["mock-slow"]),
            key: "mock-key", by: .system)
        try await ledger.setChannel(
            ChannelDefinition(name: "gemini-slow", kind: .gemini, baseURL: mock, models: ["mock-slow"]),
            key: "mock-key", by: .system)
    }

    static func directory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tally-e2e-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Group, prices, admin with `balance`, channels of all three types at `mock`, one token;
    /// events dated by `clock` (a test's own, for a past it closes).
    static func make(
        at path: String, mock: String, balance: Int64 = 1_000_000_000, token: TokenDraft = TokenDraft(name: "e2e"),
        rpm: Int64? = nil, extra: (@Sendable (Ledger, UserID) async throws -> Void)? = nil,
        clock: @escaping @Sendable () -> Int64 = LedgerClock.now
    ) async throws -> Seeded {
        let ledger = try Ledger(path: path, logger: Logger(label: "seed"), clock: clock)
        try await ledger.setGroup("default", multiplier: .one, rpm: rpm, by: .system)
        for (model, price) in prices { try await ledger.setPrice(model, price, by: .system) }
        let admin = try await ledger.createUser(
            UserDraft(username: "admin", role: .admin, group: "default"),
            accessKey: "tk-" + String(repeating: "a", count: 40), by: .system)
        _ = try await ledger.credit(admin.id, amount: balance, by: .system)
        let openAIModels = prices.keys.filter { !["mock-claude", "mock-gemini", "mock-unrouted"].contains($0) }.sorted()
        try await ledger.setChannel(
            ChannelDefinition(name: "openai", kind: .openai, baseURL: mock, models: openAIModels), key: "mock-key", by: .system)
        try await ledger.setChannel(
            ChannelDefinition(name: "anthropic", kind: .anthropic, baseURL: mock, models: ["mock-claude"]), key: "mock-key", by: .system)
        try await ledger.setChannel(
            ChannelDefinition(name: "gemini", kind: .gemini, baseURL: mock, models: ["mock-gemini"]), key: "mock-key", by: .system)
        let (created, key) = try await ledger.createToken(token, owner: admin.id, by: .system)
        try await extra?(ledger, admin.id)
        await ledger.close()
        return Seeded(admin: admin.id, token: created.id, key: key)
    }

    /// Opens the directory (server stopped) and hands the ledger to `body`.
    static func inspect<T: Sendable>(_ path: String, _ body: (Ledger) async throws -> T) async throws -> T {
        let ledger = try Ledger(path: path, logger: Logger(label: "inspect"))
        do {
            let result = try await body(ledger)
            await ledger.close()
            return result
        } catch {
            await ledger.close()
            throw error
        }
    }
}

/// Expects each request settled exactly once, not estimated, with this usage and these credits.
func expectSettled(_ expected: [String: (usage: Usage, credits: Int64)], in ledger: Ledger) throws {
    for (requestID, (usage, credits)) in expected {
        let settled = try ledger.log.events(requestID: requestID).compactMap { envelope -> ChargeSettled? in
            if case .chargeSettled(let settled) = envelope.event { settled } else { nil }
        }
        #expect(settled.count == 1, "\(requestID)")
        #expect(settled.first?.usage == usage, "\(requestID)")
        #expect(settled.first?.credits == credits, "\(requestID)")
        #expect(settled.first?.estimated == false, "\(requestID)")
    }
}

/// The start of most end-to-end tests: the mock upstream, a seeded data
/// directory and `tally serve` on it. `stop()` stops both processes.
struct Gateway: Sendable {
    let mock: MockServer
    let data: String
    let seeded: Seeded
    let server: ServerProcess

    static func start(
        token: TokenDraft = TokenDraft(name: "e2e"), rpm: Int64? = nil, arguments: [String] = [], environment: [String: String] = [:],
        extra: (@Sendable (Ledger, UserID) async throws -> Void)? = nil
    ) async throws -> Gateway {
        let mock = try await MockServer()
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: mock.baseURL, token: token, rpm: rpm, extra: extra)
        let server = try await ServerProcess(data: data, arguments: arguments, environment: environment)
        return Gateway(mock: mock, data: data, seeded: seeded, server: server)
    }

    var base: String { server.baseURL }
    var key: String { seeded.key }

    /// Stops the server (gracefully) and the mock; the data directory stays for inspection.
    func stop() async {
        await server.stop()
        mock.stop()
    }
}

/// `tally serve` as a child process.
final class ServerProcess: @unchecked Sendable {
    let port: Int
    let process: Process
    let dataPath: String

    /// `standardError`: where the server's log goes (default: the test's own standard error);
    /// `standardOutput`: where its one-time keys and the demo's banner go (default: nowhere).
    init(
        data: String, arguments: [String] = [], environment: [String: String] = [:], standardError: FileHandle? = nil,
        standardOutput: FileHandle? = nil
    ) async throws {
        dataPath = data
        var env = ProcessInfo.processInfo.environment
        env["TALLY_LOG_LEVEL"] = "warning"
        for (key, value) in environment { env[key] = value }
        // Healthy is this process answering on its port. Another process that bound the port
        // first (its own bind then fails) is a lost race for the port: the start is retried on another.
        var attempt = 0
        while true {
            attempt += 1
            let port = try freePort()
            let process = Process()
            process.executableURL = try TallyBinary.url
            process.arguments = ["serve", "--data", data, "--port", "\(port)"] + arguments
            process.environment = env
            process.standardOutput = standardOutput ?? FileHandle.nullDevice
            if let standardError { process.standardError = standardError }
            try process.run()
            LiveServers.started(process.processIdentifier)
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline, process.isRunning {
                if let response = try? await HTTP.get("http://127.0.0.1:\(port)/healthz"), response.status == 200,
                    listens(pid: process.processIdentifier, port: port)
                {
                    (self.port, self.process) = (port, process)
                    return
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            if process.isRunning {
                Glibc.kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                LiveServers.ended(process.processIdentifier)
                throw HarnessError("tally serve did not become healthy")
            }
            LiveServers.ended(process.processIdentifier)
            let taken = (try? await HTTP.get("http://127.0.0.1:\(port)/healthz")) != nil
            guard taken, attempt < 3 else { throw HarnessError("tally serve exited with \(process.terminationStatus)") }
        }
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// SIGTERM (graceful) and wait.
    func stop() async {
        guard process.isRunning else { return }
        process.terminate()
        await waitForExit()
    }

    /// SIGKILL: a crash.
    func kill() async {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        await waitForExit()
    }

    private func waitForExit() async {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
        LiveServers.ended(process.processIdentifier)
    }
}

/// Servers still running when the test process exits (a test that failed or
/// hit its time limit before `stop()`) are killed then: left running, they
/// would hold `swift test`'s output pipe open and hang the whole run.
enum LiveServers {
    private static let running = Mutex<Set<pid_t>>([])
    private static let atExit: Void = { atexit { LiveServers.killAll() } }()

    static func started(_ pid: pid_t) {
        _ = atExit
        running.withLock { _ = $0.insert(pid) }
    }

    static func ended(_ pid: pid_t) {
        running.withLock { _ = $0.remove(pid) }
    }

    private static func killAll() {
        for pid in running.withLock({ $0 }) { Glibc.kill(pid, SIGKILL) }
    }
}

/// A `tally` command (not `serve`) run to its end: exit status and standard output.
enum TallyCommand {
    /// `input`: written to its standard input (which is otherwise empty); `environment`: added to this
    /// process's; `errors`: standard error goes into `output` too (else it is dropped).
    /// Standard output goes to a file, read once the command exited: a pipe's
    /// end of file would wait for every process that inherited its write end
    /// (a server another test started at the same moment) to exit too.
    static func run(
        _ arguments: [String], input: String? = nil, environment: [String: String] = [:], errors: Bool = false
    ) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = try TallyBinary.url
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, added in added }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tally-command-\(UUID().uuidString)").path
        guard FileManager.default.createFile(atPath: path, contents: nil) else { throw HarnessError("cannot create \(path)") }
        defer { try? FileManager.default.removeItem(atPath: path) }
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        process.standardOutput = output
        process.standardError = errors ? output : FileHandle.nullDevice
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        try output.close()
        stdin.fileHandleForWriting.write(Data((input ?? "").utf8))
        try stdin.fileHandleForWriting.close()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self))
    }
}

/// A response read whole.
struct HTTPResult: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: Data

    var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
    var text: String { String(decoding: body, as: UTF8.self) }
}

enum HTTP {
    static func get(_ url: String, headers: [(String, String)] = []) async throws -> HTTPResult {
        try await send(url, method: .GET, headers: headers, body: nil)
    }

    /// `client`: the shared one opens at most 8 connections per host; a test that needs more in flight brings its own.
    static func post(_ url: String, headers: [(String, String)] = [], json: Any, client: HTTPClient = .shared) async throws -> HTTPResult {
        let data = try JSONSerialization.data(withJSONObject: json)
        return try await send(url, method: .POST, headers: headers + [("Content-Type", "application/json")], body: data, client: client)
    }

    static func send(
        _ url: String, method: HTTPMethod, headers: [(String, String)], body: Data?, client: HTTPClient = .shared
    ) async throws -> HTTPResult {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return HTTPResult(status: Int(response.status.code), headers: response.headers, body: Data(bytes.readableBytesView))
    }
}
