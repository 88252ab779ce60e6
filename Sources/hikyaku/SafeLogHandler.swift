import Logging
import RelayCore

/// Wraps the log handler so that no log line carries a control character or runs on
/// without bound: messages and metadata hold text remote peers chose (MX replies, AUTH
/// user names, HELO names), and an ESC sequence in a log line acts on the terminal of the
/// operator reading it (`journalctl`, `tail -f`). Controls are written out (`\u{1B}`),
/// not dropped, so nothing is hidden from the reader.
struct SafeLogHandler: LogHandler {
    /// Longest message and metadata value written; a 2 MiB reply is not a log line.
    static let maxMessageBytes = 8192
    static let maxValueBytes = 2048

    private var inner: any LogHandler

    init(_ inner: any LogHandler) {
        self.inner = inner
    }

    func log(event: LogEvent) {
        var event = event
        event.message = Logger.Message(stringLiteral: Self.clean(event.message.description, max: Self.maxMessageBytes))
        event.metadata = event.metadata.map(Self.clean)
        inner.log(event: event)
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue.map(Self.clean) }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = Self.clean(newValue) }
    }

    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    static func clean(_ text: String, max: Int) -> String {
        RemoteText.capped(RemoteText.escaped(text), maxBytes: max)
    }

    static func clean(_ metadata: Logger.Metadata) -> Logger.Metadata {
        metadata.mapValues(clean)
    }

    static func clean(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let text): .string(clean(text, max: maxValueBytes))
        case .stringConvertible(let convertible): .string(clean(convertible.description, max: maxValueBytes))
        case .array(let values): .array(values.map(clean))
        case .dictionary(let values): .dictionary(clean(values))
        }
    }
}
