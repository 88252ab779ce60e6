import NIOCore
import SMTPProtocol

extension SMTPClientConnection {
    /// Does the I/O an ``SMTPClientAction`` asks for — read a reply, write commands
    /// (pipelined as one write), send the message content — and returns the state machine's
    /// next action. Actions that are decisions (`ready`, `startTLS`, `transactionComplete`,
    /// `fail`, `close`) are the caller's and come back unchanged.
    ///
    /// When the connection fails, the machine is told (``SMTPClientStateMachine/connectionFailed()``)
    /// and its answer returned if it has one (a lost RSET after a decided transaction);
    /// otherwise the error is thrown.
    public func perform(
        _ action: SMTPClientAction, body: ByteBuffer? = nil,
        on machine: inout SMTPClientStateMachine
    ) async throws -> SMTPClientAction {
        try await perform(action, content: MessageContent(body ?? ByteBuffer()), on: &machine)
    }

    /// Like ``perform(_:body:on:)``, with content that may be read from storage as it is sent.
    public func perform(
        _ action: SMTPClientAction, content: MessageContent,
        on machine: inout SMTPClientStateMachine
    ) async throws -> SMTPClientAction {
        do {
            switch action {
            case .awaitReply:
                // Every reply due (a chained transaction's whole envelope) in one read.
                return Self.feed(try await readReplies(machine.expectedReplies), to: &machine)
            case .send(let commands):
                return Self.feed(try await send(commands), to: &machine)
            case .sendBody(let chained):
                return machine.receive(try await sendData(content, then: chained))
            case .sendEmptyBody:
                return machine.receive(try await sendData(ByteBuffer()))
            case .ready, .startTLS, .transactionComplete, .fail, .close:
                return action
            }
        } catch {
            if let next = machine.connectionFailed() { return next }
            throw error
        }
    }

    /// Gives `replies` to the machine in order until it decides something. A decision before
    /// the last reply (a 421, a protocol error) ends the group: the server is closing, and
    /// the 421 copies after it are not its.
    private static func feed(_ replies: [SMTPReply], to machine: inout SMTPClientStateMachine) -> SMTPClientAction {
        var next = SMTPClientAction.awaitReply
        for reply in replies {
            next = machine.receive(reply)
            if next != .awaitReply { break }
        }
        return next
    }
}
