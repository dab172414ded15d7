import ArgumentParser
import Cluster
import Ledger
import Logging
import TallyJSON

/// `tally cluster init [--import]|status|rebuild|forget`: the cluster's schema in PostgreSQL and its nodes.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Set up and inspect a cluster of nodes on PostgreSQL (Docs/cluster.md).",
        subcommands: [ClusterInitCommand.self, ClusterStatusCommand.self, ClusterRebuildCommand.self, ClusterForgetCommand.self])
}

struct ClusterInitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create or upgrade the cluster's tables (safe to run again: applies only what is missing).",
        discussion: """
            With --import DIR --node NAME, a single node's stopped data directory becomes the new cluster's first \
            stream: its log is verified, then copied verbatim as node NAME's stream in one transaction. Then serve \
            DIR as that node (`tally serve --cluster URL --node NAME --data DIR`); every other node copies its users, \
            tokens and charges. Refused, with nothing written, when the cluster already holds events.
            """)

    @OptionGroup var cluster: ClusterOptions
    @Option(name: .customLong("import"), help: "A single node's data directory (stopped) to load as the first stream.")
    var importPath: String?
    @Option(name: .long, help: "With --import: the node name the imported directory will serve as.") var node: String?

    func validate() throws {
        guard (importPath == nil) == (node == nil) else { throw ValidationError("--import and --node go together") }
    }

    func run() async throws {
        let url = try cluster.required()
        let name = try node.map(ClusterRebuildCommand.nodeName)
        let importPath = importPath
        await runReporting {
            let logger = Logger(label: "tally.cluster")
            let (from, to) = try await url.withConnection(logger: logger) { try await ClusterSchema.migrate($0, logger: logger) }
            print(
                from == to
                    ? "the cluster at \(url) is at schema version \(to): nothing to do"
                    : "the cluster at \(url) is at schema version \(to) (was \(from))")
            guard let importPath, let name else { return ExitStatus.clean }
            return try await Self.importLog(importPath, as: name, into: url, logger: logger)
        }
    }

    /// The single node's log verified (nothing that fails `tally verify` enters a cluster), then imported.
    private static func importLog(_ path: String, as node: NodeName, into url: ClusterURL, logger: Logger) async throws -> Int32 {
        let lock = try WriterLock(directory: path)
        defer { withExtendedLifetime(lock) {} }
        let store = try LedgerStore(path: path)
        let report = try await Verifier.run(store: store, archiveDirectory: path + "/archive")
        guard report.isClean else {
            printError("tally: \(path) does not verify (\(report.findings.total) discrepancies; run `tally verify --data \(path)`): nothing imported")
            return ExitStatus.discrepancies
        }
        let head = try await url.withConnection(logger: logger) { connection in
            try await ClusterImport.run(connection, url: url, node: node, store: store, path: path, logger: logger)
        }
        print("imported \(head.seq) events of \(path) as node \(node)'s stream (head \(head.hash.hex))")
        print("serve it: tally serve --cluster \(url) --node \(node) --data \(path)")
        return ExitStatus.clean
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
                                ("state", .string(Self.state(node))),
                                ("shipped_seq", .uint(node.head)),
                                ("shipped_hash", .string(node.headHash.hex)),
                                ("seconds_since_seen", .int(Int64(node.secondsSinceSeen.rounded(.down)))),
                                ("open_leases", .int(Int64(node.leases.count))),
                                ("leased_credits", .int(node.leased)),
                            ])
                        })
                ),
                (
                    "leases",
                    .array(
                        status.nodes.flatMap { node -> [JSONValue] in
                            node.leases.map { lease -> JSONValue in
                                .object([
                                    ("node", .string(node.name)), ("lease", .string(lease.lease)), ("user", .string(lease.user.description)),
                                    ("token", lease.subject.token.map { JSONValue.string($0.description) } ?? .null), ("credits", .int(lease.amount)),
                                    // A silent node's leases stay counted for everyone: the money at risk if its disk is lost.
                                    ("frozen", .bool(!node.isUp)),
                                ])
                            }
                        })
                ),
            ])
            if json { printJSON(document) } else { print(TextTable.render(document)) }
            return ExitStatus.clean
        }
    }

    /// `up`, `silent` (nothing heard for 10 s: its leases are frozen), or `forgotten` (silent since `cluster forget`).
    static func state(_ node: ClusterStatus.Node) -> String {
        if node.isUp { return "up" }
        return node.forgottenThrough == node.head && node.leases.isEmpty ? "forgotten" : "silent"
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
    static func nodeName(_ name: String) throws -> NodeName {
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

struct ClusterForgetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Close the open leases of a node that is gone with its disk, by a policy, and report the money at risk.",
        discussion: """
            A node that vanished keeps its leases frozen: still counted, so no node overspends, and the credit they hold \
            is lost to the others. With --policy void a lease spent what the node's shipped stream shows under it and \
            the rest goes back to the pool; with --policy settle-leased it spent its whole amount (the unshipped tail \
            may have spent it) and nothing goes back. Refused, changing nothing, for a node that is running or that the \
            cluster does not know. Afterwards the node's unshipped events never count: a data directory holding them \
            is refused under its name; an empty one with `serve --rebuild` (or `cluster rebuild`) starts it again.
            """)

    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "The lost node's name.") var node: String
    @Option(name: .long, help: "void (the unspent part returns to the pool) or settle-leased (the whole lease counts as spent).")
    var policy: String
    @Flag(name: .long, help: "Print the report as JSON.") var json = false

    func run() async throws {
        guard let chosen = ForgetPolicy(name: policy) else { throw ValidationError("--policy must be void or settle-leased (got \(policy))") }
        let url = try cluster.required()
        let name = try ClusterRebuildCommand.nodeName(node)
        let asJSON = json
        await runReporting { try await Self.forget(url: url, node: name, policy: chosen, json: asJSON) }
    }

    private static func forget(url: ClusterURL, node: NodeName, policy: ForgetPolicy, json: Bool) async throws -> Int32 {
        let report = try await NodeForget.run(url: url, node: node, policy: policy, logger: Logger(label: "tally.cluster"))
        let document = JSONValue.object([
            ("node", .string(report.node)), ("policy", .string(report.policy.description)), ("through", .uint(report.through)),
            ("control_seq", .uint(report.controlSeq)),
            ("at_risk", .int(report.closed.reduce(0) { $0 + $1.atRisk })), ("freed", .int(report.closed.reduce(0) { $0 + $1.freed })),
            (
                "leases",
                .array(
                    report.closed.map { closed in
                        .object([
                            ("lease", .string(closed.lease.lease)), ("user", .string(closed.lease.user.description)),
                            ("token", closed.lease.subject.token.map { JSONValue.string($0.description) } ?? .null),
                            ("leased", .int(closed.lease.amount)),
                            ("shipped", .int(closed.shipped)), ("at_risk", .int(closed.atRisk)), ("spent", .int(closed.spent)),
                            ("freed", .int(closed.freed)),
                        ])
                    })
            ),
        ])
        if json { printJSON(document) } else { print(TextTable.render(document)) }
        return ExitStatus.clean
    }
}
