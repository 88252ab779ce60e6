import Logging
import ServiceLifecycle
import UnixSignals

/// Keeps SIGHUP from stopping the relay. The default action of SIGHUP terminates a process,
/// and `systemctl reload` sends it (`ExecReload=/bin/kill -HUP $MAINPID`): without a handler,
/// reloading a delivery worker (or an ingest node without `ingest.tls`) would kill it on the
/// spot, mid-batch, and systemd counts SIGHUP as a clean exit, so it would not restart it.
/// Where `ingest.tls` is set, `ServerTLS.Reloader` handles SIGHUP (it reloads the
/// certificate); everywhere else this service traps it and says there is nothing to reload.
struct HangupListener: Service, CustomStringConvertible {
    let logger: Logger

    var description: String { "HangupListener" }

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            logger.notice(
                "SIGHUP: nothing to reload in this process (only TLS certificates are reloaded, on ingest nodes with ingest.tls); other configuration changes need a restart"
            )
        }
    }
}
