/// One line of the record file (JSON Lines): a message accepted, or a recipient refused.
///
/// ```json
/// {"t":1718000000123456,"site":"gmail-like","ip":"127.0.0.1","mx":"127.0.1.1","id":"3f2a-17","from":"a@relay.test","rcpt":["b@gmail.sim"],"message_id":"<x@relay.test>","seq":"42","size":1024,"tls":true}
/// {"t":1718000000123999,"site":"gmail-like","ip":"127.0.0.1","mx":"127.0.1.1","from":"a@relay.test","rcpt":"nouser@gmail.sim","refused":true,"reason":"unknown_user","reply":"550 5.1.1 No such user"}
/// ```
/// `t` is microseconds since the Unix epoch, taken when the reply is written. `ip` is the
/// client's source address, `mx` the site address it connected to. `message_id` (the
/// `Message-ID` header) and `seq` (`X-Loadtest-Seq`) are `null` when the message has none;
/// refusals of reason `dropped` carry them too, since the content was read.
enum SimRecord: Sendable {
    case accepted(Accepted)
    case refused(Refused)

    struct Accepted: Sendable {
        var time: Int64
        var site: String
        var clientIP: String
        var serverIP: String
        /// The simulator's queue id, also in the `250` reply.
        var id: String
        var sender: String
        var recipients: [String]
        var messageID: String?
        var sequence: String?
        var size: Int
        var tls: Bool
    }

    struct Refused: Sendable {
        var time: Int64
        var site: String
        var clientIP: String
        var serverIP: String
        var sender: String
        var recipient: String
        var reason: RefusalReason
        /// The reply sent, e.g. `421 4.7.28 rate limited`; empty for `dropped`.
        var reply: String
        var messageID: String? = nil
        var sequence: String? = nil
    }

    /// The record as one JSON line ending in `\n`.
    var jsonLine: [UInt8] {
        var line = JSONLine()
        switch self {
        case .accepted(let record):
            line.field("t", Int(record.time))
            line.field("site", record.site)
            line.field("ip", record.clientIP)
            line.field("mx", record.serverIP)
            line.field("id", record.id)
            line.field("from", record.sender)
            line.field("rcpt", record.recipients)
            line.field("message_id", record.messageID)
            line.field("seq", record.sequence)
            line.field("size", record.size)
            line.field("tls", record.tls)
        case .refused(let record):
            line.field("t", Int(record.time))
            line.field("site", record.site)
            line.field("ip", record.clientIP)
            line.field("mx", record.serverIP)
            line.field("from", record.sender)
            line.field("rcpt", record.recipient)
            line.field("refused", true)
            line.field("reason", record.reason.rawValue)
            line.field("reply", record.reply)
            if record.reason == .dropped {
                line.field("message_id", record.messageID)
                line.field("seq", record.sequence)
            }
        }
        return line.finished()
    }
}
