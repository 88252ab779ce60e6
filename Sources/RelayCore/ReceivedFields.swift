/// Counts the `Received:` trace fields of a message, for loop detection (RFC 5321 §6.3:
/// "simply counting the number of Received header fields in a message has proven to be an
/// effective, although rarely optimal, method of detecting loops in mail systems"). Each
/// SMTP server a message passes through prepends one (§4.4), so a message that went round
/// a loop carries one per turn.
public enum ReceivedFields {
    /// The most octets looked at: a header section longer than this is counted up to here.
    public static var scanLimit: Int { 256 * 1024 }

    /// The number of `Received:` fields in the header section at the start of `message`
    /// (up to its first empty line, RFC 5322 §2.1). The name is matched case-insensitively,
    /// also with white space before the colon (the obsolete syntax of RFC 5322 §4.5.3);
    /// continuation lines of folded fields are not field starts.
    /// Inlinable so that it is specialised for the caller's byte collection (a worker scans
    /// every message it sends).
    @inlinable
    public static func count<Bytes: Sequence<UInt8>>(inHeaderOf message: Bytes) -> Int {
        let name: StaticString = "received"
        var phase = ScanPhase.name
        var matched = 0
        var lineLength = 0
        var count = 0
        var scanned = 0
        for byte in message {
            scanned += 1
            if scanned > scanLimit { break }
            if byte == 0x0A {
                // An empty line (LF or CRLF alone) ends the header section.
                if lineLength == 0 { break }
                phase = .name
                matched = 0
                lineLength = 0
                continue
            }
            if byte != 0x0D { lineLength += 1 }
            switch phase {
            case .name:
                let lower = byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte
                if matched < name.utf8CodeUnitCount {
                    if lower == name.utf8Start[matched] { matched += 1 } else { phase = .rest }
                } else if byte == UInt8(ascii: ":") {
                    count += 1
                    phase = .rest
                } else if byte == 0x20 || byte == 0x09 {
                    phase = .space
                } else {
                    phase = .rest
                }
            case .space:
                if byte == UInt8(ascii: ":") {
                    count += 1
                    phase = .rest
                } else if byte != 0x20 && byte != 0x09 {
                    phase = .rest
                }
            case .rest:
                break
            }
        }
        return count
    }

    /// Where the scan is in a line: in the field name, in white space after it, or past it.
    @usableFromInline
    enum ScanPhase { case name, space, rest }
}
