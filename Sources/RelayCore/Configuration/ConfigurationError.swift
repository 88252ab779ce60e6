/// A configuration problem, naming the key (as a dotted path such as
/// `ingest.listeners[1].address`) and what is wrong with its value.
///
/// Raised at start-up so that a relay never runs with a setting it misunderstood.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Dotted path of the offending key, e.g. `delivery.retry_schedule[2]`.
    public var key: String
    /// What is wrong, in words an operator can act on.
    public var problem: String

    /// `problem` is stored with any credentials in it masked (``CredentialRedaction``):
    /// it may quote a URL or a YAML snippet, and configuration errors end up in logs.
    public init(key: String, problem: String) {
        self.key = key
        self.problem = CredentialRedaction.redact(problem)
    }

    public var description: String {
        key.isEmpty ? "configuration: \(problem)" : "configuration key '\(key)': \(problem)"
    }
}
