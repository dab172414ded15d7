import HTTPTypes
import Hummingbird
import Ledger
import Logging

/// The management API (`/api/*`, SPEC §4) and the dashboard's static files.
///
/// The server composition builds one `Console` and calls `register(on:)` on
/// its router; the relay registers its own routes (`/v1/…`,
/// `/api/usage/token`) beside these.
public struct Console: Sendable {
    let core: ConsoleCore

    package init(ledger: Ledger, logger: Logger) {
        self.init(ledger: ledger, logger: logger, configuration: ConsoleConfiguration())
    }

    package init(ledger: Ledger, logger: Logger, configuration: ConsoleConfiguration) {
        self.core = ConsoleCore(ledger: ledger, logger: logger, configuration: configuration)
    }

    /// Registers every `/api/*` management route and the dashboard at `/`.
    public func register<Context: RequestContext>(on router: Router<Context>) {
        let routes = APIRoutes(router: router, core: core)
        AuthController(core: core).register(routes)
        TokensController(core: core).register(routes)
        UsersController(core: core).register(routes)
        GroupsController(core: core).register(routes)
        PricesController(core: core).register(routes)
        ChannelsController(core: core).register(routes)
        RoutingController(core: core).register(routes)
        ConfigController(core: core).register(routes)
        WebhooksController(core: core).register(routes)
        LogsController(core: core).register(routes)
        UsageController(core: core).register(routes)
        PricingController(core: core).register(routes)
        EventsController(core: core).register(routes)
        LedgerController(core: core).register(routes)
        ReceiptsController(core: core).register(routes)
        OverviewController(core: core).register(routes)
        routes.fallback()
        DashboardFiles.load(logger: core.logger).register(on: router)
    }

    /// Nil when `request` is signed in as an administrator, exactly as the
    /// management API decides it (access key, or session cookie); otherwise
    /// the API's 401 or 403 answer. The server keeps `/metrics` behind it.
    public func refusalUnlessAdmin(_ request: Request) async -> Response? {
        do {
            let caller = try await core.authenticator.caller(for: request)
            guard !caller.passwordChangeRequired else { return APIError.passwordChangeRequired.response }
            guard caller.isAdmin else { return APIError.adminOnly.response }
            return nil
        } catch {
            return APIRoutes<BasicRequestContext>.render(error, core: core, request: request)
        }
    }
}

/// Knobs with their reasons; the defaults are what `tally serve` runs with.
public struct ConsoleConfiguration: Sendable {
    /// bcrypt cost for new passwords: 12 ≈ 250 ms on a server core, slow for
    /// guessing and still quick for a person. Tests lower it.
    public var bcryptCost: UInt8 = 12
    /// Dashboard session lifetime (absolute).
    public var sessionLifetimeMs: Int64 = 12 * 3600 * 1000
    /// Mark the session cookie `Secure`; turn on when Tally is served over HTTPS.
    public var secureCookies = false
    /// Proxies whose `X-Forwarded-For` is believed (`--trusted-proxy`, shared
    /// with the relay), so sign-ins are limited per real client address.
    package var trustedProxies: [IPRule] = []
    public var clock: @Sendable () -> Int64 = LedgerClock.now
    /// Sends a channel's test request (`POST /api/channels/{id}/test`); the
    /// relay's, since the console makes no upstream calls itself (nil: 404).
    package var testChannel: (@Sendable (ChannelID, String?) async throws -> ChannelTestReport)?
    /// The webhook dispatcher's record of delivery attempts (`GET /api/webhooks/{id}/deliveries`).
    package var webhookDeliveries = DeliveryLog()

    public init() {}
}

/// What every controller shares.
struct ConsoleCore: Sendable {
    let ledger: Ledger
    let logger: Logger
    let configuration: ConsoleConfiguration
    let sessions: SessionStore
    let limiter: LoginLimiter
    let authenticator: Authenticator
    let passwords: Passwords
    let census: EventCensus
    let verifyRuns: VerifyRuns
    let rollup: HourlyRollup
    /// The request log's pruned part, from `DATA/archive` (`GET /api/logs` below the log's start).
    let archivedLog: ArchivedLog

    init(ledger: Ledger, logger: Logger, configuration: ConsoleConfiguration) {
        self.ledger = ledger
        self.logger = logger
        self.configuration = configuration
        self.sessions = SessionStore(lifetimeMs: configuration.sessionLifetimeMs, clock: configuration.clock)
        self.limiter = LoginLimiter(clock: configuration.clock)
        self.authenticator = Authenticator(ledger: ledger, sessions: sessions)
        self.passwords = Passwords(cost: configuration.bcryptCost)
        self.census = EventCensus(reader: ledger.log)
        self.verifyRuns = VerifyRuns(store: ledger.store, clock: configuration.clock)
        self.rollup = HourlyRollup(reader: ledger.log)
        self.archivedLog = ArchivedLog(directory: ledger.store.archiveDirectory)
    }

    func now() -> Int64 { configuration.clock() }
}
