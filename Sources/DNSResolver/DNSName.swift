import NIOCore

/// A domain name as a sequence of labels (RFC 1035 §3.1).
///
/// Comparison and hashing are case-insensitive for ASCII letters (RFC 4343 §3), so a
/// response that echoes `Example.COM` matches a query for `example.com`.
///
/// Names are built from text with ``init(_:)``, which accepts ASCII only: IDNs must be
/// passed as A-labels (`xn--…`, RFC 5890). Labels are limited to 63 octets and the name to
/// 253 octets of text (255 on the wire), RFC 1035 §2.3.4.
public struct DNSName: Sendable, Hashable, CustomStringConvertible {
    /// The longest label, RFC 1035 §2.3.4.
    public static let maximumLabelLength = 63
    /// The longest name in wire format (length octets included), RFC 1035 §2.3.4.
    public static let maximumWireLength = 255

    /// The root name (`.`), which RFC 7505 uses as the exchange of a null MX.
    public static let root = DNSName(uncheckedLabels: [])

    /// The labels, most specific first, without the empty root label.
    public let labels: [[UInt8]]

    init(uncheckedLabels labels: [[UInt8]]) {
        self.labels = labels
    }

    /// Parses a textual name such as `mx1.example.com` or `example.com.`.
    ///
    /// - Throws: ``DNSError`` with code ``DNSError/Code/invalidName`` for an empty label,
    ///   a label over 63 octets, a name over 253 octets, or a non-ASCII character.
    public init(_ text: String) throws {
        var name = Substring(text)
        if name.hasSuffix(".") { name = name.dropLast() }
        if name.isEmpty {
            if text == "." {
                self = .root
                return
            }
            throw DNSError(.invalidName, "empty domain name")
        }
        var labels: [[UInt8]] = []
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            let bytes = Array(label.utf8)
            if bytes.isEmpty {
                throw DNSError(.invalidName, "empty label in \"\(text)\"")
            }
            if bytes.count > Self.maximumLabelLength {
                throw DNSError(
                    .invalidName,
                    "label \"\(label)\" is \(bytes.count) octets, over \(Self.maximumLabelLength)"
                )
            }
            if let bad = bytes.first(where: { $0 <= 0x20 || $0 >= 0x7F }) {
                let hint = bad >= 0x80 ? " (pass IDNs as A-labels, xn--…)" : ""
                throw DNSError(.invalidName, "\"\(text)\" contains a non-ASCII or control character\(hint)")
            }
            labels.append(bytes)
        }
        let result = DNSName(uncheckedLabels: labels)
        if result.wireLength > Self.maximumWireLength {
            throw DNSError(.invalidName, "\"\(text)\" is longer than 253 octets")
        }
        self = result
    }

    /// Whether this is the root name.
    public var isRoot: Bool { self.labels.isEmpty }

    /// The length of the name in wire format, including length octets and the root label.
    public var wireLength: Int {
        self.labels.reduce(1) { $0 + 1 + $1.count }
    }

    /// The name with a single trailing dot omitted (`example.com`), `.` for the root.
    /// Octets other than letters, digits, `-` and `_` are written as `\DDD` (RFC 4343 §2.1).
    public var description: String {
        if self.isRoot { return "." }
        return self.labels.map(Self.escape).joined(separator: ".")
    }

    private static func escape(_ label: [UInt8]) -> String {
        var text = ""
        for byte in label {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                UInt8(ascii: "*"):
                text.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let digits = String(byte)
                text += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
            }
        }
        return text
    }

    /// Writes the name uncompressed (RFC 1035 §3.1).
    func write(to buffer: inout ByteBuffer) {
        for label in self.labels {
            buffer.writeInteger(UInt8(label.count))
            buffer.writeBytes(label)
        }
        buffer.writeInteger(UInt8(0))
    }

    public static func == (lhs: DNSName, rhs: DNSName) -> Bool {
        guard lhs.labels.count == rhs.labels.count else { return false }
        for (left, right) in zip(lhs.labels, rhs.labels) {
            guard left.count == right.count else { return false }
            for (a, b) in zip(left, right) where lowercase(a) != lowercase(b) {
                return false
            }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.labels.count)
        for label in self.labels {
            hasher.combine(label.count)
            for byte in label { hasher.combine(lowercase(byte)) }
        }
    }
}

/// ASCII lowercase of one octet; other octets unchanged (RFC 4343 §3).
@inline(__always)
private func lowercase(_ byte: UInt8) -> UInt8 {
    (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) ? byte | 0x20 : byte
}
