/// An enhanced mail system status code, `class "." subject "." detail`
/// (RFC 3463 §2, carried in replies per RFC 2034 §4).
///
/// ```
/// S: 550 5.1.1 No such user
///        ^^^^^ class 5 (permanent failure), subject 1 (addressing), detail 1
/// ```
public struct EnhancedStatusCode: Hashable, Sendable {
    /// 2 (success), 4 (persistent transient failure) or 5 (permanent failure).
    public var `class`: Int
    /// 0-999 (RFC 3463: 1*3digit).
    public var subject: Int
    /// 0-999 (RFC 3463: 1*3digit).
    public var detail: Int

    public init(_ class: Int, _ subject: Int, _ detail: Int) {
        self.class = `class`
        self.subject = subject
        self.detail = detail
    }

    /// Parses `"5.7.1"`; `nil` unless the text is exactly `class.subject.detail` with
    /// class 2, 4 or 5 and 1-3 digit subject and detail.
    public init?(_ text: String) {
        guard let (code, length) = Self.parse(Array(text.utf8)[...]), length == text.utf8.count else {
            return nil
        }
        self = code
    }

    /// Parses an enhanced code at the start of `bytes`; returns it and the number of bytes used.
    static func parse(_ bytes: ArraySlice<UInt8>) -> (EnhancedStatusCode, Int)? {
        var index = bytes.startIndex
        var numbers: [Int] = []
        for part in 0..<3 {
            if part > 0 {
                guard index < bytes.endIndex, bytes[index] == ASCII.dot else { return nil }
                index += 1
            }
            let start = index
            var value = 0
            while index < bytes.endIndex, ASCII.isDigit(bytes[index]), index - start < 3 {
                value = value * 10 + Int(bytes[index] - 0x30)
                index += 1
            }
            guard index > start else { return nil }
            numbers.append(value)
        }
        guard [2, 4, 5].contains(numbers[0]) else { return nil }
        // A fourth digit directly after the detail means this was not a status code.
        if index < bytes.endIndex, ASCII.isDigit(bytes[index]) || bytes[index] == ASCII.dot {
            return nil
        }
        return (EnhancedStatusCode(numbers[0], numbers[1], numbers[2]), index - bytes.startIndex)
    }
}

extension EnhancedStatusCode: CustomStringConvertible {
    /// `"class.subject.detail"`, e.g. `"5.7.1"`.
    public var description: String {
        "\(self.class).\(self.subject).\(self.detail)"
    }
}
