import Logging

/// swift-otel's own log (its "diagnostic logger"), through the server's
/// handler but without the values of the `OTEL_*` variables it reads: it logs
/// each one it applies, with its value, before and after, at info — and
/// `OTEL_EXPORTER_OTLP_HEADERS` carries the collector's credentials. Which
/// variable was read stays in the line.
struct OTelDiagnosticLog: LogHandler {
    /// The metadata swift-otel puts each variable's values under.
    static let valueKeys: Set<String> = ["environment_value", "previous_value", "new_value"]
    static let redacted: Logger.MetadataValue = "(redacted)"

    private var base: any LogHandler

    /// `logger`'s handler, level and metadata, redacting.
    static func logger(_ logger: Logger) -> Logger {
        Logger(label: logger.label) { _ in OTelDiagnosticLog(base: logger.handler) }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { base[metadataKey: key] }
        set { base[metadataKey: key] = Self.valueKeys.contains(key) && newValue != nil ? Self.redacted : newValue }
    }

    var metadata: Logger.Metadata {
        get { base.metadata }
        set { base.metadata = Self.redact(newValue) }
    }

    var logLevel: Logger.Level {
        get { base.logLevel }
        set { base.logLevel = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { base.metadataProvider }
        set { base.metadataProvider = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        event.metadata = event.metadata.map(Self.redact)
        base.log(event: event)
    }

    static func redact(_ metadata: Logger.Metadata) -> Logger.Metadata {
        metadata.reduce(into: [:]) { out, item in out[item.key] = valueKeys.contains(item.key) ? redacted : item.value }
    }
}
