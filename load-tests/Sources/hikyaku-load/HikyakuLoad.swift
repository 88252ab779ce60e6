import ArgumentParser
import NIOCore
import NIOPosix
import SMTPClient
import SMTPProtocol

#if canImport(Glibc)
import Glibc
#endif

/// The load generator: many SMTP sessions submitting numbered messages to a relay, at a
/// fixed rate or flat out, recording when each was submitted and accepted.
@main
struct HikyakuLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hikyaku-load",
        abstract: "Submit numbered test messages to an SMTP relay and record when each was accepted.",
        discussion: """
            Opens --connections SMTP sessions (reused for --per-connection messages each, with \
            PIPELINING when offered) and submits --messages messages of --size octets, spread \
            over the recipient domains of --mix. Each message carries `X-Loadtest-Seq: N` and \
            `Message-ID: <N.RUN@hikyaku-load>` so a receiver can match arrivals. With --record, \
            one JSON line per message: seq, recipient, submitted_us, accepted_us, code, queue_id \
            (code 0: the connection was lost before the final reply). --server may list several \
            relays (host:port,host:port): sessions are spread over them, and a session whose \
            relay fails moves on to the next one, as an MTA with several smarthosts does.

            With --http URL and --api-key KEY the same messages go to the relay's HTTP API \
            instead: --connections keep-alive HTTP/1.1 connections, one request in flight on each, \
            `POST /v1/messages` with one message per request, or with --batch N \
            `POST /v1/messages/batch` with N personalizations (one message each) per request; \
            --per-connection then counts requests. Records have code 250 and the relay's id as \
            queue_id for a queued message, else the HTTP status, plus http_status and error.
            """)

    @Option(help: "The relay's SMTP address, host:port; or several, comma-separated.")
    var server: String = "127.0.0.1:2525"

    @Option(help: "The relay's HTTP API, http://host:port: submit through it instead of SMTP.")
    var http: String?

    @Option(name: .customLong("api-key"), help: "The API key (hk_…) for --http.")
    var apiKey: String?

    @Option(help: "With --http: messages per POST /v1/messages/batch request; 0 sends each alone to /v1/messages.")
    var batch: Int = 0

    @Option(help: "Parallel SMTP sessions (or HTTP connections).")
    var connections: Int = 20

    @Option(help: "Messages in total.")
    var messages: Int = 1000

    @Option(help: "Message size in octets (headers included, approximately).")
    var size: Int = 1024

    @Option(help: "Messages per second in total; 0 means as fast as the relay accepts.")
    var rate: Double = 0

    @Option(name: .customLong("per-connection"), help: "Messages per session before it is closed and reopened.")
    var perConnection: Int = 100

    @Option(help: "Recipient domains with weights, e.g. gmail.sim=40,docomo.sim=20,a.sim=40.")
    var mix: String = "example.test=1"

    @Option(help: "Distinct local parts per domain (user0 … userN-1).")
    var users: Int = 1000

    @Option(name: .customLong("from"), help: "Envelope sender.")
    var sender: String = "loadtest@hikyaku-load.test"

    @Option(help: "A name for this run, in each Message-ID.")
    var run: String = "run"

    @Option(help: "Write one JSON line per message to this file.")
    var record: String?

    @Flag(help: "Print a progress line every second.")
    var progress = false

    func run() async throws {
        if let http {
            try await runHTTP(http)
            return
        }
        let addresses = try server.split(separator: ",").map { text in
            guard let (host, port) = Self.hostPort(String(text)) else { throw ValidationError("--server must be host:port[,host:port…]") }
            return try SocketAddress(ipAddress: host, port: port)
        }
        guard !addresses.isEmpty else { throw ValidationError("--server must be host:port[,host:port…]") }
        let domains = try DomainMix(parsing: mix)
        let factory = MessageFactory(size: size, sender: sender, run: run, domains: domains, users: users)
        let recorder = try record.map { try Recorder(path: $0) }
        let pacer = Pacer(rate: rate)
        let counters = Counters(total: messages)
        let group = MultiThreadedEventLoopGroup.singleton
        let started = Clock.micros()
        let reporter = progress ? Task { await counters.reportEverySecond(started: started) } : nil

        await withTaskGroup(of: Void.self) { tasks in
            for index in 0..<max(1, connections) {
                tasks.addTask {
                    await SubmitSession(
                        addresses: addresses, first: index % addresses.count, group: group, factory: factory, pacer: pacer,
                        counters: counters,
                        recorder: recorder, perConnection: perConnection
                    ).run()
                }
            }
        }
        try await finish(counters: counters, recorder: recorder, reporter: reporter, started: started, mode: "smtp")
    }

    func runHTTP(_ url: String) async throws {
        guard let apiKey, !apiKey.isEmpty else { throw ValidationError("--http needs --api-key") }
        guard batch >= 0 else { throw ValidationError("--batch must be 0 or more") }
        guard url.hasPrefix("http://"), let (host, port) = Self.hostPort(String(url.dropFirst(7).prefix { $0 != "/" })) else {
            throw ValidationError("--http must be http://host:port (plain HTTP: the relay's api.plain_listen)")
        }
        let address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        let factory = MessageFactory(size: size, sender: sender, run: run, domains: try DomainMix(parsing: mix), users: users)
        let text = factory.jsonText
        let recorder = try record.map { try Recorder(path: $0) }
        let pacer = Pacer(rate: rate)
        let counters = Counters(total: messages)
        let group = MultiThreadedEventLoopGroup.singleton
        let started = Clock.micros()
        let reporter = progress ? Task { await counters.reportEverySecond(started: started) } : nil
        let hostHeader = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        await withTaskGroup(of: Void.self) { tasks in
            for _ in 0..<max(1, connections) {
                tasks.addTask {
                    await HTTPSubmitSession(
                        address: address, hostHeader: hostHeader, apiKey: apiKey, batch: batch, group: group, factory: factory,
                        text: text, pacer: pacer, counters: counters, recorder: recorder, perConnection: perConnection
                    ).run()
                }
            }
        }
        try await finish(
            counters: counters, recorder: recorder, reporter: reporter, started: started, mode: batch > 0 ? "http-batch" : "http")
    }

    /// Prints the JSON summary line; exits 1 when nothing was accepted.
    private func finish(counters: Counters, recorder: Recorder?, reporter: Task<Void, Never>?, started: Int64, mode: String) async throws {
        reporter?.cancel()
        let elapsed = Double(Clock.micros() - started) / 1_000_000
        try recorder?.close()
        print(await counters.summary(elapsed: elapsed, mode: mode))
        if await counters.accepted == 0 { throw ExitCode(1) }
    }

    static func hostPort(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else { return nil }
        return (String(text[..<colon]).trimmingCharacters(in: "[]"), port)
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}

enum Clock {
    static func micros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }
}
