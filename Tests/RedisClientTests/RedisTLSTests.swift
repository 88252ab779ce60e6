import Foundation
import HikyakuTestSupport
import NIOCore
import RedisClient
import Testing

/// `rediss://` against a real redis-server with `--tls-port`, its certificate signed by a
/// CA made with openssl for the test.
@Suite(.serialized) struct RedisTLSTests {
    /// A CA, a server certificate for `redis.test` and 127.0.0.1, a client certificate,
    /// and an unrelated CA, in a temporary directory.
    final class Certificates: @unchecked Sendable {
        let directory: URL
        var ca: String { path("ca.pem") }
        var otherCA: String { path("other-ca.pem") }
        var serverCertificate: String { path("server.pem") }
        var serverKey: String { path("server-key.pem") }
        var clientCertificate: String { path("client.pem") }
        var clientKey: String { path("client-key.pem") }

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-tls-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for name in ["ca", "other-ca"] {
                try openssl(
                    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", path("\(name)-key.pem"), "-out", path("\(name).pem"), "-days", "2", "-subj", "/CN=\(name)",
                    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
            }
            for (name, san) in [("server", "DNS:redis.test,IP:127.0.0.1"), ("client", "DNS:client.test")] {
                try "subjectAltName=\(san)\n".write(toFile: path("\(name).ext"), atomically: true, encoding: .utf8)
                try openssl(
                    "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", path("\(name)-key.pem"), "-out", path("\(name).csr"), "-subj", "/CN=\(name)")
                try openssl(
                    "x509", "-req", "-in", path("\(name).csr"), "-CA", path("ca.pem"), "-CAkey", path("ca-key.pem"),
                    "-CAcreateserial", "-out", path("\(name).pem"), "-days", "2", "-extfile", path("\(name).ext"))
            }
        }

        deinit { try? FileManager.default.removeItem(at: directory) }

        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

        private func openssl(_ arguments: String...) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw RedisError.connectionFailed("openssl \(arguments) failed") }
        }
    }

    /// A server with a plain port (for the harness's readiness check) and a TLS port.
    static func server(_ certificates: Certificates, authClients: String = "no") async throws -> (RedisServerProcess, Int) {
        let tlsPort = try RedisServerProcess.freeLoopbackPort()
        let server = try await RedisServerProcess.start(extraArguments: [
            "--tls-port", String(tlsPort), "--tls-cert-file", certificates.serverCertificate,
            "--tls-key-file", certificates.serverKey, "--tls-ca-cert-file", certificates.ca, "--tls-auth-clients", authClients,
            "--requirepass", "tls-secret", "--bind", "127.0.0.1 127.0.0.2",
        ])
        return (server, tlsPort)
    }

    static func connect(port: Int, host: String = "127.0.0.1", tls: RedisTLS) async throws -> RedisConnection {
        try await RedisConnection.connect(
            to: RedisEndpoint(url: "rediss://:tls-secret@\(host):\(port)"), tls: tls,
            eventLoop: TestSupport.group.next(), logger: .quiet)
    }

    @Test func talksOverTLSWithTheServerCheckedAgainstTheCAFile() async throws {
        let certificates = try Certificates()
        let (server, port) = try await Self.server(certificates)
        defer { server.stop() }

        // The IP address is checked against the certificate's IP subjectAltName.
        let connection = try await Self.connect(port: port, tls: RedisTLS(caFile: certificates.ca))
        #expect(try await connection.send(RedisCommand("SET", "k", "over tls")) == .simpleString("OK"))
        #expect(try await connection.send(RedisCommand("GET", "k")).string == "over tls")
        await connection.close()

        // A server name instead: checked against the DNS subjectAltName.
        let named = try await Self.connect(port: port, tls: RedisTLS(caFile: certificates.ca, serverName: "redis.test"))
        #expect(try await named.send(RedisCommand("PING")) == .simpleString("PONG"))
        await named.close()

        // The pooled client too.
        var configuration = RedisClient.Configuration(endpoint: try RedisEndpoint(url: "rediss://:tls-secret@127.0.0.1:\(port)"))
        configuration.tls = try RedisTLS(caFile: certificates.ca)
        let client = RedisClient(configuration: configuration, eventLoopGroup: TestSupport.group, logger: .quiet)
        #expect(try await client.send(RedisCommand("GET", "k")).string == "over tls")
        await client.shutdown()
    }

    @Test func refusesAServerItCannotVerify() async throws {
        let certificates = try Certificates()
        let (server, port) = try await Self.server(certificates)
        defer { server.stop() }

        let wrongCA = await #expect(throws: RedisError.self) {
            try await Self.connect(port: port, tls: RedisTLS(caFile: certificates.otherCA))
        }
        #expect(wrongCA?.kind == .connectionFailed)
        #expect(wrongCA?.description.contains("TLS handshake") == true, "\(String(describing: wrongCA))")
        #expect(wrongCA?.description.contains("tls-secret") == false)

        // The certificate names redis.test and 127.0.0.1; at 127.0.0.2 only the name can match.
        let wrongName = await #expect(throws: RedisError.self) {
            try await Self.connect(port: port, host: "127.0.0.2", tls: RedisTLS(caFile: certificates.ca, serverName: "other.test"))
        }
        #expect(wrongName?.description.contains("TLS handshake") == true, "\(String(describing: wrongName))")
        let wrongAddress = await #expect(throws: RedisError.self) {
            try await Self.connect(port: port, host: "127.0.0.2", tls: RedisTLS(caFile: certificates.ca))
        }
        #expect(wrongAddress?.description.contains("TLS handshake") == true, "\(String(describing: wrongAddress))")
        let rightName = try await Self.connect(
            port: port, host: "127.0.0.2", tls: RedisTLS(caFile: certificates.ca, serverName: "redis.test"))
        #expect(try await rightName.send(RedisCommand("PING")) == .simpleString("PONG"))
        await rightName.close()

        // TLS to the clear-text port: a TLS failure, not a hang.
        let plain = await #expect(throws: RedisError.self) {
            try await Self.connect(port: server.port, tls: RedisTLS(caFile: certificates.ca))
        }
        #expect(plain?.kind == .connectionFailed)

        // rediss:// without TLS settings is refused before anything is sent.
        let none = await #expect(throws: RedisError.self) {
            try await RedisConnection.connect(
                to: RedisEndpoint(url: "rediss://127.0.0.1:\(port)"),
                eventLoop: TestSupport.group.next(), logger: .quiet)
        }
        #expect(none?.description.contains("needs TLS settings") == true)
    }

    @Test func sendsTheClientCertificateWhenTheServerAsksForOne() async throws {
        let certificates = try Certificates()
        let (server, port) = try await Self.server(certificates, authClients: "yes")
        defer { server.stop() }

        await #expect(throws: RedisError.self) {
            let connection = try await Self.connect(port: port, tls: RedisTLS(caFile: certificates.ca))
            // TLS 1.3: the server may refuse the missing certificate only after the handshake.
            _ = try await connection.send(RedisCommand("PING"))
        }
        let connection = try await Self.connect(
            port: port,
            tls: RedisTLS(caFile: certificates.ca, certificateFile: certificates.clientCertificate, keyFile: certificates.clientKey))
        #expect(try await connection.send(RedisCommand("PING")) == .simpleString("PONG"))
        await connection.close()
    }

    @Test func missingOrUnreadableFilesAreRefusedUpFront() throws {
        let missing = #expect(throws: RedisError.self) { try RedisTLS(caFile: "/nonexistent/ca.pem") }
        #expect(missing?.description.contains("'/nonexistent/ca.pem' cannot be read") == true, "\(String(describing: missing))")
        let certificates = try Certificates()
        let halfPair = #expect(throws: RedisError.self) {
            try RedisTLS(caFile: certificates.ca, certificateFile: certificates.clientCertificate)
        }
        #expect(halfPair?.description.contains("both") == true)
        let notPEM = #expect(throws: RedisError.self) { try RedisTLS(caFile: certificates.path("server.ext")) }
        #expect(notPEM?.kind == .invalidEndpoint)
    }
}
