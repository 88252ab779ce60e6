import NIOCore

/// Decides whether bytes received on a query's socket are the answer to that query.
///
/// Datagrams whose id or question differ from the query's are ignored, not treated as
/// errors: an off-path attacker must guess the id, the source port and the question
/// (RFC 5452 §3), and a stale reply to an earlier attempt must not end this one.
enum DNSResponseMatcher {
    enum Verdict {
        case ignore
        case response(DNSMessage)
        case malformed(DNSError)
    }

    static func match(_ bytes: ByteBuffer, to query: DNSMessage) -> Verdict {
        // Only a datagram carrying the query's id can end the exchange, even as an error.
        guard let id = bytes.getInteger(at: bytes.readerIndex, as: UInt16.self), id == query.header.id else {
            return .ignore
        }
        let message: DNSMessage
        do {
            message = try DNSMessage(decoding: bytes)
        } catch {
            // Some servers cut a too-large UDP reply mid-record and set TC (RFC 2181 §9):
            // the header alone is enough to know the answer must be fetched over TCP.
            if let flags = bytes.getInteger(at: bytes.readerIndex + 2, as: UInt16.self) {
                let header = DNSHeader(id: id, flags: flags)
                if header.isResponse, header.isTruncated {
                    return .response(DNSMessage(header: header, questions: query.questions))
                }
            }
            return .malformed(error as? DNSError ?? DNSError.malformed(String(describing: error)))
        }
        return message.isResponse(to: query) ? .response(message) : .ignore
    }
}
