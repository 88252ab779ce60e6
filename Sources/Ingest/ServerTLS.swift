import Logging
import NIOSSL
import RelayCore
import ServiceLifecycle
import Synchronization
import UnixSignals

#if canImport(Glibc)
import Glibc
#endif

/// The listeners' TLS context, reloadable without a restart: new connections (STARTTLS
/// and implicit TLS) use the context loaded last; connections already in TLS keep theirs.
/// `Reloader` reloads when the certificate or key file changes (checked every
/// `ingest.tls.reload_interval`) or on SIGHUP — so a renewed certificate (certbot's
/// deploy hook) is picked up. A file that does not load keeps the previous context.
public final class ServerTLS: Sendable {
    public let settings: TLSSettings
    private let state: Mutex<(context: NIOSSLContext, stamp: [FileStamp])>

    struct FileStamp: Equatable {
        var modified: Int64
        var size: Int64
        var inode: UInt64
    }

    /// Loads the files now; throws (naming the file) if they do not load.
    public init(settings: TLSSettings) throws {
        self.settings = settings
        let stamp = Self.stamps(settings)
        self.state = Mutex((try TLSContextFactory.serverContext(settings), stamp))
    }

    public var context: NIOSSLContext { state.withLock { $0.context } }

    /// Reloads if either file changed (or `force`). Returns true when a new context is in use.
    @discardableResult
    public func reload(force: Bool = false) throws -> Bool {
        let stamp = Self.stamps(settings)
        guard force || stamp != state.withLock({ $0.stamp }) else { return false }
        let context = try TLSContextFactory.serverContext(settings)
        state.withLock { $0 = (context, stamp) }
        return true
    }

    static func stamps(_ settings: TLSSettings) -> [FileStamp] {
        [settings.certificate, settings.privateKey].map { path in
            var info = stat()
            guard stat(path, &info) == 0 else { return FileStamp(modified: -1, size: -1, inode: 0) }
            return FileStamp(
                modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
                size: Int64(info.st_size), inode: UInt64(info.st_ino))
        }
    }

    /// Watches the certificate files and SIGHUP.
    public struct Reloader: Service, CustomStringConvertible {
        let tls: ServerTLS
        let interval: Duration
        let logger: Logger

        public var description: String { "ServerTLS.Reloader(\(tls.settings.certificate), every \(interval))" }

        public init(tls: ServerTLS, interval: Duration, logger: Logger) {
            self.tls = tls
            self.interval = interval
            self.logger = logger
        }

        public func run() async throws {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
                        self.reload(force: true, why: "SIGHUP")
                    }
                }
                group.addTask {
                    while !Task.isShuttingDownGracefully && !Task.isCancelled {
                        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
                        if Task.isShuttingDownGracefully { break }
                        self.reload(force: false, why: "the certificate or key file changed")
                    }
                }
            }
        }

        private func reload(force: Bool, why: String) {
            do {
                if try tls.reload(force: force) {
                    logger.notice("reloaded TLS certificate \(tls.settings.certificate) (\(why)); new connections use it")
                }
            } catch {
                logger.error("cannot reload TLS certificate (\(error)); keeping the one loaded before")
            }
        }
    }
}
