import Queue

/// Destination domains as the queue keys them (`MessageQueue.domain(of:)`): lower-case,
/// without a trailing dot.
enum DestinationName {
    static func normalized(_ domain: String) -> String {
        MessageQueue.domain(of: "x@" + domain)
    }
}
