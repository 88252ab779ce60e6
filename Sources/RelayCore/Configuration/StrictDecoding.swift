/// Helpers so that a misspelt configuration key is an error naming the key, instead of
/// a setting silently left at its default.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue; self.intValue = nil }
    init(intValue: Int) { self.stringValue = String(intValue); self.intValue = intValue }
}

extension Decoder {
    /// Throws a `ConfigurationError` for any key not among `Keys.allCases`.
    func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(_: Keys.Type) throws {
        let container = try container(keyedBy: AnyCodingKey.self)
        let known = Set(Keys.allCases.map(\.stringValue))
        for key in container.allKeys where !known.contains(key.stringValue) {
            let choices = known.sorted().joined(separator: ", ")
            throw ConfigurationError(
                key: ConfigurationError.path(codingPath + [key]),
                problem: "unknown key (known keys here: \(choices))")
        }
    }
}

extension ConfigurationError {
    /// Renders a coding path the way the keys are written: `ingest.listeners[0].address`.
    public static func path(_ codingPath: [CodingKey]) -> String {
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
