import ArgumentParser
import Cluster
import Ledger
import Logging
import TallyJSON

/// `tally cluster init|status|rebuild`: the cluster's schema in PostgreSQL and its nodes.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Set up and inspect a cluster of nodes on PostgreSQL (Docs/cluster.md).",
        subcommands: [ClusterInitCommand.self, ClusterStatusCommand.self, ClusterRebuildCommand.self])
}

struct ClusterInitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create or upgrade the cluster's tables (safe to run again: applies only what is missing).")

    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        let url = try cluster.required()
        await runReporting {
            let logger = Logger(label: "tally.cluster")
            let (from, to) = try await url.withConnection(logger: logger) { try await ClusterSchema.migrate($0, logger: logger) }
            print(
                from == to
                    ? "the cluster at \(url) is at schema version \(to): nothing to do"
                    : "the cluster at \(url) is at schema version \(to) (was \(from))")
            return ExitStatus.clean
        }
    }
}

struct ClusterStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the cluster's schema version and each node: its shipped head and when it was last heard from.")

    @OptionGroup var cluster: ClusterOptions
    @Flag(name: .long, help: "Print the status as JSON.") var json = false

    func run() async throws {
        let url = try cluster.required()
        await runReporting {
            let logger = Logger(label: "tally.cluster")
            let status = try await url.withConnection(logger: logger) { try await ClusterStatus.read($0, url: url, logger: logger) }
            let document = JSONValue.object([
                ("cluster", .string(url.description)),
                ("schema_version", .int(Int64(status.schemaVersion))),
                (
                    "nodes",
                    .array(
                        status.nodes.map { node in
                            .object([
                                ("name", .string(node.name)),
                                ("state", .string(node.isUp ? "up" : "silent")),
                                ("shipped_seq", .uint(node.head)),
                                ("shipped_hash", .string(node.headHash.hex)),
                                ("seconds_since_seen", .int(Int64(node.secondsSinceSeen.rounded(.down)))),
                            ])
                        })
                ),
            ])
            if json { printJSON(document) } else { print(TextTable.render(document)) }
            return ExitStatus.clean
        }
    }
}

struct ClusterRebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Rebuild a node's data directory from its stream in PostgreSQL (after its disk was lost).",
        discussion: """
            Writes the node's shipped events, each checked against the one before it, into an empty data directory, \
            which may then serve under the node's name again. Channel keys and passwords are not in the log: set them \
            again. Events the node had not shipped are lost.
            """)

    @OptionGroup var cluster: ClusterOptions
    @Option(name: .long, help: "The node whose stream to rebuild from.") var node: String
    @OptionGroup var data: DataOptions

    func run() async throws {
        let url = try cluster.required()
        let name = try Self.nodeName(node)
        let path = data.path
        await runReporting { try await Self.rebuild(url: url, node: name, data: path) }
    }

    /// Kept out of `run`: the release compiler (6.3.1) crashes on a closure that captures a
    /// `let` assigned in a `do`/`catch` and is passed to `runReporting`, which never returns.
    private static func nodeName(_ name: String) throws -> NodeName {
        do { return try NodeName(name) } catch { throw ValidationError("\(error)") }
    }

    private static func rebuild(url: ClusterURL, node: NodeName, data: String) async throws -> Int32 {
        let logger = Logger(label: "tally.cluster")
        let head = try await url.withConnection(logger: logger) { connection in
            try await StreamRebuild.run(connection, url: url, node: node, data: data, logger: logger)
        }
        print("rebuilt node \(node) into \(data): head \(head.seq) \(head.hash.hex); set the channels' keys again")
        return ExitStatus.clean
    }
}
