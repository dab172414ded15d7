import Dispatch
import Foundation
import LMDB
import Synchronization
import Testing

@testable import Ledger

/// CRASH TEST — SIGKILL a child `tally` that appends under concurrent load.
///
/// Runs `tally bench append --data DIR --events N --batch B --acks`, which
/// prints `ack <seq>` (flushed) for every event whose append was acknowledged
/// durable, kills it with SIGKILL at a random moment, and checks that the log
/// opens, the hash chain verifies, and every acknowledged sequence number is
/// present; then appends again on the same directory. At least 20 rounds.
@Suite(.serialized) struct CrashTests {
    static let rounds = 24

    @Test(.timeLimit(.minutes(10)))
    func sigkillNeverLosesAnAcknowledgedEventNorBreaksTheChain() async throws {
        let tally = try TallyBinary.locate()
        let directory = temporaryPath("crash")
        defer { removeDirectory(directory) }
        // One complete short run first: `tally bench append` creates its bench user
        // and token on a fresh directory, and that setup is not idempotent (a kill
        // between creating the user and the token leaves a directory every later
        // run refuses with "username bench is taken"). Kills below land while
        // appending, which is what this test is about.
        let warmUp = try AppendingChild(binary: tally, directory: directory, events: 2, batch: 2)
        _ = warmUp.waitAndCollect()
        #expect(warmUp.process.terminationStatus == 0, "warm-up run failed: \(warmUp.errorOutput)")
        var generator = SystemRandomNumberGenerator()
        var lastHead: UInt64 = 0
        var totalAcked = 0
        for round in 1...Self.rounds {
            let batch = [2, 10, 100, 1_000].randomElement(using: &generator)!
            let child = try AppendingChild(binary: tally, directory: directory, events: 10_000_000, batch: batch)
            // A random moment: sometimes during startup, mostly while appending.
            let delayMs = round % 6 == 0 ? Int.random(in: 0...30, using: &generator) : Int.random(in: 50...700, using: &generator)
            try await Task.sleep(for: .milliseconds(delayMs))
            let acked = child.killAndCollect()
            totalAcked += acked.count
            #expect(
                child.exitedBySignal, "round \(round): tally exited by itself (\(child.terminationDescription)) before the kill: \(child.errorOutput)"
            )

            // Afterwards, in this process: the store opens and the chain verifies.
            do {
                let store = try LedgerStore(path: directory, options: crashCheckOptions())
                let head: UInt64
                do {
                    head = try verifyChain(store)
                } catch {
                    Issue.record("round \(round) (batch \(batch), killed after \(delayMs) ms): \(error)")
                    return
                }
                #expect(head >= lastHead, "round \(round): the log shrank from \(lastHead) to \(head)")
                if let highest = acked.max() {
                    #expect(highest <= head, "round \(round): seq \(highest) was acknowledged but the log ends at \(head)")
                }
                let missing = acked.filter { $0 > head || (try? store.event($0)) == nil }
                #expect(missing.isEmpty, "round \(round): acknowledged but missing: \(missing.prefix(10))")
                // The log is still one Tally can start from: it replays, and the projections are consistent.
                do {
                    let state = try fullReplay(store)
                    #expect(state.seq == head)
                    #expect(state.invariantViolations().isEmpty, "round \(round): \(state.invariantViolations().prefix(3))")
                } catch {
                    Issue.record("round \(round): replay after the kill failed: \(error)")
                }
                lastHead = head
                if ProcessInfo.processInfo.environment["TALLY_CRASH_TEST_VERBOSE"] != nil {
                    print(
                        "crash round \(round): batch \(batch), killed after \(delayMs) ms, \(acked.count) acks (max \(acked.max() ?? 0)), log head \(head)"
                    )
                }
            }  // the store is closed here, before the next child opens the directory
        }
        #expect(totalAcked > 0, "no append was ever acknowledged: is `tally bench append --acks` working?")
        #expect(lastHead > 0)
    }

    func crashCheckOptions() -> EnvironmentOptions {
        var options = EnvironmentOptions()
        options.mapSize = 64 << 20
        return options
    }
}

/// The `tally` executable of this package's build.
enum TallyBinary {
    struct Missing: Error, CustomStringConvertible {
        var searched: [String]
        var description: String { "no tally binary found (run `swift build --product tally`); looked in \(searched)" }
    }

    /// The package root: three levels above this file (Tests/LedgerTests/CrashTests.swift).
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `$TALLY_BINARY` (tools/test sets it), else the newest `tally` under
    /// `.build`, building it when there is none.
    static func locate() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["TALLY_BINARY"], FileManager.default.isExecutableFile(atPath: path) {
            return URL(fileURLWithPath: path)
        }
        if let found = newest() { return found }
        let build = Process()
        build.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        build.arguments = ["swift", "build", "--product", "tally"]
        build.currentDirectoryURL = packageRoot
        try build.run()
        build.waitUntilExit()
        guard let found = newest() else { throw Missing(searched: candidates.map(\.path)) }
        return found
    }

    static var candidates: [URL] {
        let build = packageRoot.appendingPathComponent(".build")
        var urls = [build.appendingPathComponent("debug/tally"), build.appendingPathComponent("release/tally")]
        if let triples = try? FileManager.default.contentsOfDirectory(atPath: build.path) {
            for triple in triples where triple.contains("-") {
                urls.append(build.appendingPathComponent("\(triple)/debug/tally"))
                urls.append(build.appendingPathComponent("\(triple)/release/tally"))
            }
        }
        return urls
    }

    static func newest() -> URL? {
        candidates
            .filter { FileManager.default.isExecutableFile(atPath: $0.path) }
            .max { modified($0) < modified($1) }
    }

    static func modified(_ url: URL) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date) ?? .distantPast
    }
}

/// A child `tally bench append --acks` and the acknowledgements it printed.
final class AppendingChild: Sendable {
    let process: Process
    private let output = Pipe()
    private let errors = Pipe()
    private let acked = Mutex<[UInt64]>([])
    private let stderrText = Mutex<String>("")
    private let readerDone = DispatchSemaphore(value: 0)

    init(binary: URL, directory: String, events: Int, batch: Int) throws {
        let process = Process()
        process.executableURL = binary
        process.arguments = [
            "bench", "append", "--data", directory, "--events", "\(events)", "--batch", "\(batch)", "--writers", "4", "--acks",
        ]
        process.standardOutput = output
        process.standardError = errors
        self.process = process
        try process.run()
        let stdout = output.fileHandleForReading, stderr = errors.fileHandleForReading
        let thread = Thread { [self] in
            var pending: [UInt8] = []
            while true {
                let chunk = stdout.availableData
                if chunk.isEmpty { break }
                pending.append(contentsOf: chunk)
                // Only complete lines count: a line cut by the kill was never fully printed.
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[..<newline], as: UTF8.self)
                    pending.removeSubrange(...newline)
                    if line.hasPrefix("ack "), let seq = UInt64(line.dropFirst(4).trimmingCharacters(in: .whitespaces)) {
                        acked.withLock { $0.append(seq) }
                    }
                }
            }
            let text = String(decoding: stderr.readDataToEndOfFile(), as: UTF8.self)
            stderrText.withLock { $0 = String(text.suffix(2_000)) }
            readerDone.signal()
        }
        thread.start()
    }

    /// SIGKILLs the child (if still running), waits for it, and returns every
    /// sequence number it acknowledged.
    func killAndCollect() -> [UInt64] {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        return waitAndCollect()
    }

    /// Waits for the child to end by itself and returns every sequence number it acknowledged.
    func waitAndCollect() -> [UInt64] {
        process.waitUntilExit()
        readerDone.wait()
        return acked.withLock { $0 }
    }

    var exitedBySignal: Bool { process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL }
    var terminationDescription: String { "\(process.terminationReason == .exit ? "exit" : "signal") \(process.terminationStatus)" }
    var errorOutput: String { stderrText.withLock { $0 } }
}
