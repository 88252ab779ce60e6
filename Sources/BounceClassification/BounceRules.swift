import RelayCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The classification rules: enhanced-status-code rules, then reply-text rules, each giving
/// a ``BounceClass`` and optionally a ``BounceSeverity``. ``shipped`` holds the relay's own;
/// an operator replaces them with a file of the same format (`bounces.rules_file`;
/// `hikyaku bounce rules` prints the shipped file to start from).
///
/// The format, one rule per line (`#` starts a comment; blank lines are ignored):
///
///     status <code> <class> [soft|hard] [refine]
///     text "<pattern>" <class> [soft|hard]
///
/// - `<code>` is an enhanced status code `class.subject.detail` (RFC 3463 §2): the class
///   `4`, `5` or `X` (either), the subject and detail each a number, a range such as `20-29`,
///   or `*` (any). `X.7.20-29` matches `5.7.26` and `4.7.24`.
/// - `<pattern>` is matched anywhere in the reply, ignoring case and treating any run of
///   white space as one space; `*` inside it matches any run of characters. `\"` and `\\`
///   write a quote and a backslash.
/// - `<class>` is one of the ``BounceClass`` raw values (`invalid_recipient`, …).
/// - `soft`/`hard` overrides the severity the reply's code gives (`5xx` hard, `4xx` soft).
/// - `refine` marks a generic status code (`X.7.1`, `X.0.0`): a text rule that matches
///   decides instead.
///
/// ``BounceClassifier`` takes the first status rule matching the reply's enhanced code; if
/// there is none, or it says `refine`, the first matching text rule decides; failing both
/// the class is `other`.
public struct BounceRules: Sendable, Equatable {
    /// A rule on the enhanced status code.
    public struct StatusRule: Sendable, Equatable {
        public var pattern: StatusPattern
        public var bounceClass: BounceClass
        public var severity: BounceSeverity?
        /// A matching text rule takes precedence.
        public var refine: Bool
        /// Where it was read (1-based), for diagnostics.
        public var line: Int
    }

    /// A rule on the reply's wording.
    public struct TextRule: Sendable, Equatable {
        /// The pattern as written (between the quotes, escapes resolved).
        public var pattern: String
        public var bounceClass: BounceClass
        public var severity: BounceSeverity?
        public var line: Int
        /// The pattern folded for matching, split at `*`.
        let parts: [[UInt8]]
    }

    /// `class.subject.detail` with wildcards and ranges. `codeClass` nil is `X` (4 or 5).
    public struct StatusPattern: Sendable, Equatable, CustomStringConvertible {
        public var codeClass: Int?
        public var subject: ClosedRange<Int>?
        public var detail: ClosedRange<Int>?

        public func matches(_ status: EnhancedStatus) -> Bool {
            (codeClass.map { $0 == status.codeClass } ?? (status.codeClass == 4 || status.codeClass == 5))
                && (subject?.contains(status.subject) ?? true) && (detail?.contains(status.detail) ?? true)
        }

        public var description: String {
            func part(_ range: ClosedRange<Int>?) -> String {
                guard let range else { return "*" }
                return range.count == 1 ? "\(range.lowerBound)" : "\(range.lowerBound)-\(range.upperBound)"
            }
            return "\(codeClass.map(String.init) ?? "X").\(part(subject)).\(part(detail))"
        }
    }

    public var statusRules: [StatusRule]
    public var textRules: [TextRule]

    /// Parses rules text; `source` names it in errors (a path, or `shipped rules`).
    public init(parsing text: String, source: String = "rules") throws(BounceRulesError) {
        statusRules = []
        textRules = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            var scanner = RuleLineScanner(Substring(rawLine))
            guard let keyword = scanner.word() else { continue }
            func fail(_ problem: String) -> BounceRulesError {
                BounceRulesError(source: source, line: number, problem: problem)
            }
            switch keyword {
            case "status":
                guard let code = scanner.word() else { throw fail("'status' needs an enhanced status code such as 5.1.1 or X.7.20-29") }
                guard let pattern = StatusPattern(parsing: code) else {
                    throw fail(
                        "'\(code)' is not an enhanced status code pattern (class 4, 5 or X; subject and detail a number, a range or *)")
                }
                let (bounceClass, severity, refine) = try Self.tail(&scanner, allowRefine: true, fail: fail)
                statusRules.append(StatusRule(pattern: pattern, bounceClass: bounceClass, severity: severity, refine: refine, line: number))
            case "text":
                let pattern: String
                switch scanner.quoted() {
                case .success(let found): pattern = found
                case .failure(let problem): throw fail(problem.description)
                }
                let parts = BounceText.fold(pattern).split(separator: UInt8(ascii: "*"), omittingEmptySubsequences: true).map(Array.init)
                guard !parts.isEmpty else { throw fail("the pattern must contain something besides '*' and spaces") }
                let (bounceClass, severity, _) = try Self.tail(&scanner, allowRefine: false, fail: fail)
                textRules.append(TextRule(pattern: pattern, bounceClass: bounceClass, severity: severity, line: number, parts: parts))
            default:
                throw fail("unknown rule '\(keyword)' (a rule starts with 'status' or 'text')")
            }
        }
    }

    /// The class, the optional severity and `refine` that end a rule.
    private static func tail(
        _ scanner: inout RuleLineScanner, allowRefine: Bool, fail: (String) -> BounceRulesError
    ) throws(BounceRulesError) -> (BounceClass, BounceSeverity?, Bool) {
        let classes = BounceClass.allCases.map(\.rawValue).joined(separator: ", ")
        guard let name = scanner.word() else { throw fail("the rule needs a class (one of \(classes))") }
        guard let bounceClass = BounceClass(rawValue: name) else { throw fail("unknown class '\(name)' (one of \(classes))") }
        var severity: BounceSeverity?
        var refine = false
        while let word = scanner.word() {
            if let given = BounceSeverity(rawValue: word), severity == nil {
                severity = given
            } else if word == "refine" && allowRefine && !refine {
                refine = true
            } else {
                let allowed = allowRefine ? "'soft', 'hard' or 'refine'" : "'soft' or 'hard'"
                throw fail("unexpected '\(word)' after the class (only \(allowed), each once)")
            }
        }
        return (bounceClass, severity, refine)
    }

    /// Reads an operator's rules file. Errors name the file and the line.
    public static func load(path: String) throws(BounceRulesError) -> BounceRules {
        guard let file = fopen(path, "r") else {
            throw BounceRulesError(source: path, line: nil, problem: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count > 0 { bytes += buffer[0..<count] }
            if count < buffer.count { break }
            if bytes.count > maxFileSize {
                throw BounceRulesError(source: path, line: nil, problem: "larger than \(maxFileSize) bytes")
            }
        }
        if ferror(file) != 0 {
            throw BounceRulesError(source: path, line: nil, problem: "cannot read: \(String(cString: strerror(errno)))")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw BounceRulesError(source: path, line: nil, problem: "not UTF-8 text")
        }
        return try BounceRules(parsing: text, source: path)
    }

    /// A rules file is a few hundred lines; anything far larger is a wrong path.
    static let maxFileSize = 1 << 20

    /// The shipped rules, parsed (they are checked by the tests, so this cannot fail).
    public static let shipped: BounceRules = {
        do {
            return try BounceRules(parsing: shippedText, source: "shipped rules")
        } catch {
            fatalError("the shipped bounce rules do not parse: \(error)")
        }
    }()
}

/// A problem in a rules file, naming the file and line (1-based) where there is one.
public struct BounceRulesError: Error, Sendable, Equatable, CustomStringConvertible {
    public var source: String
    public var line: Int?
    public var problem: String

    public init(source: String, line: Int?, problem: String) {
        self.source = source
        self.line = line
        self.problem = problem
    }

    public var description: String {
        "\(source)\(line.map { ", line \($0)" } ?? ""): \(problem)"
    }
}

/// Splits one rules line into words and a quoted pattern; stops at `#` outside quotes.
struct RuleLineScanner {
    private var rest: Substring

    init(_ line: Substring) { rest = line }

    private mutating func skipSpace() {
        rest = rest.drop { $0 == " " || $0 == "\t" || $0 == "\r" }
        if rest.first == "#" { rest = "" }
    }

    /// The next run of characters up to white space or `#`, if any.
    mutating func word() -> String? {
        skipSpace()
        let word = rest.prefix { $0 != " " && $0 != "\t" && $0 != "\r" && $0 != "#" }
        guard !word.isEmpty else { return nil }
        rest = rest.dropFirst(word.count)
        return String(word)
    }

    /// A `"…"` string with `\"` and `\\` escapes.
    mutating func quoted() -> Result<String, QuotedProblem> {
        skipSpace()
        guard rest.first == "\"" else { return .failure(QuotedProblem("'text' needs a pattern in double quotes")) }
        rest = rest.dropFirst()
        var out = ""
        var escaped = false
        while let character = rest.first {
            rest = rest.dropFirst()
            if escaped {
                guard character == "\"" || character == "\\" else {
                    return .failure(QuotedProblem("unknown escape '\\\(character)' in the pattern (only \\\" and \\\\)"))
                }
                out.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "\"" {
                return out.isEmpty ? .failure(QuotedProblem("the pattern is empty")) : .success(out)
            } else {
                out.append(character)
            }
        }
        return .failure(QuotedProblem("the pattern's closing quote is missing"))
    }

    struct QuotedProblem: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

extension BounceRules.StatusPattern {
    /// `5.1.1`, `X.7.20-29`, `4.*.*`.
    init?(parsing text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        switch parts[0] {
        case "4": codeClass = 4
        case "5": codeClass = 5
        case "X", "x": codeClass = nil
        default: return nil
        }
        func range(_ part: Substring) -> ClosedRange<Int>?? {
            if part == "*" { return .some(nil) }
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count),
                let low = bounds.first.flatMap({ Self.number($0) }),
                let high = bounds.count == 2 ? Self.number(bounds[1]) : low, low <= high
            else { return nil }
            return .some(low...high)
        }
        guard let subject = range(parts[1]), let detail = range(parts[2]) else { return nil }
        self.subject = subject
        self.detail = detail
    }

    /// 1–3 digits (RFC 3463 §2: subject and detail are 1*3digit).
    private static func number(_ text: Substring) -> Int? {
        guard (1...3).contains(text.count), text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }
}
