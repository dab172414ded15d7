/// What the cluster commands and a cluster node refuse, each with what to do.
package enum ClusterError: Error, CustomStringConvertible {
    case badURL(String)
    case badNodeName(String)
    case unreachable(String, String)
    case notInitialized(String)
    case schemaTooNew(found: Int, known: Int)
    case nodeRunning(String)
    case streamAhead(node: String, shipped: UInt64, local: UInt64)
    case streamDiverged(node: String, seq: UInt64)
    case noStream(String)
    case nodeForgotten(node: String, through: UInt64, local: UInt64)
    case unknownNode(String)
    case nodeLive(String)
    case nothingToForget(node: String, through: UInt64)

    package var description: String {
        switch self {
        case .badURL(let why): "the cluster URL is not usable: \(why)"
        case .badNodeName(let name):
            "the node name \"\(name)\" is not 1–64 characters of lowercase letters, digits, '-' and '_'"
        case .unreachable(let url, let why): "cannot reach the cluster's PostgreSQL at \(url): \(why)"
        case .notInitialized(let url): "the cluster at \(url) has no Tally schema yet: run `tally cluster init --cluster URL` first"
        case .schemaTooNew(let found, let known):
            "the cluster's schema is at version \(found), newer than this build knows (\(known)): upgrade tally"
        case .nodeRunning(let name): "another process is running as node \(name) (its lock is held in PostgreSQL): give this one another --node name"
        case .streamAhead(let node, let shipped, let local):
            "PostgreSQL holds \(shipped) events of node \(node) but this data directory only \(local): it is not (or no longer) that node's data; start it under a new --node name"
        case .noStream(let node): "the cluster holds no events of node \(node): nothing to rebuild"
        case .nodeForgotten(let node, let through, let local):
            "node \(node) was forgotten (`tally cluster forget`) at event \(through) of its stream, but this data directory holds \(local): the events after \(through) were written off with its leases and may not ship; start on an empty data directory with --rebuild, or under a new --node name"
        case .unknownNode(let node): "the cluster has no node \(node) (`tally cluster status` lists them); nothing was changed"
        case .nodeLive(let node):
            "node \(node) is running (a process holds its lock in PostgreSQL): stop it, or wait until PostgreSQL drops its connection, before forgetting it; nothing was changed"
        case .nothingToForget(let node, let through):
            "node \(node) was already forgotten at event \(through) of its stream and holds no open lease: nothing to forget; nothing was changed"
        case .streamDiverged(let node, let seq):
            "event \(seq) of node \(node) in PostgreSQL differs from this data directory's: another ledger ran under that node name; start this one under a new --node name"
        }
    }
}
