import NIOCore
import SMTPProtocol
import Testing

extension SMTPServerAction {
    /// The reply this action writes, if any.
    var reply: SMTPReply? {
        switch self {
        case .reply(let reply), .replyAndClose(let reply), .startTLS(let reply), .startData(let reply): reply
        case .checkCredentials, .checkRecipient, .enqueue: nil
        }
    }

    var closes: Bool {
        if case .replyAndClose = self { return true }
        return false
    }
}

/// The expected outcome of one scripted event.
enum Expect: Equatable, CustomStringConvertible {
    /// A reply with this code (and enhanced code, when given), connection kept.
    case reply(Int, String? = nil)
    /// A reply with this code, then close.
    case close(Int, String? = nil)
    case startTLS
    case startData
    case checkCredentials(username: String, password: String, mechanism: String)
    case enqueue

    var description: String {
        switch self {
        case .reply(let code, let enhanced): "reply \(code) \(enhanced ?? "")"
        case .close(let code, let enhanced): "close \(code) \(enhanced ?? "")"
        case .startTLS: "startTLS"
        case .startData: "startData"
        case .checkCredentials(let username, let password, let mechanism): "checkCredentials \(mechanism) \(username) \(password)"
        case .enqueue: "enqueue"
        }
    }

    func matches(_ action: SMTPServerAction) -> Bool {
        switch (self, action) {
        case (.reply(let code, let enhanced), .reply(let reply)), (.close(let code, let enhanced), .replyAndClose(let reply)):
            return reply.code == code && (enhanced == nil || reply.enhancedStatus?.description == enhanced)
        case (.startTLS, .startTLS(let reply)):
            return reply == .readyToStartTLS
        case (.startData, .startData(let reply)):
            return reply == .startMailInput
        case (.checkCredentials(let u, let p, let m), .checkCredentials(let username, let password, let mechanism)):
            return u == username && p == password && m == mechanism
        case (.enqueue, .enqueue):
            return true
        default:
            return false
        }
    }
}

/// Drives an ``SMTPServerStateMachine`` with command lines and checks each action.
struct ServerScript {
    var machine: SMTPServerStateMachine
    private(set) var lastAction: SMTPServerAction?

    init(_ configuration: SMTPServerConfiguration, isTLS: Bool = false) {
        self.machine = SMTPServerStateMachine(configuration: configuration, isTLS: isTLS)
    }

    /// Sends one line and returns the action.
    @discardableResult
    mutating func send(_ line: String) -> SMTPServerAction {
        let action = self.machine.receiveLine(ByteBuffer(string: line))
        self.lastAction = action
        return action
    }

    /// Sends each line and expects the given outcome.
    mutating func run(_ steps: [(String, Expect)], sourceLocation: SourceLocation = #_sourceLocation) {
        for (line, expected) in steps {
            let action = self.send(line)
            #expect(
                expected.matches(action), "\(line.debugDescription): expected \(expected), got \(action)", sourceLocation: sourceLocation)
        }
    }

    /// Checks the outcome of an event other than a line.
    func check(_ action: SMTPServerAction, _ expected: Expect, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(expected.matches(action), "expected \(expected), got \(action)", sourceLocation: sourceLocation)
    }
}

enum Configs {
    /// A relay listener (port 25) for an allow-listed client.
    static func allowListed(_ change: (inout SMTPServerConfiguration) -> Void = { _ in }) -> SMTPServerConfiguration {
        var configuration = SMTPServerConfiguration(hostname: "relay.example.net", maxMessageSize: 1000, clientIsAllowListed: true)
        change(&configuration)
        return configuration
    }

    /// A relay listener for a client that is not allow-listed.
    static func stranger(_ change: (inout SMTPServerConfiguration) -> Void = { _ in }) -> SMTPServerConfiguration {
        allowListed {
            $0.clientIsAllowListed = false
            change(&$0)
        }
    }

    /// A submission listener (587) with STARTTLS and AUTH PLAIN/LOGIN.
    static func submission(_ change: (inout SMTPServerConfiguration) -> Void = { _ in }) -> SMTPServerConfiguration {
        var configuration = SMTPServerConfiguration(
            hostname: "submit.example.net", maxMessageSize: 1000, startTLSAvailable: true,
            authMechanisms: ["PLAIN", "LOGIN"], refusalWhenNotPermitted: .authenticationRequired)
        change(&configuration)
        return configuration
    }
}

/// base64 of `text`.
func b64(_ text: String) -> String {
    SMTPBase64.encode(text)
}
