import Foundation
import Glibc
import LMDB
import Ledger
import Logging

/// The ledger a write benchmark measures: `sync` as asked, no snapshots (they would land inside the timed writes).
func benchLedger(
    at path: String, sync: EnvironmentOptions.Sync, clock: @escaping @Sendable () -> Int64 = LedgerClock.now
) throws -> Ledger {
    var configuration = LedgerConfiguration()
    configuration.environment.sync = sync
    configuration.snapshotEvery = 0
    return try Ledger(path: path, configuration: configuration, logger: Logger(label: "tally.bench"), clock: clock)
}

/// Monotonic nanoseconds.
func monotonicNanos() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

/// User plus system CPU time of this process so far, in seconds (every thread).
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    let micros = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1_000_000 + Int(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec)
    return Double(micros) / 1e6
}

/// Resident memory of this process in bytes (from /proc/self/statm).
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Prints a result: readable lines, then (with `--json`) one JSON object as the last line.
func report(_ lines: [String], json: [String: Any], asJSON: Bool) {
    for line in lines { print(line) }
    if asJSON, let data = try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]) {
        print(String(decoding: data, as: UTF8.self))
    }
}

/// A benchmark that could not run as asked.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Writes a line to standard output at once (the crash test reads acks as they happen).
func printFlushed(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
