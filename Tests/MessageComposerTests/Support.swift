import Foundation

@testable import MessageComposer

/// A deterministic generator (SplitMix64), so a test can know the boundary drawn first.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum Fixture {
    static func draft(
        subject: String = "Hello", text: String? = "Hello\n", html: String? = nil, charset: BodyCharset = .utf8,
        to: [NameAddress] = [NameAddress(address: "bob@example.net")]
    ) -> MessageDraft {
        MessageDraft(
            from: NameAddress(name: "Alice", address: "alice@example.com"), to: to, subject: subject, text: text, html: html,
            charset: charset, messageID: "id-1@example.com", date: "Sun, 06 Dec 2026 20:06:13 +0000")
    }

    /// The message's lines, without their CRLF; fails on a bare CR or LF.
    static func lines(_ message: [UInt8]) -> [ArraySlice<UInt8>]? {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var index = 0
        while index < message.count {
            if message[index] == 13 {
                guard index + 1 < message.count, message[index + 1] == 10 else { return nil }
                lines.append(message[start..<index])
                index += 2
                start = index
            } else if message[index] == 10 {
                return nil
            } else {
                index += 1
            }
        }
        return start == message.count ? lines : nil
    }

    /// The header section unfolded, as (name, value) pairs.
    static func headers(_ message: [UInt8]) -> [(name: String, value: String)] {
        let text = String(decoding: message, as: UTF8.self)
        let head = text.components(separatedBy: "\r\n\r\n")[0].replacingOccurrences(of: "\r\n ", with: " ")
        return head.components(separatedBy: "\r\n").map { line in
            let colon = line.firstIndex(of: ":")!
            return (String(line[..<colon]), String(line[line.index(after: colon)...].dropFirst()))
        }
    }

    static func header(_ name: String, in message: [UInt8]) -> String? {
        headers(message).first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The charset and decoded bytes of an encoded word `=?charset?B?text?=`.
    static func decodeWord(_ word: String) -> (charset: String, bytes: [UInt8])? {
        let parts = word.split(separator: "?", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "=", parts[2] == "B", parts[4] == "=",
            let data = Data(base64Encoded: String(parts[3]))
        else { return nil }
        return (String(parts[1]), Array(data))
    }
}
