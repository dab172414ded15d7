import ArgumentParser
import Glibc
import LMDB
import Ledger
import TallyJSON

/// An instant on the command line: RFC 3339 (`2026-11-26T15:00:00Z`) or a
/// date (`2026-11-26`, midnight UTC). Parsed by `RFC3339`, so the same text
/// means the same millisecond everywhere.
struct Instant: ExpressibleByArgument {
    var milliseconds: Int64
    init?(argument: String) {
        guard let ms = RFC3339.parse(argument) else { return nil }
        milliseconds = ms
    }
    static var defaultValueDescription: String { "RFC 3339 time" }
}

/// `--until SEQ|TIME`: a sequence number (digits only) or an instant.
struct UntilPoint: ExpressibleByArgument {
    var limit: Replay.Limit
    init?(argument: String) {
        if !argument.isEmpty, argument.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let seq = UInt64(argument) {
            limit = .seq(seq)
        } else if let ms = RFC3339.parse(argument) {
            limit = .time(ms)
        } else {
            return nil
        }
    }
}

extension DataOptions {
    /// Opens the store read-only: audit commands never write, never create the
    /// directory, and run beside a live `tally serve` (LMDB readers do not
    /// block its writer).
    func openReadOnly() throws -> LedgerStore {
        // A read-only open cannot create anything; say plainly when there is nothing to open.
        var directory = stat()
        if stat(path, &directory) == 0, directory.st_mode & S_IFMT == S_IFDIR, access(path + "/data.mdb", F_OK) != 0 {
            throw StoreError.notALedger(path)
        }
        var options = EnvironmentOptions()
        options.readOnly = true
        return try LedgerStore(path: path, options: options)
    }
}

/// Parses a `tok_…` / `usr_…` option value or fails as a usage error (exit 2).
func parseID<ID: LedgerIdentifier>(_ text: String, as: ID.Type, option: String) throws -> ID {
    guard let id = ID(text) else { throw ValidationError("\(option) \(text) is not a valid id (expected \(ID.prefix)…)") }
    return id
}

/// Prints a JSON document (pretty) on standard output.
func printJSON(_ value: JSONValue) {
    print(value.prettyPrinted)
}
