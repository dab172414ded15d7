import Foundation
import Testing

/// The overview's rollup is folded once in the background right after a start
/// (on NIO's pool for blocking work, not the concurrency pool the relay runs
/// on), so the first overview does not wait for the whole log: the server logs
/// the fold with no overview request made.
@Suite struct OverviewFoldTests {
    @Test func theRollupIsFoldedAtStartWithoutARequest() async throws {
        let logPath = NSTemporaryDirectory() + "overview-fold-\(UUID().uuidString).log"
        #expect(FileManager.default.createFile(atPath: logPath, contents: nil))
        defer { try? FileManager.default.removeItem(atPath: logPath) }
        let log = try #require(FileHandle(forWritingAtPath: logPath))
        let server = try await ServerProcess(data: Seed.directory(), environment: ["TALLY_LOG_LEVEL": "info"], standardError: log)
        var text = ""
        for _ in 0..<100 where !text.contains("overview rollup folded") {
            try await Task.sleep(for: .milliseconds(100))
            text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        }
        await server.stop()
        try log.close()
        #expect(text.contains("overview rollup folded"), "\(text)")
    }
}
