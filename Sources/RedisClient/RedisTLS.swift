import NIOCore
import NIOSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// TLS for connections to Redis and to its Sentinels (`rediss://`): the server's
/// certificate is verified against a CA file (or the system's trust store), and must name
/// the server (RFC 6125, as NIOSSL checks it): ``serverName`` or the URL's host name as a
/// DNS `subjectAltName`, or the address connected to as an IP `subjectAltName`. A client
/// certificate is sent when the server asks for one (`tls-auth-clients yes`).
///
/// Every file is read once, here: a missing or unreadable file stops the start instead of
/// failing each connection later.
public struct RedisTLS: Sendable {
    /// The CA certificates (PEM) the server's certificate must chain to; `nil`: the system's.
    public let caFile: String?
    /// A client certificate chain (PEM) and its key, for servers that check clients.
    public let certificateFile: String?
    public let keyFile: String?
    /// The name the server's certificate must carry (and the SNI); `nil`: the URL's host.
    public let serverName: String?

    let context: NIOSSLContext

    /// - Throws: ``RedisError/Kind/invalidEndpoint`` naming the file that cannot be used.
    public init(
        caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, serverName: String? = nil
    )
        throws(RedisError)
    {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        if let caFile {
            let roots = try Self.load("CA file", caFile) { try NIOSSLCertificate.fromPEMFile($0) }
            guard !roots.isEmpty else { throw .invalidEndpoint("TLS CA file '\(caFile)' holds no PEM certificate") }
            configuration.trustRoots = .certificates(roots)
        }
        switch (certificateFile, keyFile) {
        case (nil, nil):
            break
        case (let certificateFile?, let keyFile?):
            let chain = try Self.load("client certificate file", certificateFile) { try NIOSSLCertificate.fromPEMFile($0) }
            guard !chain.isEmpty else {
                throw .invalidEndpoint("TLS client certificate file '\(certificateFile)' holds no PEM certificate")
            }
            configuration.certificateChain = chain.map { .certificate($0) }
            configuration.privateKey = .privateKey(
                try Self.load("client key file", keyFile) { try NIOSSLPrivateKey(file: $0, format: .pem) })
        default:
            throw .invalidEndpoint("a TLS client certificate needs both its certificate file and its key file")
        }
        if let serverName, serverName.isEmpty || serverName.utf8.count > 253 || serverName.contains(where: \.isWhitespace) {
            throw .invalidEndpoint("TLS server name '\(serverName)' is not a host name")
        }
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw .invalidEndpoint("cannot set up TLS: \(error)")
        }
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.serverName = serverName
    }

    /// The client handler for one connection to `host`: SNI and name check with
    /// ``serverName`` or a DNS-name `host`; for an IP-address `host`, NIOSSL checks the
    /// address connected to against the certificate's IP `subjectAltName` entries.
    func makeHandler(host: String) throws -> NIOSSLClientHandler {
        let name = serverName ?? host
        let isAddress = (try? SocketAddress(ipAddress: name, port: 0)) != nil
        return try NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : name)
    }

    private static func load<T>(_ what: String, _ path: String, _ body: (String) throws -> T) throws(RedisError) -> T {
        // Checked first, so the error says "cannot read" rather than an OpenSSL code.
        guard let file = fopen(path, "r") else {
            throw .invalidEndpoint("TLS \(what) '\(path)' cannot be read (missing, or no permission)")
        }
        fclose(file)
        do {
            return try body(path)
        } catch {
            throw .invalidEndpoint("TLS \(what) '\(path)' is not valid PEM (\(error))")
        }
    }
}
