import ArgumentParser
import Foundation
import Ledger
import TallyJSON

/// `tally receipt verify FILE --head HASH`: checks a saved receipt offline —
/// no data directory, no server — against a head hash the customer trusts
/// (Docs/auditing.md, "Receipts").
struct ReceiptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receipt",
        abstract: "Work with request receipts (GET /v1/receipts/{request_id}).",
        subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a saved receipt offline: its events' hashes, its inclusion proof, and its link to a trusted head.",
            discussion: """
                FILE is the receipt exactly as served (save the response body unchanged). HASH is a checkpoint hash \
                the operator published (GET /api/ledger/head, "checkpoint"); the receipt must link to it. Without \
                --head only the receipt's own consistency is checked. Exit 0 verified, 1 not verified, 2 unreadable.
                """)

        @Argument(help: "The saved receipt.") var file: String
        @Option(name: .long, help: "A checkpoint hash you trust (64 hex digits).") var head: String?
        @Flag(name: .long, help: "Print the result as JSON.") var json = false

        func run() async throws {
            await runReporting {
                let trusted = try head.map { text in
                    guard let hash = Hash256(hex: text.lowercased()) else { throw ValidationError("--head must be 64 hex digits") }
                    return hash
                }
                let bytes: [UInt8]
                do { bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file))) } catch {
                    printError("tally: cannot read \(file): \(error.localizedDescription)")
                    return ExitStatus.failure
                }
                do throws(ReceiptCheck.Failure) {
                    let verified = try ReceiptCheck.verify(bytes, head: trusted)
                    report(verified)
                    return ExitStatus.clean
                } catch {
                    if json {
                        print(JSONValue.object([("verified", .bool(false)), ("error", .string(error.description))]).serialized)
                    } else {
                        print("NOT VERIFIED: \(error.description)")
                    }
                    return ExitStatus.discrepancies
                }
            }
        }

        private func report(_ verified: ReceiptCheck.Verified) {
            let receipt = verified.receipt
            let close = receipt.close
            if json {
                print(
                    JSONValue.object([
                        ("verified", .bool(true)), ("request_id", .string(receipt.requestID)), ("credits", .int(receipt.credits)),
                        ("close", .optional(close) { .object([("seq", .uint($0.seq)), ("hash", .string($0.hash.hex))]) }),
                        ("linked_to", .optional(verified.linkedTo) { .object([("seq", .uint($0.seq)), ("hash", .string($0.hash.hex))]) }),
                    ]).serialized)
                return
            }
            print("verified: request \(receipt.requestID), \(receipt.events.count) events, \(receipt.credits) credits")
            if let close { print("close: event \(close.seq) \(close.type) \(close.hash.hex)") }
            if let linked = verified.linkedTo {
                print("linked to the trusted head: checkpoint \(linked.seq) \(linked.hash.hex)")
            } else if receipt.isProved {
                print("proof ends at checkpoint \(receipt.newestCheckpoint!.seq) \(receipt.newestCheckpoint!.hash.hex) (no --head given)")
            } else {
                print("no inclusion proof yet: no checkpoint covered the request when the receipt was fetched")
            }
        }
    }
}
