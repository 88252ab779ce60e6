/// The `_mta-sts.<domain>` TXT record that announces a policy (RFC 8461 §3.1):
///
/// ```
/// _mta-sts.example.com. IN TXT "v=STSv1; id=20160831085700Z;"
/// ```
///
/// `id` changes whenever the policy does, so a cached policy with the same id is still
/// current and need not be fetched again.
public struct MTASTSRecord: Sendable, Hashable {
    public var id: String

    public init(id: String) { self.id = id }

    /// Parses one TXT string; nil when it is not a valid STSv1 record. `v=STSv1` must be
    /// the first field; fields are `key=value` separated by `;` with optional spaces;
    /// `id` is 1–32 letters and digits; other fields are ignored (§3.1).
    public init?(parsing text: String) {
        var fields = text.split(separator: ";", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: " \t") }
        if fields.last?.isEmpty == true { fields.removeLast() }
        guard fields.first == "v=STSv1" else { return nil }
        var id: String?
        for field in fields.dropFirst() {
            guard let equals = field.firstIndex(of: "=") else { return nil }
            let key = field[..<equals]
            let value = field[field.index(after: equals)...]
            if key == "id" {
                guard id == nil, (1...32).contains(value.count), value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
                else { return nil }
                id = String(value)
            }
        }
        guard let id else { return nil }
        self.id = id
    }

    /// The record among a name's TXT strings: those starting `v=STSv1`; more than one (or
    /// one that does not parse) means no policy (§3.1).
    public static func find(in texts: [String]) -> MTASTSRecord? {
        let candidates = texts.filter { $0.hasPrefix("v=STSv1") }
        guard candidates.count == 1 else { return nil }
        return MTASTSRecord(parsing: candidates[0])
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice.removeFirst() }
        while let last = slice.last, set.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
