/// A configuration problem, naming the key (as a dotted path such as
/// `ingest.listeners[1].address`) and what is wrong with its value.
///
/// Raised at start-up so that a relay never runs with a setting it misunderstood.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Dotted path of the offending key, e.g. `delivery.retry_schedule[2]`.
    public var key: String
    /// What is wrong, in words an operator can act on.
    public var problem: String

    public init(key: String, problem: String) {
        self.key = key
        self.problem = problem
    }

    public var description: String {
        key.isEmpty ? "configuration: \(problem)" : "configuration key '\(key)': \(problem)"
    }
}
