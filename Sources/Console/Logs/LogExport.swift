import HTTPTypes
import Hummingbird
import Ledger
import Logging
import TallyJSON

/// The streamed export. The head is fixed when the export starts (rows that
/// arrive later are not included), then the log is walked downwards one chunk
/// per read (the pruned part from the archives, `ArchivedLog`), each chunk rendered and written before the next is
/// read: memory holds one chunk, never the log.
enum LogExport {
    /// `archives`: the server's (its archives stay indexed); nil: one of its own.
    static func body(
        ledger: Ledger, filter: LogQuery, csv: Bool, chunk: Int, logger: Logger, archives: ArchivedLog? = nil
    ) async -> ResponseBody {
        let archives = archives ?? ArchivedLog(directory: ledger.store.archiveDirectory)
        let head = await ledger.read { $0.seq } + 1
        await ledger.durable()  // the log holds everything up to that head
        return ResponseBody { writer in
            if csv {
                try await writer.write(ByteBuffer(string: LogRow.columns.joined(separator: ",") + "\r\n"))
            }
            var before: UInt64? = head
            var rows = 0
            while let cursor = before {
                let page = try await LogsController.page(filter, before: cursor, limit: chunk, ledger: ledger, archives: archives, logger: logger)
                if !page.entries.isEmpty {
                    let names = try await LogNames.of(page, in: ledger)
                    var bytes: [UInt8] = []
                    bytes.reserveCapacity(page.entries.count * 256)
                    for entry in page.entries {
                        let row = LogRow(entry, names: names)
                        if csv {
                            bytes.append(contentsOf: Array(row.csv.utf8))
                            bytes.append(contentsOf: [0x0D, 0x0A])
                        } else {
                            row.json.write(into: &bytes)
                            bytes.append(0x0A)
                        }
                    }
                    try await writer.write(ByteBuffer(bytes: bytes))
                    rows += page.entries.count
                }
                before = page.next
            }
            try await writer.finish(nil)
            logger.info("log export finished", metadata: ["rows": "\(rows)", "format": "\(csv ? "csv" : "jsonl")"])
        }
    }
}
