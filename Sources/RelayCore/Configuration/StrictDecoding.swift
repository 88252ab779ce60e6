/// Strict decoding, so that a misspelt key is an error naming the key instead of a setting
/// silently left at its default. Shared by the configuration and the simulator's scenarios.
public struct AnyCodingKey: CodingKey, Sendable {
    public var stringValue: String
    public var intValue: Int?
    public init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }
    public init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }

    /// A coding path the way the keys are written: `ingest.listeners[0].address`.
    public static func path(_ codingPath: [any CodingKey]) -> String {
        var out = ""
        for key in codingPath {
            if let index = key.intValue {
                out += "[\(index)]"
            } else {
                out += out.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return out
    }
}

extension Decoder {
    /// The first key of this object that `Keys` does not define (its full path), if any.
    public func firstUnknownKey<Keys: CodingKey & CaseIterable>(_: Keys.Type) throws -> String? {
        let container = try container(keyedBy: AnyCodingKey.self)
        let known = Set(Keys.allCases.map(\.stringValue))
        return container.allKeys.first { !known.contains($0.stringValue) }.map { AnyCodingKey.path(codingPath + [$0]) }
    }

    /// Throws a `ConfigurationError` for any key not among `Keys.allCases`.
    func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type) throws {
        if let path = try firstUnknownKey(keys) {
            let choices = Keys.allCases.map(\.stringValue).sorted().joined(separator: ", ")
            throw ConfigurationError(key: path, problem: "unknown key (known keys here: \(choices))")
        }
    }
}

extension ConfigurationError {
    /// Renders a coding path the way the keys are written: `ingest.listeners[0].address`.
    public static func path(_ codingPath: [CodingKey]) -> String {
        AnyCodingKey.path(codingPath)
    }
}
