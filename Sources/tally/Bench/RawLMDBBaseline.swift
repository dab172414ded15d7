import Foundation
import TallyJSON

/// The baseline for `bench append`: `tools/bench-lmdb-raw` (C, built by
/// `tools/bench` against liblmdb), run as its own process with the same number
/// of values of the same size, in transactions of the same size, committed
/// with the same sync — so nothing of Tally (Swift runtime, encoding, hashing,
/// indexing, queueing) is in the figure it is compared with.
enum RawLMDBBaseline {
    /// Events per second that `program` reports for `count` values of `valueSize` bytes, `batch` per transaction.
    static func appendRate(program: String, directory: String, count: Int, batch: Int, valueSize: Int, durable: Bool) throws -> Double {
        try? FileManager.default.removeItem(atPath: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = [directory, "\(count)", "\(batch)", "\(valueSize)", durable ? "durable" : "relaxed"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError("\(program) exited with status \(process.terminationStatus)") }
        guard let rate = try? JSONParser.parse(Array(data))["events_per_sec"]?.int64 else {
            throw BenchError("\(program) printed no events_per_sec: \(String(decoding: data, as: UTF8.self))")
        }
        return Double(rate)
    }
}
