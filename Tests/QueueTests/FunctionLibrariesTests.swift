import HikyakuTestSupport
import Logging
import NIOPosix
import Queue
import RedisClient
import Testing

/// Who loads the Redis functions (issue 10, item 2): the admin user (or the all-powerful
/// default user) loads what is missing or differs; a relay role's ACL user may not, and
/// says what to do.
@Suite(.serialized)
struct FunctionLibrariesTests {
    static func connect(_ server: RedisServerProcess, user: String? = nil) async throws -> RedisConnection {
        var endpoint = try RedisEndpoint(url: server.url)
        if let user {
            endpoint.username = user
            endpoint.password = "\(user)-password-0123456789"
        }
        return try await RedisConnection.connect(
            to: endpoint, eventLoop: MultiThreadedEventLoopGroup.singleton.next(),
            logger: Logger(label: "test"))
    }

    @Test func onlyAUserAllowedToLoadFunctionsLoadsThemAndTheOthersSaySo() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let root = try await Self.connect(server)
        let acl = RedisACL()
        for role in [RedisACL.worker, RedisACL.admin] {
            let words = acl.line(role, password: "\(RedisACL.userName(role))-password-0123456789").split(separator: " ").dropFirst()
            _ = try await root.send(RedisCommand("ACL", ["SETUSER"] + words.map { .string(String($0)) }))
        }

        let worker = try await Self.connect(server, user: "hikyaku-worker")
        let refused = await #expect(throws: QueueError.self) { try await FunctionLibraries.ensureLoaded(on: worker) }
        #expect(refused?.description.contains("hikyaku redis load-functions") == true, "\(String(describing: refused))")

        let admin = try await Self.connect(server, user: "hikyaku-admin")
        #expect(try await FunctionLibraries.ensureLoaded(on: admin) == FunctionLibraries.all.map(\.name))
        #expect(try await FunctionLibraries.ensureLoaded(on: admin) == [], "loaded code is compared, not reloaded")
        #expect(try await FunctionLibraries.ensureLoaded(on: worker) == [], "the worker finds them loaded")

        // An older version's library is replaced by a user who may.
        _ = try await root.send(
            RedisCommand("FUNCTION", ["LOAD", "REPLACE", "#!lua name=hikyaku\nredis.register_function('hk_old', function() return 1 end)"]))
        await #expect(throws: QueueError.self) { try await FunctionLibraries.ensureLoaded(on: worker) }
        #expect(try await FunctionLibraries.ensureLoaded(on: root) == ["hikyaku"])
        for connection in [root, worker, admin] { await connection.close() }
    }
}
