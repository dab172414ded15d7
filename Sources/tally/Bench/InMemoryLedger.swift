import Ledger

/// A state built in memory by sealing and applying events, with no disk: what
/// the memory and admission benchmarks measure against. Starts with group
/// `default` and one user, `owner`.
struct InMemoryLedger {
    private(set) var state = LedgerState()
    private var time: Int64 = 1_700_000_000_000
    let owner = UserID.random()

    init() throws {
        try apply(.groupSet(.bench(name: "default")))
        try apply(.userCreated(.bench(id: owner, username: "owner", group: "default", accessKey: .generate(prefix: "tk-"))))
    }

    var now: Int64 { time }

    mutating func apply(_ event: Event) throws {
        let (envelope, _) = Envelope.seal(seq: state.seq + 1, time: time, actor: .system, event: event, previous: state.head)
        try state.apply(envelope)
        time += 1
    }
}
