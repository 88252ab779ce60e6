/// A scenario file that cannot be used, with the key at fault.
///
/// ```
/// scenario: sites[0].behaviours.per_ip_rate.count: must be at least 1
/// ```
struct ScenarioError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case unreadable
        case invalidValue
        case unknownKey
    }

    private let code: Code
    /// The JSON key path, e.g. `sites[1].addresses[0]`.
    let key: String
    let problem: String

    private init(_ code: Code, key: String, problem: String) {
        self.code = code
        self.key = key
        self.problem = problem
    }

    /// The file cannot be read or is not JSON of the expected shape.
    static func unreadable(_ problem: String) -> ScenarioError {
        ScenarioError(.unreadable, key: "", problem: problem)
    }

    /// A value out of range or otherwise unusable.
    static func invalidValue(_ key: String, _ problem: String) -> ScenarioError {
        ScenarioError(.invalidValue, key: key, problem: problem)
    }

    /// A key the format does not define (most likely a typo).
    static func unknownKey(_ key: String) -> ScenarioError {
        ScenarioError(.unknownKey, key: key, problem: "unknown key")
    }

    var description: String {
        self.key.isEmpty ? "scenario: \(self.problem)" : "scenario: \(self.key): \(self.problem)"
    }
}
