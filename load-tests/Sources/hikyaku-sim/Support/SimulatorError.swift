/// A failure of the running simulator (as opposed to a bad scenario, ``ScenarioError``).
struct SimulatorError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case recordFile
        case listen
        case tls
    }

    private let code: Code
    let description: String

    private init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    /// The record file cannot be opened or written.
    static func recordFile(_ path: String, _ reason: String) -> SimulatorError {
        SimulatorError(.recordFile, "record file \(path): \(reason)")
    }

    /// A site address cannot be listened on.
    static func listen(_ address: String, port: Int, _ reason: String) -> SimulatorError {
        SimulatorError(.listen, "cannot listen on \(address):\(port): \(reason)")
    }

    /// The STARTTLS certificate cannot be made or loaded.
    static func tls(_ reason: String) -> SimulatorError {
        SimulatorError(.tls, "STARTTLS: \(reason)")
    }

    /// Whether this is a failure to listen (a port taken, an address not on this host).
    var isListenFailure: Bool {
        self.code == .listen
    }
}
