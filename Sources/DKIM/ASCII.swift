/// The bytes the DKIM grammar cares about (RFC 5234 core rules).
enum ASCII {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let colon: UInt8 = 0x3A

    /// WSP = SP / HTAB (RFC 5234 Appendix B.1).
    @inline(__always)
    static func isWSP(_ byte: UInt8) -> Bool {
        byte == space || byte == tab
    }

    /// ASCII lower case; header field names compare case-insensitively (RFC 5322 §1.2.2).
    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }
}
