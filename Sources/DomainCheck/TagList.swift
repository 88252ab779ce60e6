/// A `tag=value; tag=value` list, the syntax of DKIM key records (RFC 6376 §3.2) and
/// DMARC records (RFC 7489 §6.4, which borrows it).
///
/// Whitespace around tags, `=` and values is ignored; a trailing `;` is allowed; tag
/// names are case-sensitive; a tag given twice makes the whole list invalid (§3.2).
struct TagList: Sendable, Hashable {
    /// The tags in the order written.
    private(set) var tags: [(name: String, value: String)]

    static func == (lhs: TagList, rhs: TagList) -> Bool {
        lhs.tags.elementsEqual(rhs.tags) { $0.name == $1.name && $0.value == $1.value }
    }

    func hash(into hasher: inout Hasher) {
        for tag in self.tags {
            hasher.combine(tag.name)
            hasher.combine(tag.value)
        }
    }

    /// Parses `text`; nil when a tag-spec has no `=`, a name is empty or not
    /// `ALPHA *(ALPHA / DIGIT / "_")`, or a tag is given twice.
    init?(parsing text: String) {
        self.tags = []
        var seen = Set<String>()
        for spec in text.split(separator: ";", omittingEmptySubsequences: false) {
            let trimmed = spec.trimmingWhitespace()
            if trimmed.isEmpty { continue }  // trailing ";" or ";;"
            guard let equals = trimmed.firstIndex(of: "=") else { return nil }
            let name = trimmed[..<equals].trimmingWhitespace()
            let value = trimmed[trimmed.index(after: equals)...].trimmingWhitespace()
            guard let first = name.first, first.isASCII, first.isLetter,
                name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }),
                seen.insert(name).inserted
            else { return nil }
            self.tags.append((name, value))
        }
    }

    subscript(_ name: String) -> String? {
        self.tags.first(where: { $0.name == name })?.value
    }

    /// The name of the first tag.
    var firstName: String? { self.tags.first?.name }
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs, CR and LF (FWS, RFC 5322 §3.2.2).
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
        guard let first = self.firstIndex(where: { !isSpace($0) }), let last = self.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }

    /// Without any whitespace: base64 in a tag value may be folded (RFC 6376 §3.2).
    func removingWhitespace() -> String {
        String(self.filter { !($0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\r\n") })
    }
}
