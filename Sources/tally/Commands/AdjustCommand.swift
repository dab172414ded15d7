import ArgumentParser
import Foundation
import Ledger
import Logging

/// `tally adjust`: an admin correction of a settled request — a refund
/// (negative amount) or a surcharge (positive) with a reason — appended as a
/// `charge.adjusted` event through the ledger. History is never edited.
struct AdjustCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adjust",
        abstract: "Refund (negative) or surcharge (positive) a settled request, as a new event.",
        discussion: """
            Writes to the ledger, so no `tally serve` may be running on the same directory (the command refuses \
            when it finds the writer lock held). Example: tally adjust --data ./data --request req_42 --amount -120 \
            --reason "upstream returned an empty answer". Statements and reconcile show the adjustment. \
            --plan FILE applies a reviewed plan (`tally reconcile --provider-requests … --plan FILE`): every entry is \
            checked first and nothing is written unless all hold; entries already applied are skipped, so applying a \
            plan twice appends nothing the second time.
            """)

    @OptionGroup var data: DataOptions
    @Option(name: .long, help: "The settled request's id.") var request: String?
    @Option(name: .long, parsing: .unconditional, help: "Credits: negative refunds, positive surcharges.") var amount: Int64?
    @Option(name: .long, help: "Why (kept in the log, shown on statements).") var reason: String?
    @Option(name: .long, help: "Apply an adjustment plan (JSON) instead of one --request.") var plan: String?
    @Option(name: .long, help: "The admin user recorded as the actor (usr_…); default: system.") var actor: String?

    func validate() throws {
        if plan != nil {
            guard request == nil, amount == nil, reason == nil else { throw ValidationError("--plan takes no --request, --amount or --reason") }
            return
        }
        guard request != nil, let amount, let reason else { throw ValidationError("give --request, --amount and --reason, or --plan FILE") }
        guard amount != 0 else { throw ValidationError("--amount must not be zero") }
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--reason must not be empty") }
    }

    func run() async throws {
        await runReporting {
            let by: EventActor = try actor.map { .user(try parseID($0, as: UserID.self, option: "--actor")) } ?? .system
            let planned = try plan.map(Self.readPlan)
            _ = try data.openReadOnly()  // refuse a missing directory instead of creating an empty ledger
            var options = LedgerConfiguration()
            options.snapshotEvery = 0
            let ledger = try Ledger(path: data.path, configuration: options, logger: Logger(label: "tally.adjust"))
            do {
                if let planned {
                    let result = try await ledger.applyAdjustments(planned, by: by)
                    let seq = await ledger.read { $0 }.seq
                    await ledger.close()
                    print("applied \(result.applied.count) adjustment(s), \(result.alreadyApplied) already applied; head \(seq)")
                    return ExitStatus.clean
                }
                guard let request, let amount, let reason else { throw ValidationError("give --request, --amount and --reason, or --plan FILE") }
                let adjusted = try await ledger.adjustCharge(requestID: request, amount: amount, reason: reason, by: by)
                let seq = await ledger.read { $0 }.seq
                await ledger.close()
                let what = adjusted.amount < 0 ? "refunded \(-adjusted.amount)" : "surcharged \(adjusted.amount)"
                print("\(what) credits on request \(adjusted.requestID) (token \(adjusted.token), user \(adjusted.user)) as event \(seq)")
                return ExitStatus.clean
            } catch {
                await ledger.close()
                throw error
            }
        }
    }

    static func readPlan(_ path: String) throws -> AdjustmentPlan {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        guard let size, let data = size <= Limits.planBytes ? FileManager.default.contents(atPath: path) : nil else {
            throw ValidationError("cannot read \(path), or it is over \(Limits.planBytes >> 20) MiB")
        }
        do { return try AdjustmentPlan(bytes: Array(data)) } catch { throw ValidationError("\(path): \(error.description)") }
    }
}
