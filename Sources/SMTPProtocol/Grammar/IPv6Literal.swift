/// Validation of `IPv6-addr` in an address literal (RFC 5321 §4.1.3):
/// `IPv6-full / IPv6-comp / IPv6v4-full / IPv6v4-comp`.
enum IPv6Literal {
    static func isValid(_ text: ArraySlice<UInt8>) -> Bool {
        let colon = ASCII.colon
        // Split at a single "::" if present.
        var compressedAt: Int?
        var index = text.startIndex
        while index < text.endIndex - 1 {
            if text[index] == colon, text[index + 1] == colon {
                guard compressedAt == nil else { return false }
                compressedAt = index
                index += 2
                continue
            }
            index += 1
        }
        if let compressedAt {
            let head = text[text.startIndex..<compressedAt]
            let tail = text[(compressedAt + 2)...]
            guard let headGroups = self.countGroups(head, mayEndWithIPv4: false),
                let tailGroups = self.countGroups(tail, mayEndWithIPv4: true)
            else { return false }
            // "::" stands for at least two groups of zeros: at most 6 explicit groups.
            return headGroups + tailGroups <= 6
        }
        guard let groups = self.countGroups(text, mayEndWithIPv4: true) else { return false }
        return groups == 8
    }

    /// Counts the 16-bit groups in `h16 *(":" h16) [":" IPv4]` (an IPv4 tail counts as 2);
    /// an empty text has 0 groups. Returns `nil` on a syntax error.
    private static func countGroups(_ text: ArraySlice<UInt8>, mayEndWithIPv4: Bool) -> Int? {
        guard !text.isEmpty else { return 0 }
        let parts = text.split(separator: ASCII.colon, omittingEmptySubsequences: false)
        var groups = 0
        for (offset, part) in parts.enumerated() {
            if offset == parts.count - 1, mayEndWithIPv4, part.contains(ASCII.dot) {
                guard AddressGrammar.isValidIPv4(part) else { return nil }
                groups += 2
            } else {
                guard (1...4).contains(part.count), part.allSatisfy(ASCII.isHexDigit) else { return nil }
                groups += 1
            }
        }
        return groups
    }
}
