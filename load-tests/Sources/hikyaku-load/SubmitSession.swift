import NIOCore
import SMTPClient
import SMTPProtocol

/// One client connection: greet, then submit messages one transaction after another
/// (MAIL, RCPT and DATA pipelined when the server offers PIPELINING, RFC 2920), reconnecting
/// every `perConnection` messages or after an error. With several relay addresses the
/// session starts at `addresses[first]` and moves to the next one after a failure.
struct SubmitSession {
    let addresses: [SocketAddress]
    let first: Int
    let group: EventLoopGroup
    let factory: MessageFactory
    let pacer: Pacer
    let counters: Counters
    let recorder: Recorder?
    let perConnection: Int

    func run() async {
        var pending: Int? = nil
        var current = first
        while true {
            if pending == nil { pending = await counters.take() }
            guard pending != nil else { return }
            let connection: SMTPClientConnection
            var pipelining = false
            do {
                connection = try await SMTPClientConnection.connect(
                    to: addresses[current], from: nil, group: group,
                    connectTimeout: .seconds(10), commandTimeout: .seconds(60))
                _ = try await connection.readReplies(1)
                let ehlo = try await connection.send(.ehlo("hikyaku-load.test"))
                pipelining = SMTPCapabilities(ehloReply: ehlo).pipelining
            } catch {
                await counters.failed()
                current = (current + 1) % addresses.count
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            var sent = 0
            while sent < perConnection {
                let seq: Int
                if let held = pending {
                    seq = held
                    pending = nil
                } else if let next = await counters.take() {
                    seq = next
                } else {
                    break
                }
                await pacer.acquire()
                let submitted = Clock.micros()
                do {
                    try await submit(seq: seq, submitted: submitted, on: connection, pipelining: pipelining)
                } catch {
                    // No final reply: the message is recorded with code 0 (the client would
                    // have to send it again) and the session moves on to the next relay.
                    await counters.failed()
                    recorder?.add(
                        seq: seq, recipient: factory.recipient(for: seq), submitted: submitted,
                        accepted: Clock.micros(), code: 0, queueID: nil)
                    current = (current + 1) % addresses.count
                    break
                }
                sent += 1
            }
            _ = try? await connection.send(.quit)
            await connection.close()
        }
    }

    private func submit(seq: Int, submitted: Int64, on connection: SMTPClientConnection, pipelining: Bool) async throws {
        let recipient = factory.recipient(for: seq)
        let body = factory.message(seq: seq, recipient: recipient)
        let mail = SMTPCommand.mail(.mailbox(Mailbox(parsing: factory.sender)!), MailParameters())
        let rcpt = SMTPCommand.rcpt(ForwardPath(Mailbox(parsing: recipient)!), [])
        var replies: [SMTPReply]
        if pipelining {
            replies = try await connection.send([mail, rcpt, .data])
        } else {
            replies = [try await connection.send(mail)]
            if replies[0].isPositive { replies.append(try await connection.send(rcpt)) }
            if replies.last!.isPositive { replies.append(try await connection.send(.data)) }
        }
        var final = replies.first { !$0.isPositive && !$0.isIntermediate }
        if replies.count == 3 && replies[2].code == 354 {
            let reply = try await connection.sendData(final == nil ? body : ByteBuffer())
            if final == nil { final = reply }
        } else if final == nil {
            final = replies.last
        }
        if !(final?.isPositive ?? false) { _ = try? await connection.send(.rset) }
        let code = final?.code ?? 0
        await counters.answered(after: Clock.micros() - submitted)
        await counters.done(code: code)
        let queueID = code == 250 ? final?.lines.last?.split(separator: " ").last.map(String.init) : nil
        recorder?.add(seq: seq, recipient: recipient, submitted: submitted, accepted: Clock.micros(), code: code, queueID: queueID)
    }
}
