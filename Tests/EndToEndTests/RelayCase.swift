import Ledger

/// One relay request of a family, and the usage the mock reports for it: the
/// tables of `ChargingTests` and `ChargeVisibilityTests`.
struct RelayCase: CustomStringConvertible {
    var name: String
    var path: String
    var model: String
    var body: [String: Any]
    var headers: [(String, String)]
    var usage: Usage
    /// Bytes that show the client has its whole answer (nil: read the whole response).
    var end: [UInt8]? = nil
    var description: String { name }
}
