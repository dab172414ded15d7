/// What a cluster node's escrow leases did, told to
/// `LedgerConfiguration.leaseObserver` (the server keeps them as metrics): how
/// long grants take and how often a request had to wait for one or was
/// refused for want of one — the price of leases on the hot path.
package enum LeaseObservation: Sendable {
    /// A grant's compare-and-append ended, granted or not (too little free, or
    /// PostgreSQL unreachable), after this long, its catch-up retries included.
    case grant(granted: Bool, nanoseconds: UInt64)
    /// A request found this node's lease short and waited for a top-up.
    case waited
    /// A request was refused because no grant covered it.
    case refused
}
