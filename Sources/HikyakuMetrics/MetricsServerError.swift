/// Why a ``MetricsServer`` could not start.
///
/// A struct wrapping a private code enum, so new cases can be added without breaking
/// callers. Every error names the configured address.
public struct MetricsServerError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case invalidAddress
        case cannotBind(reason: String)
    }

    private let code: Code

    /// The address as configured (`host:port`).
    public let address: String

    private init(_ code: Code, address: String) {
        self.code = code
        self.address = address
    }

    /// The address is not `host:port` (IPv6 literals in brackets) with a port in 0…65535.
    static func invalidAddress(_ address: String) -> MetricsServerError {
        MetricsServerError(.invalidAddress, address: address)
    }

    /// Binding the listening socket failed (address in use, not a local address, …).
    static func cannotBind(_ address: String, reason: String) -> MetricsServerError {
        MetricsServerError(.cannotBind(reason: reason), address: address)
    }

    /// Whether the address could not be parsed (as opposed to not bound).
    public var isInvalidAddress: Bool {
        code == .invalidAddress
    }

    public var description: String {
        switch code {
        case .invalidAddress:
            "metrics server: '\(address)' is not host:port"
        case .cannotBind(let reason):
            "metrics server cannot listen on \(address): \(reason)"
        }
    }
}
