extension DNSError {
    /// The kind of a ``DNSError``. A struct over a private enum, so kinds can be added
    /// without breaking callers' `switch` statements; compare with `==`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Kind: Sendable, Hashable {
            case nameDoesNotExist
            case noData
            case serverFailure
            case timeout
            case malformedResponse
            case nullMX
            case noExchangerAddresses
            case invalidName
            case invalidServerAddress
            case shutDown
        }

        private let kind: Kind

        private init(_ kind: Kind) { self.kind = kind }

        /// NXDOMAIN (RCODE 3, RFC 1035 §4.1.1): the name does not exist. Permanent.
        public static let nameDoesNotExist = Code(.nameDoesNotExist)
        /// NOERROR with no records of the type asked (RFC 2308 §2.2 "NODATA"). Permanent.
        public static let noData = Code(.noData)
        /// SERVFAIL, REFUSED or another failure RCODE from every server. Temporary.
        public static let serverFailure = Code(.serverFailure)
        /// No server answered within the configured attempts. Temporary.
        public static let timeout = Code(.timeout)
        /// A reply that does not parse (truncated, bad pointers, bad lengths). Temporary.
        public static let malformedResponse = Code(.malformedResponse)
        /// The domain publishes a null MX (RFC 7505 §3): it accepts no mail. Permanent.
        public static let nullMX = Code(.nullMX)
        /// The domain has MX records but none of their hosts has an address. Permanent.
        public static let noExchangerAddresses = Code(.noExchangerAddresses)
        /// The name given is not a valid DNS name (label over 63 octets, name over 253,
        /// empty label, non-ASCII: IDNs must be passed as A-labels). Permanent.
        public static let invalidName = Code(.invalidName)
        /// A server address in the configuration does not parse.
        public static let invalidServerAddress = Code(.invalidServerAddress)
        /// The resolver was shut down. Temporary.
        public static let shutDown = Code(.shutDown)

        /// Whether an error of this kind is a fact about the destination.
        public var isPermanent: Bool {
            switch self.kind {
            case .nameDoesNotExist, .noData, .nullMX, .noExchangerAddresses, .invalidName:
                return true
            case .serverFailure, .timeout, .malformedResponse, .invalidServerAddress, .shutDown:
                return false
            }
        }

        public var description: String {
            switch self.kind {
            case .nameDoesNotExist: return "nameDoesNotExist"
            case .noData: return "noData"
            case .serverFailure: return "serverFailure"
            case .timeout: return "timeout"
            case .malformedResponse: return "malformedResponse"
            case .nullMX: return "nullMX"
            case .noExchangerAddresses: return "noExchangerAddresses"
            case .invalidName: return "invalidName"
            case .invalidServerAddress: return "invalidServerAddress"
            case .shutDown: return "shutDown"
            }
        }
    }
}
