import ArgumentParser
import Cluster
import Foundation

/// `--cluster URL` (or `TALLY_CLUSTER_URL`): the cluster's PostgreSQL.
struct ClusterOptions: ParsableArguments {
    @Option(
        name: .customLong("cluster"), help: "The cluster's PostgreSQL, postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (default: $TALLY_CLUSTER_URL)."
    )
    var url: String?

    /// The URL given, or nil when neither the flag nor the variable names one.
    func resolve() throws -> ClusterURL? {
        guard let text = url ?? ProcessInfo.processInfo.environment["TALLY_CLUSTER_URL"].flatMap({ $0.isEmpty ? nil : $0 }) else { return nil }
        do {
            return try ClusterURL(text)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// The URL, which this command cannot run without.
    func required() throws -> ClusterURL {
        guard let url = try resolve() else { throw ValidationError("name the cluster's PostgreSQL with --cluster URL or $TALLY_CLUSTER_URL") }
        return url
    }
}
