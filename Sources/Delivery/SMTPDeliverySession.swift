import NIOCore
import SMTPClient
import SMTPProtocol

/// One SMTP client session to a destination: connect to the first reachable MX address,
/// EHLO, STARTTLS when offered, then any number of mail transactions on the same
/// connection (RFC 5321 §3.3), pipelined when the server offers PIPELINING (RFC 2920).
/// ``SMTPClientStateMachine`` decides every command; this drives it over the connection.
/// Opening (addresses, TLS policy) is in `SMTPDeliverySession+Open.swift`.
struct SMTPDeliverySession {
    let connection: SMTPClientConnection
    let host: String
    private(set) var machine: SMTPClientStateMachine

    var capabilities: SMTPCapabilities { machine.capabilities }
    var isTLS: Bool { machine.isTLS }
    /// False once the server announced it is closing (`421`) or the session failed.
    var isUsable: Bool { machine.isUsable }
    var remoteIP: String? { connection.remoteAddress.ipAddress }

    /// Where a session comes from and what it requires.
    struct Origin: Sendable {
        /// Local address to bind (the egress IP), nil for the system's choice.
        var localAddress: SocketAddress?
        var heloName: String
        /// The site requires TLS: without it the attempt fails (and is deferred).
        var tlsRequired: Bool
        /// The next message's envelope may follow a content in the same write (RFC 2920 §3.1).
        var pipelinesNextMessage = true
    }

    /// One mail transaction for some recipients of one message. Returns a result per
    /// recipient, in order; throws only when the connection itself failed.
    mutating func transact(sender: ReversePath, recipients: [Mailbox], body: ByteBuffer) async throws -> [RecipientResult] {
        try await transact(sender: sender, recipients: recipients, content: MessageContent(body))
    }

    /// The envelope of the transaction that follows, sent with this one's content.
    struct NextEnvelope {
        var sender: ReversePath
        var recipients: [Mailbox]
        var size: Int
    }

    /// Like ``transact(sender:recipients:body:)``, with content that may be read from storage
    /// as it is sent. With `next`, that transaction's envelope follows this content in the
    /// same write when the server offers PIPELINING (RFC 2920 §3.1): one round trip per
    /// message instead of two. The next call must then be for exactly that envelope — or
    /// ``quit()``/``close()``, which abandon it undelivered.
    mutating func transact(
        sender: ReversePath, recipients: [Mailbox], content: MessageContent, next: NextEnvelope? = nil
    ) async throws -> [RecipientResult] {
        var action = machine.beginTransaction(from: sender, to: recipients.map { ForwardPath($0) }, size: content.size)
        if let next {
            machine.chainNextTransaction(from: next.sender, to: next.recipients.map { ForwardPath($0) }, size: next.size)
        }
        while true {
            switch action {
            case .transactionComplete(let outcome):
                return zip(recipients, outcome.recipients).map { recipient, outcome in
                    RecipientResult(recipient: recipient, remoteReply: outcome.reply, remoteHost: host, remoteIP: remoteIP)
                }
            case .fail(let failure, _):
                throw failure
            default:
                action = try await connection.perform(action, content: content, on: &machine)
            }
        }
    }

    /// QUIT (its reply, or its failure, does not matter), then close.
    func quit() async {
        var machine = self.machine
        if case .send = machine.quit() {
            _ = try? await connection.send(.quit)
        }
        await connection.close()
    }

    func close() async {
        await connection.close()
    }
}

/// The reason every recipient of a batch gets the same outcome (no route, no connection).
struct RecipientFailure: Error {
    var reply: String
    var isPermanent = false
    /// The remote reply behind it, if one (a `421` greeting, say) — for adaptive backoff.
    var remoteReply: SMTPReply? = nil
}

enum SocketAddressCheck {
    static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}
