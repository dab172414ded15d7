import Logging
import OTel
import ServiceLifecycle
import Tracing

/// Tracing's switch and exporter (Docs/operations.md, "Tracing"). Off unless
/// asked for, so a server nobody collects traces from pays nothing per
/// request: on with `--otlp-endpoint`, or when OpenTelemetry's standard
/// variables name an exporter or an OTLP endpoint, and never under
/// `OTEL_SDK_DISABLED=true`. Every other `OTEL_*` variable (protocol,
/// headers, sampler, batching, service name) is read by swift-otel as usual.
package enum TraceExport {
    /// Whether tracing is on for `--otlp-endpoint` (`endpoint`) and these variables.
    static func isOn(endpoint: String?, environment: [String: String]) -> Bool {
        func set(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0.lowercased() } }
        if set("OTEL_SDK_DISABLED") == "true" { return false }
        if let exporter = set("OTEL_TRACES_EXPORTER") { return exporter != "none" }
        return endpoint != nil || set("OTEL_EXPORTER_OTLP_ENDPOINT") != nil || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != nil
    }

    /// The tracer and the service that batches and exports its spans (run it
    /// in the application's service group); nil when tracing is off.
    /// `endpoint` is a base URL, as `OTEL_EXPORTER_OTLP_ENDPOINT` is: spans go to its `/v1/traces`.
    static func backend(endpoint: String?, environment: [String: String], logger: Logger) throws -> (tracer: any Tracer, service: any Service)? {
        guard isOn(endpoint: endpoint, environment: environment) else { return nil }
        var configuration = OTel.Configuration.default
        configuration.serviceName = "tally"
        configuration.diagnosticLogger = .custom(OTelDiagnosticLog.logger(logger))
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        if let endpoint {
            configuration.traces.otlpExporter.endpoint = endpoint.hasSuffix("/") ? endpoint + "v1/traces" : endpoint + "/v1/traces"
        }
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        return (backend.factory, backend.service)
    }
}
