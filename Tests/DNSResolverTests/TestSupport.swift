import Foundation
import Logging
import NIOCore
import NIOPosix

@testable import DNSResolver

/// Shared fixtures for the resolver tests.
enum TestSupport {
    static let logger: Logger = {
        var logger = Logger(label: "DNSResolverTests")
        // DNS_TEST_LOG=trace shows every query on standard error.
        logger.logLevel = ProcessInfo.processInfo.environment["DNS_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }()

    static func configuration(port: Int, timeout: Duration = .seconds(2), attempts: Int = 1) throws -> DNSResolverConfiguration {
        var configuration = DNSResolverConfiguration(servers: [try SocketAddress(ipAddress: "127.0.0.1", port: port)])
        configuration.timeout = timeout
        configuration.attempts = attempts
        return configuration
    }

    static func resolver(_ configuration: DNSResolverConfiguration) -> DNSResolver {
        DNSResolver(configuration: configuration, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: Self.logger)
    }

    static func ipv4(_ text: String) throws -> SocketAddress {
        try SocketAddress(ipAddress: text, port: 0)
    }

    /// Runs `body` and returns the DNSError it throws, or nil.
    static func dnsError(_ body: () async throws -> some Any) async -> DNSError? {
        do {
            _ = try await body()
            return nil
        } catch let error as DNSError {
            return error
        } catch {
            return nil
        }
    }
}
