import NIOCore
import SMTPProtocol

/// Connects an ``SMTPFramer`` and an ``SMTPServerStateMachine`` the way the NIO handler
/// does, over raw client bytes, completing credential checks and enqueues immediately.
struct WireSession {
    var framer = SMTPFramer()
    var machine: SMTPServerStateMachine
    let passwords: [String: String]
    /// Addresses refused when the machine asks (``SMTPServerAction/checkRecipient(_:)``).
    var suppressed: Set<String> = []
    private(set) var replies: [SMTPReply] = []
    private(set) var messages: [(transaction: SMTPTransaction, content: [UInt8])] = []
    private(set) var closed = false
    /// `framer.bufferedByteCount` when each `.startTLS` action came.
    private(set) var bufferedAtStartTLS: [Int] = []
    private var content: [UInt8] = []

    init(_ configuration: SMTPServerConfiguration, isTLS: Bool = false, passwords: [String: String] = [:]) {
        self.machine = SMTPServerStateMachine(configuration: configuration, isTLS: isTLS)
        self.passwords = passwords
        self.replies.append(self.machine.greeting())
    }

    var codes: [Int] {
        self.replies.map(\.code)
    }

    mutating func feed(_ bytes: [UInt8]) {
        guard !self.closed else { return }
        self.framer.append(ByteBuffer(bytes: bytes))
        while !self.closed, let frame = self.framer.next() {
            switch frame {
            case .line(let line):
                self.perform(self.machine.receiveLine(line))
            case .lineTooLong:
                self.perform(self.machine.receiveLineTooLong())
            case .dataChunk(let chunk):
                self.content += chunk.bytes
            case .dataEnd(let summary):
                self.perform(self.machine.dataEnded(summary))
            }
        }
    }

    private mutating func perform(_ action: SMTPServerAction) {
        switch action {
        case .reply(let reply):
            self.replies.append(reply)
        case .replyAndClose(let reply):
            self.replies.append(reply)
            self.closed = true
        case .startTLS(let reply):
            self.bufferedAtStartTLS.append(self.framer.bufferedByteCount)
            self.replies.append(reply)
            self.machine.tlsEstablished()
        case .checkCredentials(let username, let password, _):
            let result: AuthResult = self.passwords[username] == password ? .success(username) : .failure
            self.perform(self.machine.credentialsChecked(result))
        case .checkRecipient(let mailbox):
            let refusal = self.suppressed.contains(mailbox.description) ? SMTPReply(550, "5.1.1", "<\(mailbox)> suppressed") : nil
            self.perform(self.machine.recipientChecked(refusal: refusal))
        case .startData(let reply):
            self.replies.append(reply)
            self.content = []
        case .enqueue(let transaction):
            self.messages.append((transaction, self.content))
            self.perform(self.machine.messageQueued(.queued("Q\(self.messages.count)")))
        }
        self.framer.mode = self.machine.framerMode
    }
}
