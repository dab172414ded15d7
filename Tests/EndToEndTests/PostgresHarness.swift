import Foundation
import Synchronization

/// The PostgreSQL the cluster tests run against: `$TALLY_TEST_POSTGRES_URL`
/// when `tools/test` started one, else one this process starts through
/// `tools/lib/postgres.sh` (installing PostgreSQL when missing) and stops at
/// exit. Never skipped: without PostgreSQL the cluster tests fail, saying why.
enum TestPostgres {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    private static let script = root.appendingPathComponent("tools/lib/postgres.sh").path
    private static let shared = Mutex<String?>(nil)
    /// Servers this process started, stopped at exit whatever the tests did.
    private static let started = Mutex<Set<String>>([])
    private static let counter = Atomic<Int>(0)

    /// The shared server's URL (its `postgres` database).
    static func server() throws -> String {
        if let url = ProcessInfo.processInfo.environment["TALLY_TEST_POSTGRES_URL"], !url.isEmpty { return url }
        return try shared.withLock { url in
            if let url { return url }
            let server = try PrivatePostgres.start()
            url = server.url
            return server.url
        }
    }

    /// A new, empty database on the shared server: each test its own cluster.
    static func database() throws -> String {
        try database(on: try server())
    }

    static func database(on server: String) throws -> String {
        let name = "tally_test_\(getpid())_\(counter.add(1, ordering: .relaxed).newValue)"
        return try script(["createdb", server, name])
    }

    /// Runs `tools/lib/postgres.sh` with `arguments`: its standard output, trimmed, or an error with it.
    @discardableResult
    static func script(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script] + arguments
        // A file, not a pipe: see `TallyCommand.run`.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tally-pg-output-\(UUID().uuidString)").path
        guard FileManager.default.createFile(atPath: path, contents: nil) else { throw HarnessError("cannot create \(path)") }
        defer { try? FileManager.default.removeItem(atPath: path) }
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        process.standardOutput = output
        try process.run()
        try output.close()
        process.waitUntilExit()
        let text = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0 else {
            throw HarnessError("tools/lib/postgres.sh \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): \(text)")
        }
        return text
    }

    fileprivate static func register(_ directory: String) {
        let first = started.withLock { started in
            defer { started.insert(directory) }
            return started.isEmpty
        }
        if first { atexit { TestPostgres.stopAll() } }
    }

    fileprivate static func unregister(_ directory: String) {
        _ = started.withLock { $0.remove(directory) }
    }

    private static func stopAll() {
        for directory in started.withLock({ $0 }) { _ = try? script(["stop", directory]) }
    }
}

/// A PostgreSQL server of a test's own, for a test that stops and restarts it.
struct PrivatePostgres {
    let directory: String
    let url: String

    static func start() throws -> PrivatePostgres {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tally-pg-\(UUID().uuidString)").path
        TestPostgres.register(directory)
        return PrivatePostgres(directory: directory, url: try TestPostgres.script(["start", directory]))
    }

    /// Stops the server, keeping its data: an outage.
    func pause() throws { try TestPostgres.script(["pause", directory]) }

    /// Starts it again on the same port.
    func resume() throws { try TestPostgres.script(["resume", directory]) }

    func stop() {
        _ = try? TestPostgres.script(["stop", directory])
        TestPostgres.unregister(directory)
    }
}
