import NIOCore
import SMTPProtocol

/// A scripted server for driving ``SMTPClientStateMachine`` without I/O: the replies queued
/// for each verb answer that verb's commands in order, and `sent` records the exchange
/// (`TLS` for a handshake, `BODY` / `EMPTY` for message content).
struct ScriptedServer {
    var replies: [String: [SMTPReply]]
    var sent: [String] = []
    /// Replies to commands that followed a content (a chained transaction), in order,
    /// until the machine reads them.
    var waiting: [SMTPReply] = []

    init(_ replies: [String: [SMTPReply]]) {
        self.replies = replies
    }

    mutating func next(_ key: String) -> SMTPReply {
        guard let queue = replies[key], !queue.isEmpty else {
            // Anything not scripted is answered the way a confused server would.
            return SMTPReply(500, "5.5.1", "unscripted \(key)")
        }
        // The last reply repeats: `"RCPT": [250]` answers every RCPT.
        if queue.count > 1 { replies[key] = Array(queue.dropFirst()) }
        return queue[0]
    }

    /// Does what the connection glue would, until the machine makes a decision.
    mutating func drive(_ machine: inout SMTPClientStateMachine, _ first: SMTPClientAction = .awaitReply) -> SMTPClientAction {
        var action = first
        while true {
            switch action {
            case .awaitReply where !waiting.isEmpty:
                var step = SMTPClientAction.awaitReply
                for _ in 0..<machine.expectedReplies {
                    step = machine.receive(waiting.removeFirst())
                    if step != .awaitReply { break }
                }
                action = step
            case .awaitReply:
                action = machine.receive(next("GREETING"))
            case .send(let commands):
                sent += commands.map(\.verb)
                var step = SMTPClientAction.awaitReply
                for command in commands {
                    step = machine.receive(next(command.verb))
                    if step != .awaitReply { break }
                }
                action = step
            case .startTLS:
                sent.append("TLS")
                action = machine.tlsEstablished()
            case .sendBody(let chained):
                sent.append("BODY")
                action = machine.receive(next("BODY"))
                // The server answers the chained commands after the end of data.
                sent += chained.map(\.verb)
                waiting += chained.map { next($0.verb) }
            case .sendEmptyBody:
                sent.append("EMPTY")
                action = machine.receive(next("BODY"))
            case .ready, .transactionComplete, .fail, .close:
                return action
            }
        }
    }
}

func reply(_ text: String) -> SMTPReply {
    var parser = SMTPReplyParser()
    parser.append(ByteBuffer(string: text.split(separator: "|").map { "\($0)\r\n" }.joined()))
    return try! parser.next()!
}

/// `250-mx.example.org` and one line per keyword.
func ehloReply(_ keywords: String...) -> SMTPReply {
    SMTPReply(code: 250, lines: ["mx.example.org"] + keywords)
}

func path(_ address: String) -> ForwardPath {
    ForwardPath(Mailbox(parsing: address)!)
}

let sender = ReversePath.mailbox(Mailbox(parsing: "a@example.com")!)
