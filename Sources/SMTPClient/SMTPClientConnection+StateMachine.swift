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
                return machine.receive(try await readReplies(1)[0])
            case .send(let commands):
                let replies = try await send(commands)
                var next = SMTPClientAction.awaitReply
                for reply in replies {
                    next = machine.receive(reply)
                    // A decision before the last reply (a 421, a protocol error) ends the
                    // group: the server is closing, and the 421 copies after it are not its.
                    if next != .awaitReply { break }
                }
                return next
            case .sendBody:
                return machine.receive(try await sendData(content))
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
}
