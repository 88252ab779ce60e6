/// A parsed SPF record (RFC 7208 §4.6, §12 ABNF):
///
/// ```
/// v=spf1 ip4:192.0.2.0/24 a mx:example.net/28 include:_spf.example.org ~all
/// ```
///
/// Terms are separated by spaces; a term is a directive (`[qualifier] mechanism`) or a
/// modifier (`name=value`). Names are case-insensitive. `redirect=` and `exp=` may appear
/// once each; other modifiers are ignored (§6).
struct SPFRecord: Sendable, Hashable {
    /// The result a matching mechanism gives (RFC 7208 §4.6.2); `+` when none is written.
    enum Qualifier: Character, Sendable, Hashable {
        case pass = "+"
        case fail = "-"
        case softfail = "~"
        case neutral = "?"

        var result: SPFResult {
            switch self {
            case .pass: return .pass
            case .fail: return .fail
            case .softfail: return .softfail
            case .neutral: return .neutral
            }
        }
    }

    /// Mechanisms of RFC 7208 §5. A domain-spec of nil means the domain being evaluated.
    enum Mechanism: Sendable, Hashable {
        case all
        case include(String)
        case a(String?, cidr: DualCIDR)
        case mx(String?, cidr: DualCIDR)
        case ptr(String?)
        case ip4(IPAddress, prefixLength: Int)
        case ip6(IPAddress, prefixLength: Int)
        case exists(String)

        /// Whether evaluating it costs one of the ten DNS-querying terms (§4.6.4).
        var queriesDNS: Bool {
            switch self {
            case .include, .a, .mx, .ptr, .exists: return true
            case .all, .ip4, .ip6: return false
            }
        }
    }

    /// `a` and `mx` prefix lengths (`/24//64`, RFC 7208 §5.6); nil means the whole address.
    struct DualCIDR: Sendable, Hashable {
        var v4: Int?
        var v6: Int?
    }

    struct Directive: Sendable, Hashable {
        var qualifier: Qualifier
        var mechanism: Mechanism
        /// The term as written, for findings.
        var text: String
    }

    var directives: [Directive]
    var redirect: String?
    var explanation: String?
    /// Every term as written (without `v=spf1`), in order, for building a merged record.
    var terms: [String]

    /// Why a record does not parse; evaluation gives `permerror` (RFC 7208 §4.6).
    struct SyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
        let description: String
    }

    /// Whether a TXT string is an SPF record: exactly `v=spf1`, then a space or the end
    /// (RFC 7208 §4.5), case-insensitively.
    static func isSPF(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower == "v=spf1" || lower.hasPrefix("v=spf1 ")
    }

    init(parsing text: String) throws(SyntaxError) {
        guard Self.isSPF(text) else { throw SyntaxError(description: "does not start with v=spf1") }
        self.directives = []
        self.terms = []
        for term in text.split(separator: " ").dropFirst().map(String.init) {
            self.terms.append(term)
            if let modifier = Self.modifier(term) {
                switch modifier.name {
                case "redirect":
                    guard self.redirect == nil else { throw SyntaxError(description: "redirect= appears twice") }
                    self.redirect = try Self.domainSpec(modifier.value, in: term)
                case "exp":
                    guard self.explanation == nil else { throw SyntaxError(description: "exp= appears twice") }
                    self.explanation = try Self.domainSpec(modifier.value, in: term)
                default:
                    continue  // unknown modifiers are ignored (RFC 7208 §6)
                }
                continue
            }
            self.directives.append(try Self.directive(term))
        }
    }

    /// A term `name=value` whose name is `ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )`.
    private static func modifier(_ term: String) -> (name: String, value: String)? {
        guard let equals = term.firstIndex(of: "=") else { return nil }
        let name = term[..<equals]
        guard let first = name.first, first.isASCII, first.isLetter,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
        else { return nil }
        return (name.lowercased(), String(term[term.index(after: equals)...]))
    }

    private static func directive(_ term: String) throws(SyntaxError) -> Directive {
        var rest = Substring(term)
        var qualifier = Qualifier.pass
        if let first = rest.first, let written = Qualifier(rawValue: first) {
            qualifier = written
            rest = rest.dropFirst()
        }
        // The mechanism name ends at ":" or "/" (a/24, mx//64) or the end of the term.
        let nameEnd = rest.firstIndex(where: { $0 == ":" || $0 == "/" }) ?? rest.endIndex
        let name = rest[..<nameEnd].lowercased()
        let argument = rest[nameEnd...]
        func noArgument() throws(SyntaxError) {
            if !argument.isEmpty { throw SyntaxError(description: "'\(term)': \(name) takes no argument") }
        }
        func requiredDomain() throws(SyntaxError) -> String {
            guard argument.hasPrefix(":") else { throw SyntaxError(description: "'\(term)': \(name) needs :domain") }
            return try Self.domainSpec(String(argument.dropFirst()), in: term)
        }
        let mechanism: Mechanism
        switch name {
        case "all":
            try noArgument()
            mechanism = .all
        case "include":
            mechanism = .include(try requiredDomain())
        case "exists":
            mechanism = .exists(try requiredDomain())
        case "a", "mx":
            let (domain, cidr) = try Self.domainAndCIDR(argument, in: term)
            mechanism = name == "a" ? .a(domain, cidr: cidr) : .mx(domain, cidr: cidr)
        case "ptr":
            if argument.isEmpty {
                mechanism = .ptr(nil)
            } else {
                mechanism = .ptr(try requiredDomain())
            }
        case "ip4", "ip6":
            guard argument.hasPrefix(":") else { throw SyntaxError(description: "'\(term)': \(name) needs :address") }
            let network = argument.dropFirst().split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            let isV4 = name == "ip4"
            let text = String(network[0])
            // ip4 takes dotted quads only, ip6 colon notation only (RFC 7208 §5.6).
            guard let address = IPAddress(text), isV4 ? address.isIPv4 && !text.contains(":") : text.contains(":") else {
                throw SyntaxError(description: "'\(term)': '\(text)' is not an IPv\(isV4 ? 4 : 6) address")
            }
            let maximum = isV4 ? 32 : 128
            var prefix = maximum
            if network.count == 2 {
                guard let length = Self.prefixLength(network[1], maximum: maximum) else {
                    throw SyntaxError(description: "'\(term)': bad prefix length")
                }
                prefix = length
            }
            mechanism = isV4 ? .ip4(address, prefixLength: prefix) : .ip6(address, prefixLength: prefix)
        default:
            throw SyntaxError(description: "'\(term)': unknown mechanism \(name)")
        }
        return Directive(qualifier: qualifier, mechanism: mechanism, text: term)
    }

    /// `[":" domain-spec] [ip4-cidr-length] ["/" ip6-cidr-length]` of `a` and `mx`.
    private static func domainAndCIDR(_ argument: Substring, in term: String) throws(SyntaxError) -> (String?, DualCIDR) {
        var rest = argument
        var domain: String? = nil
        if rest.hasPrefix(":") {
            rest = rest.dropFirst()
            let end = rest.firstIndex(of: "/") ?? rest.endIndex
            domain = try Self.domainSpec(String(rest[..<end]), in: term)
            rest = rest[end...]
        }
        var cidr = DualCIDR()
        if rest.hasPrefix("//") {
            guard let v6 = Self.prefixLength(rest.dropFirst(2), maximum: 128) else {
                throw SyntaxError(description: "'\(term)': bad IPv6 prefix length")
            }
            cidr.v6 = v6
        } else if rest.hasPrefix("/") {
            let parts = rest.dropFirst().split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
            guard let v4 = Self.prefixLength(parts[0], maximum: 32) else {
                throw SyntaxError(description: "'\(term)': bad IPv4 prefix length")
            }
            cidr.v4 = v4
            if parts.count > 1 {
                guard parts.count == 3, parts[1].isEmpty, let v6 = Self.prefixLength(parts[2], maximum: 128) else {
                    throw SyntaxError(description: "'\(term)': bad IPv6 prefix length")
                }
                cidr.v6 = v6
            }
        } else if !rest.isEmpty {
            throw SyntaxError(description: "'\(term)': unexpected '\(rest)'")
        }
        return (domain, cidr)
    }

    /// A prefix length without leading zeros (RFC 7208 §5.6 ABNF), at most `maximum`.
    private static func prefixLength(_ text: Substring, maximum: Int) -> Int? {
        guard !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber),
            text == "0" || !text.hasPrefix("0"), let value = Int(text), value <= maximum
        else { return nil }
        return value
    }

    /// A domain-spec (RFC 7208 §7.1): non-empty, no spaces. Macros (`%{i}`) are kept
    /// as written; the evaluator does not expand them.
    private static func domainSpec(_ text: String, in term: String) throws(SyntaxError) -> String {
        guard !text.isEmpty, !text.contains(" ") else { throw SyntaxError(description: "'\(term)': empty domain") }
        return text
    }
}

/// The results of check_host() (RFC 7208 §2.6).
public enum SPFResult: String, Sendable, Hashable, Codable {
    case pass, fail, softfail, neutral, none, permerror, temperror
}
