/// Builds one JSON object on one line (RFC 8259), fields in the order added. Hand-written
/// rather than `JSONEncoder` because the simulator writes a line per message at thousands
/// of messages a second.
struct JSONLine: Sendable {
    private(set) var bytes: [UInt8] = [UInt8(ascii: "{")]

    init() {
        self.bytes.reserveCapacity(256)
    }

    mutating func field(_ key: StaticString, _ value: String?) {
        self.key(key)
        if let value {
            self.string(value)
        } else {
            self.bytes.append(contentsOf: "null".utf8)
        }
    }

    mutating func field(_ key: StaticString, _ value: Int) {
        self.key(key)
        self.bytes.append(contentsOf: String(value).utf8)
    }

    mutating func field(_ key: StaticString, _ value: Bool) {
        self.key(key)
        self.bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    mutating func field(_ key: StaticString, _ values: [String]) {
        self.key(key)
        self.bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { self.bytes.append(UInt8(ascii: ",")) }
            self.string(value)
        }
        self.bytes.append(UInt8(ascii: "]"))
    }

    /// The object closed and followed by `\n`.
    func finished() -> [UInt8] {
        self.bytes + [UInt8(ascii: "}"), UInt8(ascii: "\n")]
    }

    private mutating func key(_ key: StaticString) {
        if self.bytes.count > 1 { self.bytes.append(UInt8(ascii: ",")) }
        self.bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { self.bytes.append(contentsOf: $0) }
        self.bytes.append(contentsOf: "\":".utf8)
    }

    /// A string with `"`, `\` and control characters escaped (RFC 8259 §7); other UTF-8 as is.
    private mutating func string(_ value: String) {
        self.bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): self.bytes.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): self.bytes.append(contentsOf: "\\\\".utf8)
            case UInt8(ascii: "\n"): self.bytes.append(contentsOf: "\\n".utf8)
            case UInt8(ascii: "\r"): self.bytes.append(contentsOf: "\\r".utf8)
            case UInt8(ascii: "\t"): self.bytes.append(contentsOf: "\\t".utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                self.bytes.append(contentsOf: "\\u00".utf8)
                self.bytes.append(hex[Int(byte >> 4)])
                self.bytes.append(hex[Int(byte & 0xF)])
            default: self.bytes.append(byte)
            }
        }
        self.bytes.append(UInt8(ascii: "\""))
    }
}
