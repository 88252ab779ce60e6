/// What a server offers, read from its EHLO reply (RFC 5321 §4.1.1.1: each line after the
/// first is `ehlo-keyword *(SP ehlo-param)`).
///
/// ```
/// S: 250-mx.example.org Hello client
/// S: 250-PIPELINING                 (RFC 2920)
/// S: 250-SIZE 35882577              (RFC 1870)
/// S: 250-8BITMIME                   (RFC 6152)
/// S: 250-SMTPUTF8                   (RFC 6531)
/// S: 250-ENHANCEDSTATUSCODES        (RFC 2034)
/// S: 250-CHUNKING                   (RFC 3030)
/// S: 250-STARTTLS                   (RFC 3207)
/// S: 250 AUTH PLAIN LOGIN           (RFC 4954; the old form "AUTH=PLAIN LOGIN" is read too)
/// ```
public struct SMTPCapabilities: Hashable, Sendable {
    public var pipelining: Bool
    public var startTLS: Bool
    /// The advertised maximum message size; `nil` when not advertised or advertised as 0
    /// (no fixed maximum, RFC 1870 §4).
    public var size: Int?
    public var eightBitMIME: Bool
    public var smtpUTF8: Bool
    public var enhancedStatusCodes: Bool
    public var chunking: Bool
    /// SASL mechanisms, uppercased, in the order advertised.
    public var authMechanisms: [String]
    /// Every advertised keyword (uppercased) with its parameters.
    public var extensions: [String: [String]]

    /// No extensions (the answer to HELO, or an EHLO reply with one line).
    public init() {
        self.pipelining = false
        self.startTLS = false
        self.size = nil
        self.eightBitMIME = false
        self.smtpUTF8 = false
        self.enhancedStatusCodes = false
        self.chunking = false
        self.authMechanisms = []
        self.extensions = [:]
    }

    public init(ehloReply: SMTPReply) {
        self.init()
        for line in ehloReply.lines.dropFirst() {
            var words = line.split(separator: " ").map(String.init)
            guard !words.isEmpty else { continue }
            var keyword = words.removeFirst().uppercased()
            if keyword.hasPrefix("AUTH=") {
                // Pre-RFC 4954 servers: "AUTH=PLAIN LOGIN".
                words.insert(String(keyword.dropFirst(5)), at: 0)
                keyword = "AUTH"
            }
            self.extensions[keyword, default: []].append(contentsOf: words)
            switch keyword {
            case "PIPELINING": self.pipelining = true
            case "STARTTLS": self.startTLS = true
            case "SIZE":
                if let first = words.first, let size = Int(first), size > 0 {
                    self.size = size
                }
            case "8BITMIME": self.eightBitMIME = true
            case "SMTPUTF8": self.smtpUTF8 = true
            case "ENHANCEDSTATUSCODES": self.enhancedStatusCodes = true
            case "CHUNKING": self.chunking = true
            case "AUTH":
                for mechanism in words.map({ $0.uppercased() }) where !self.authMechanisms.contains(mechanism) {
                    self.authMechanisms.append(mechanism)
                }
            default: break
            }
        }
    }

    /// Whether the server advertised `keyword` (case-insensitive).
    public func supports(_ keyword: String) -> Bool {
        self.extensions[keyword.uppercased()] != nil
    }
}
