/// Any key, to list the keys a JSON object actually has.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    init(intValue: Int) {
        self.stringValue = "\(intValue)"
        self.intValue = intValue
    }

    /// A coding path as text, e.g. `sites[0].behaviours`.
    static func path(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text
    }
}

extension Decoder {
    /// Throws ``ScenarioError/unknownKey(_:)`` for a key of this object that `Keys` does not
    /// define, so a misspelt behaviour fails loudly instead of being ignored.
    func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type) throws {
        let container = try self.container(keyedBy: AnyCodingKey.self)
        let known = Set(Keys.allCases.map(\.stringValue))
        for key in container.allKeys where !known.contains(key.stringValue) {
            throw ScenarioError.unknownKey(AnyCodingKey.path(self.codingPath + [key]))
        }
    }

    /// The path of this value in the document, e.g. `sites[0].behaviours`.
    var keyPath: String {
        AnyCodingKey.path(self.codingPath)
    }
}
