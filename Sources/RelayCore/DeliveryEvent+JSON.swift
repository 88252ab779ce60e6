extension DeliveryEvent {
    /// The event as one compact JSON object (RFC 8259) with keys in alphabetical order —
    /// the same bytes `JSONEncoder` with `.sortedKeys` produces, written by hand because
    /// events are encoded for every recipient on the hot path.
    public func jsonBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        out.append(UInt8(ascii: "{"))
        var first = true
        func key(_ name: StaticString) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }
        func string(_ name: StaticString, _ value: String?) {
            guard let value else { return }
            key(name)
            Self.appendJSONString(value, to: &out)
        }
        func int(_ name: StaticString, _ value: Int?) {
            guard let value else { return }
            key(name)
            out.append(contentsOf: String(value).utf8)
        }
        // Alphabetical order of the coding keys.
        string("accepted_at", acceptedAt)
        string("account", account)
        string("action", action)
        if let async {
            key("async")
            out.append(contentsOf: (async ? "true" : "false").utf8)
        }
        int("attempt", attempt)
        string("auth_user", authUser)
        string("bounce_class", bounceClass?.rawValue)
        string("bounce_type", bounceType?.rawValue)
        string("client_ip", clientIP)
        string("domain", domain?.rawValue)
        string("egress_ip", egressIP?.rawValue)
        string("event", event.rawValue)
        if let factor {
            key("factor")
            out.append(contentsOf: "\(factor)".utf8)
        }
        string("message_id", messageID)
        if let metadata {
            key("metadata")
            out.append(UInt8(ascii: "{"))
            for (index, (name, value)) in metadata.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.appendJSONString(name, to: &out)
                out.append(UInt8(ascii: ":"))
                Self.appendJSONString(value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        string("next_attempt_at", nextAttemptAt)
        string("node", node)
        string("queue_id", queueID)
        string("recipient", recipient)
        if let recipients {
            key("recipients")
            out.append(UInt8(ascii: "["))
            for (index, recipient) in recipients.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.appendJSONString(recipient, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        string("remote_host", remoteHost)
        string("remote_ip", remoteIP)
        string("reply", reply)
        string("rule", rule)
        string("sender", sender)
        string("site", site?.rawValue)
        int("size", size)
        string("suppression", suppression)
        if let tags {
            key("tags")
            out.append(UInt8(ascii: "["))
            for (index, tag) in tags.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.appendJSONString(tag, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        string("time", time)
        string("until", until)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped — the C1
    /// controls (U+0080–U+009F, `C2 80`–`C2 9F` in UTF-8) too, which RFC 8259 does not
    /// require, so that `hikyaku events tail` never prints one a remote server chose.
    static func appendJSONString(_ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let hex = Array("0123456789abcdef".utf8)
        var afterC2 = false
        for byte in value.utf8 {
            if afterC2 {
                afterC2 = false
                if (0x80...0x9F).contains(byte) {
                    out.append(contentsOf: [
                        92, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 15)],
                    ])
                    continue
                }
                out.append(0xC2)
            }
            switch byte {
            case 0xC2: afterC2 = true
            case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
            case 0x0A: out.append(contentsOf: [92, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [92, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0..<0x20, 0x7F:
                out.append(contentsOf: [
                    92, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 15)],
                ])
            default: out.append(byte)
            }
        }
        if afterC2 { out.append(0xC2) }
        out.append(UInt8(ascii: "\""))
    }
}
