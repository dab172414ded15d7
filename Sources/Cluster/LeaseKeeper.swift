import Ledger
import Logging
import PostgresNIO
import ServiceLifecycle

/// Returns this node's escrow leases (Docs/cluster.md, "Escrow leases"):
/// those a previous run left open, at start; a lease with nothing in flight
/// that was not used for `idle`, every `interval`; every lease at a graceful
/// stop (after the server drained). Each return is appended to the control
/// stream only once this node's stream in PostgreSQL holds its `through`, so
/// a node that grants next can copy every charge the return accounts for.
/// Grants are the ledger's (a request that needs one asks for it).
/// PostgreSQL unreachable: the returns wait and are retried; the leases stay
/// counted meanwhile (the cluster errs by granting less).
package struct LeaseKeeper: Service {
    let url: ClusterURL
    let node: NodeName
    let ledger: Ledger
    let logger: Logger
    var idle: Duration = .seconds(10)
    var interval: Duration = .seconds(1)
    /// How long a graceful stop waits for its stream to be shipped before it returns its leases anyway.
    var stopWait: Duration = .seconds(5)

    package init(url: ClusterURL, node: NodeName, ledger: Ledger, logger: Logger) {
        self.url = url
        self.node = node
        self.ledger = ledger
        self.logger = logger
    }

    package func run() async throws {
        var waiting = try await ledger.strayLeases()
        if !waiting.isEmpty { logger.notice("returning the leases a previous run left open", metadata: ["leases": "\(waiting.count)"]) }
        let idleMs = Int64(idle.components.seconds * 1000)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            waiting += await ledger.takeLeases(idleMs: idleMs)
            waiting = await returnShipped(waiting)
            try? await Task.sleep(for: interval)
        }
        waiting += await ledger.takeLeases(idleMs: nil)
        let deadline = ContinuousClock.now + stopWait
        while !waiting.isEmpty && ContinuousClock.now < deadline {
            waiting = await returnShipped(waiting)
            if !waiting.isEmpty { try? await Task.sleep(for: .milliseconds(100)) }
        }
        if !waiting.isEmpty {
            logger.warning(
                "leases left open at stop; the next start returns them", metadata: ["node": "\(node)", "leases": "\(waiting.count)"])
        }
    }

    /// Appends the returns whose charges this node's stream in PostgreSQL holds; returns the others.
    private func returnShipped(_ returns: [LeaseReturned]) async -> [LeaseReturned] {
        guard !returns.isEmpty else { return [] }
        do {
            let shipped = try await url.withConnection(logger: logger) { try await node.shippedHead($0, logger: logger) }
            let due = returns.filter { $0.through <= shipped }
            guard !due.isEmpty else { return returns }
            try await ledger.returnLeases(due)
            logger.info("leases returned", metadata: ["node": "\(node)", "leases": "\(due.count)"])
            return returns.filter { $0.through > shipped }
        } catch {
            logger.warning("returning leases failed; retrying", metadata: ["node": "\(node)", "error": "\(clusterMessage(error))"])
            return returns
        }
    }
}
