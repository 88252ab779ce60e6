import HummingbirdCore
import Ingest
import Logging
import NIOCore
import NIOSSL
import RelayCore

/// The API's connections: HTTPS with the ingest certificate as it is now (``ServerTLS``
/// reloads it on renewal, so each new connection gets the current one), or plain HTTP
/// for clients in `api.plain_networks` only — anyone else is disconnected before a byte
/// of the request is read, so an API key never crosses an untrusted network in clear.
struct GuardedHTTPChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    /// nil: plain HTTP.
    let tls: ServerTLS?
    /// For plain HTTP: the networks allowed (nil: anyone, as for HTTPS).
    let plainNetworks: [IPNetwork]?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        if let plainNetworks {
            let ip = channel.remoteAddress?.ipAddress ?? ""
            guard plainNetworks.contains(where: { $0.contains(ip) }) else {
                logger.notice("plain-HTTP connection refused: \(ip) is not in api.plain_networks (use HTTPS)")
                channel.close(promise: nil)
                return channel.eventLoop.makeFailedFuture(RefusedConnection())
            }
        }
        guard let tls else { return base.setup(channel: channel, logger: logger) }
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.context))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }

    struct RefusedConnection: Error {}
}
