import RelayCore

/// How `hikyaku bounce` and `hikyaku purge` end a destination's queued recipients: each
/// gets one final event with this reply.
public enum OperatorRemoval: Sendable, Hashable {
    /// `bounced`, reply `550 5.0.0 <reason>` (default `Bounced by operator`): the sender
    /// sees a permanent failure, as for a remote `5xx`.
    case bounce(reason: String?)
    /// `purged`, reply `purged by operator: <reason>`: removed without a delivery verdict.
    case purge(reason: String?)

    public var eventKind: DeliveryEvent.Kind {
        switch self {
        case .bounce: return .bounced
        case .purge: return .purged
        }
    }

    /// The `reply` of every event written.
    public var reply: String {
        switch self {
        case .bounce(let reason):
            return "550 5.0.0 " + (Self.clean(reason) ?? "Bounced by operator")
        case .purge(let reason):
            return Self.clean(reason).map { "purged by operator: \($0)" } ?? "purged by operator"
        }
    }

    /// One line, no surrounding spaces; nil when empty.
    private static func clean(_ reason: String?) -> String? {
        guard let reason else { return nil }
        var line = Substring(reason.split(whereSeparator: \.isNewline).joined(separator: " "))
        while line.first?.isWhitespace == true { line.removeFirst() }
        while line.last?.isWhitespace == true { line.removeLast() }
        return line.isEmpty ? nil : String(line)
    }
}
