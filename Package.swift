// swift-tools-version:6.1
//
// Hikyaku: a self-hosted, horizontally scalable outbound mail relay.
// Modules have one job each and depend one way (see README, "Architecture").
import PackageDescription

let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let nioSSL = Target.Dependency.product(name: "NIOSSL", package: "swift-nio-ssl")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let serviceLifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")

let package = Package(
    name: "Hikyaku",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hikyaku", targets: ["hikyaku"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // The HTTP API's server (no swift-configuration, no Foundation extras) and templates.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // The PostgreSQL log store's client.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // SMTP grammar, replies, framing and session state machines. No I/O.
        .target(name: "SMTPProtocol", dependencies: [nioCore]),
        // SMTP server glue on a NIO channel: framing, replies, STARTTLS with the injection
        // guard, timers, read back-pressure; hands frames to an `SMTPServerSession`.
        // Swift tasks whose jobs run on one NIO event loop (SE-0417 task executor).
        .target(name: "EventLoopExecution", dependencies: [nioCore]),
        .target(name: "SMTPServer", dependencies: ["SMTPProtocol", "EventLoopExecution", nioCore, nioSSL]),
        // C libraries from Debian: hiredis (RESP reader/formatter) and libxcrypt (crypt_r).
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CCrypt", providers: [.apt(["libcrypt-dev"])]),
        // SQLite 3 (the C API), for the log store.
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // OpenSSL 3's libcrypto (EVP keys, PEM, SHA-256, signatures) for DKIM.
        .systemLibrary(name: "COpenSSLCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // RESP on a NIO channel (TLS with NIOSSL for rediss://): pipelining, reconnect with backoff.
        .target(
            name: "RedisClient",
            dependencies: ["CHiredis", nioCore, nioPosix, nioSSL, .product(name: "NIOTLS", package: "swift-nio"), logging]),
        // Asynchronous DNS (MX, A, AAAA) over UDP/TCP to a configurable server.
        .target(name: "DNSResolver", dependencies: [nioCore, nioPosix, logging]),
        // DKIM (RFC 6376, RFC 8463): keys, DNS record text, relaxed/relaxed signing. Pure, no I/O.
        .target(name: "DKIM", dependencies: ["COpenSSLCrypto"]),
        // Secrets at rest: the key file, AES-256-GCM sealing, per-purpose HMAC keys (HKDF).
        .target(name: "Secrets", dependencies: ["COpenSSLCrypto"]),
        // A structured message (the HTTP send API's) to RFC 5322 bytes: MIME, RFC 2047 headers,
        // UTF-8 or ISO-2022-JP (glibc iconv). Pure, no dependencies.
        .target(name: "MessageComposer"),
        // Domain types and configuration shared by every role. No dependencies.
        .target(name: "RelayCore"),
        // Bounce classification: a failure reply's class and soft/hard from its enhanced status
        // code and wording, under shipped or operator rules. Pure, no I/O beyond reading a rules file.
        .target(name: "BounceClassification", dependencies: ["RelayCore"]),
        // Inbound bounces (RFC 3464 DSNs and older plain-text formats), complaints (RFC 5965
        // ARF) and auto-replies (RFC 3834) read from hostile bytes; RFC 3464 DSNs composed. Pure.
        .target(name: "BounceMessages", dependencies: ["RelayCore"]),
        // The Redis data model: enqueue, claim, complete, defer, events.
        .target(
            name: "Queue", dependencies: ["RedisClient", "RelayCore", "SMTPProtocol", nioCore, logging],
            // The function libraries are embedded by scripts/generate-lua.py (Generated/).
            exclude: ["Lua"]),
        // SMTP listeners, relay authorisation, AUTH, and the `MessageIntake` every submission takes.
        .target(
            name: "Ingest",
            dependencies: [
                "SMTPProtocol", "SMTPServer", "HikyakuMetrics", "Queue", "RelayCore", "CCrypt", "DKIM", "Secrets", "Unsubscribe", nioCore,
                nioPosix,
                nioSSL, logging, serviceLifecycle,
                .product(name: "UnixSignals", package: "swift-service-lifecycle"), .product(name: "Metrics", package: "swift-metrics"),
            ]),
        // Prometheus exposition of swift-metrics on a small HTTP endpoint (/metrics).
        .target(
            name: "HikyakuMetrics",
            dependencies: [
                "RelayCore", .product(name: "Metrics", package: "swift-metrics"), .product(name: "Prometheus", package: "swift-prometheus"),
                nioCore, nioPosix, .product(name: "NIOHTTP1", package: "swift-nio"), logging, serviceLifecycle,
            ]),
        // An SMTP client connection on NIO (async send/await replies, pipelining, STARTTLS).
        .target(name: "SMTPClient", dependencies: ["SMTPProtocol", nioCore, nioPosix, nioSSL]),
        // Outbound TLS policy: MTA-STS (RFC 8461: record, policy, HTTPS fetch, cache) and DANE
        // (RFC 7672: TLSA matching).
        .target(
            name: "OutboundTLS",
            dependencies: [
                "DNSResolver", "COpenSSLCrypto", nioCore, nioPosix, nioSSL,
                .product(name: "NIOHTTP1", package: "swift-nio"), logging,
            ]),
        // VERP return paths (`b-<token>@<return-path domain>`): the token's encoding and its
        // HMAC (key from Secrets), which ties a bounce to a queue id and recipient. Pure.
        .target(name: "ReturnPath", dependencies: ["RelayCore", "Secrets"]),
        // One-click unsubscribe (RFC 8058, RFC 2369): signed tokens naming account, recipient
        // and campaign (key from Secrets), and the `List-Unsubscribe` header fields. Pure.
        .target(name: "Unsubscribe", dependencies: ["RelayCore", "Secrets"]),
        // `/u/<token>` on a Hummingbird router (the console's and the HTTP API's): the
        // confirmation page and the one-click POST that records the suppression.
        .target(
            name: "UnsubscribeEndpoint",
            dependencies: [
                "Unsubscribe", "Queue", "RelayCore", "HikyakuMetrics", nioCore, logging,
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]),
        // Delivery workers: claim, resolve MX, deliver over SMTP, record outcomes.
        .target(
            name: "Delivery",
            dependencies: [
                "SMTPProtocol", "SMTPClient", "EventLoopExecution", "OutboundTLS", "Queue", "RelayCore", "DNSResolver",
                "BounceClassification", "BounceMessages", "ReturnPath", "Secrets",
                nioCore, nioSSL,
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"), logging, serviceLifecycle,
                .product(name: "Metrics", package: "swift-metrics"),
            ]),
        // `hikyaku domain check`: SPF, DKIM, DMARC, MX and FCrDNS of a sending domain, as pure
        // checks over fetched DNS answers, and the checker that fetches them.
        .target(name: "DomainCheck", dependencies: ["DNSResolver", "RelayCore"]),
        // The HTTP API (`/v1`): Hummingbird routes, API-key authentication, JSON requests,
        // batch templates (Mustache) and idempotency, through the same MessageIntake as SMTP.
        .target(
            name: "HTTPAPI",
            dependencies: [
                "Ingest", "Queue", "RelayCore", "SMTPProtocol", "MessageComposer", "DKIM", "Webhooks", "LogStore", "UnsubscribeEndpoint",
                "Campaigns", "CampaignRunner", nioCore, nioSSL, logging, serviceLifecycle,
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "Mustache", package: "swift-mustache"),
            ]),
        // Signed webhooks: the dispatcher (events → per-endpoint outboxes → signed POSTs with
        // retries), URL screening against SSRF, and the trimming of the events stream by acknowledgement.
        .target(
            name: "Webhooks",
            dependencies: [
                "Queue", "RelayCore", "RedisClient", "OutboundTLS", "COpenSSLCrypto", "HikyakuMetrics", nioCore, nioPosix, nioSSL, logging,
                serviceLifecycle, .product(name: "Metrics", package: "swift-metrics"),
            ]),
        // The bounce listener (`--role bounce`): the inbound MX of the return-path domains,
        // turning DSNs and ARF reports into asynchronous bounces, complaints and suppressions.
        .target(
            name: "BounceListener",
            dependencies: [
                "BounceClassification", "BounceMessages", "Queue", "RedisClient", "RelayCore", "ReturnPath", "SMTPProtocol",
                "SMTPServer", "Secrets", "Unsubscribe", "HikyakuMetrics", nioCore, nioPosix, logging, serviceLifecycle,
                .product(name: "Metrics", package: "swift-metrics"),
            ]),
        // The log store: delivery events and hourly counts in SQLite (schema, appends that a
        // replay cannot double, searches, statistics, retention, erasure). No Redis, no NIO.
        .target(name: "LogStore", dependencies: ["RelayCore", "CSQLite"]),
        // The log store in PostgreSQL (`logs.postgres_url`): the same tables and semantics on a
        // server any number of archivers and consoles share (PostgresNIO).
        .target(
            name: "PostgresLogStore",
            dependencies: [
                "LogStore", "RelayCore", .product(name: "PostgresNIO", package: "postgres-nio"), nioSSL, logging, serviceLifecycle,
            ]),
        // The archiver (`--role archiver`): the events stream, through consumer group
        // `archiver`, into the log store, one archiver at a time (a lease in Redis).
        .target(
            name: "Archiver",
            dependencies: [
                "LogStore", "Queue", "RedisClient", "RelayCore", "HikyakuMetrics", logging, serviceLifecycle,
                .product(name: "Metrics", package: "swift-metrics"),
            ]),
        // The web console (`--role console`): server-rendered pages (Mustache, ja/en) over the
        // log store, console users and operators, sessions and the audit log in Redis.
        .target(
            name: "Console",
            dependencies: [
                "Ingest", "LogStore", "Queue", "RelayCore", "Webhooks", "UnsubscribeEndpoint", "Campaigns", "CampaignRunner", nioCore,
                nioPosix, nioSSL, logging,
                serviceLifecycle,
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "Mustache", package: "swift-mustache"),
            ]),
        // Campaigns, pure: CSV lists (UTF-8 or CP932, streamed, bounded), the campaign model,
        // Mustache templates, the sending window and pacing, the content checks.
        .target(
            name: "Campaigns", dependencies: ["RelayCore", "SMTPProtocol", .product(name: "Mustache", package: "swift-mustache")]),
        // The campaign runner (`--role campaigns`): campaigns held by lease, fanned out through
        // the MessageIntake with at-most-once rows, paced by window, rate and site lookahead;
        // per-campaign statistics from the events stream.
        .target(
            name: "CampaignRunner",
            dependencies: [
                "Campaigns", "Queue", "Ingest", "Delivery", "DNSResolver", "MessageComposer", "RedisClient", "RelayCore", "SMTPProtocol",
                logging, serviceLifecycle,
            ]),
        // Configuration loading, the ServiceGroup for the chosen roles, and the operator
        // commands' work (accounts, domains, queue, secrets, Redis set-up, domain check).
        .target(
            name: "HikyakuApp",
            dependencies: [
                "Ingest", "Delivery", "HTTPAPI", "Queue", "RelayCore", "RedisClient", "HikyakuMetrics", "DNSResolver", "Secrets",
                "DKIM", "DomainCheck", "Webhooks", "BounceClassification", "BounceListener", "ReturnPath", "LogStore", "Archiver",
                "Console", "Campaigns", "CampaignRunner", "Unsubscribe", "UnsubscribeEndpoint", "PostgresLogStore",
                .product(name: "Prometheus", package: "swift-prometheus"), .product(name: "Yams", package: "Yams"),
                nioCore, nioPosix, logging, serviceLifecycle,
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]),
        // The one executable: command-line parsing and text output; the work is HikyakuApp's.
        .executableTarget(
            name: "hikyaku",
            dependencies: [
                "HikyakuApp", "RelayCore", "BounceClassification", "BounceMessages", "LogStore", "Campaigns", "CampaignRunner", logging,
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // posix_spawn with a clean signal state: the one launcher of child processes for
        // the test servers and the simulator's helpers (openssl, swaks).
        .target(name: "ProcessSpawn", path: "Tests/ProcessSpawn"),
        // Launchers for the real servers integration tests run against (redis-server, postgres).
        .target(name: "HikyakuTestSupport", dependencies: ["ProcessSpawn", "SMTPProtocol"], path: "Tests/TestSupport"),

        .testTarget(name: "SMTPProtocolTests", dependencies: ["SMTPProtocol", nioCore]),
        .testTarget(name: "RedisClientTests", dependencies: ["RedisClient", "HikyakuTestSupport", nioCore, nioPosix, logging]),
        .testTarget(name: "DNSResolverTests", dependencies: ["DNSResolver", "ProcessSpawn", nioCore, nioPosix, logging]),
        .testTarget(
            name: "QueueTests",
            dependencies: ["Queue", "RedisClient", "RelayCore", "SMTPProtocol", "HikyakuTestSupport", nioCore, nioPosix, logging]),
        .testTarget(name: "RelayCoreTests", dependencies: ["RelayCore"]),
        .testTarget(name: "LogStoreTests", dependencies: ["LogStore", "RelayCore"]),
        .testTarget(
            name: "PostgresLogStoreTests", dependencies: ["PostgresLogStore", "LogStore", "RelayCore", "HikyakuTestSupport", logging]),
        .testTarget(name: "BounceClassificationTests", dependencies: ["BounceClassification", "RelayCore"]),
        .testTarget(name: "BounceMessagesTests", dependencies: ["BounceMessages", "RelayCore"]),
        .testTarget(
            name: "BounceListenerTests",
            dependencies: ["BounceListener", "BounceMessages", "RelayCore", "ReturnPath", "SMTPProtocol", "Secrets", "Unsubscribe"]),
        // verify_dkim.py: the independent verifier (dkimpy) the DKIM tests run.
        .testTarget(name: "DKIMTests", dependencies: ["DKIM"], exclude: ["verify_dkim.py"]),
        .testTarget(name: "SecretsTests", dependencies: ["Secrets"]),
        .testTarget(name: "ReturnPathTests", dependencies: ["ReturnPath", "RelayCore", "Secrets"]),
        .testTarget(name: "UnsubscribeTests", dependencies: ["Unsubscribe", "RelayCore", "Secrets"]),
        // parse_message.py: Python's email package, the independent reader of composed messages.
        .testTarget(name: "MessageComposerTests", dependencies: ["MessageComposer", "ProcessSpawn"], exclude: ["parse_message.py"]),
        .testTarget(name: "DomainCheckTests", dependencies: ["DomainCheck", "DNSResolver"]),
        .testTarget(
            name: "DeliveryTests",
            dependencies: [
                "Delivery", "OutboundTLS", "DNSResolver", "RelayCore", "SMTPProtocol", "Queue", "HikyakuTestSupport",
                "RedisClient", "ReturnPath", "Secrets", "BounceMessages", nioCore, nioPosix, logging,
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]),
        .testTarget(
            name: "SMTPClientTests",
            dependencies: ["SMTPClient", "SMTPProtocol", nioCore, nioSSL, .product(name: "NIOEmbedded", package: "swift-nio")]),
        .testTarget(name: "OutboundTLSTests", dependencies: ["OutboundTLS", "DNSResolver", nioSSL]),
        .testTarget(
            name: "HikyakuMetricsTests",
            dependencies: [
                "HikyakuMetrics", nioCore, nioPosix, .product(name: "NIOHTTP1", package: "swift-nio"), logging, serviceLifecycle,
                .product(name: "Metrics", package: "swift-metrics"), .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        .testTarget(
            name: "IngestTests",
            dependencies: [
                "Ingest", "RelayCore", "SMTPProtocol", "Queue", "RedisClient", "HikyakuMetrics", "Secrets", "Unsubscribe",
                "HikyakuTestSupport", nioCore, nioPosix, logging,
            ]),
        .testTarget(
            name: "SMTPServerTests",
            dependencies: [
                "SMTPServer", "SMTPProtocol", nioCore,
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]),
        .testTarget(name: "HTTPAPITests", dependencies: ["HTTPAPI", nioCore]),
        .testTarget(name: "WebhooksTests", dependencies: ["Webhooks", "RelayCore", nioCore]),
        .testTarget(name: "ConsoleTests", dependencies: ["Console", "LogStore", "Queue", "RelayCore", "Campaigns", "CampaignRunner"]),
        .testTarget(name: "CampaignsTests", dependencies: ["Campaigns", "RelayCore"]),
        .testTarget(name: "CampaignRunnerTests", dependencies: ["CampaignRunner", "Campaigns", "RelayCore"]),
        .testTarget(name: "HikyakuAppTests", dependencies: ["HikyakuApp", "RelayCore", logging]),

        // Load tests (issue 4): the receiving-site simulator, fake MX sites with per-site behaviours.
        // Load generator (load-tests/): numbered messages over many SMTP sessions.
        .executableTarget(
            name: "hikyaku-load",
            dependencies: [
                "SMTPClient", "SMTPProtocol", nioCore, nioPosix, .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "load-tests/Sources/hikyaku-load"),
        .executableTarget(
            name: "hikyaku-sim",
            dependencies: [
                "SMTPProtocol", "SMTPServer", "RelayCore", "ProcessSpawn", nioCore, nioPosix, nioSSL, logging, serviceLifecycle,
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "load-tests/Sources/hikyaku-sim"),
        .testTarget(
            name: "SimulatorTests",
            dependencies: ["hikyaku-sim", "ProcessSpawn", "SMTPProtocol", "DNSResolver", nioCore, nioPosix, logging],
            path: "load-tests/Tests/SimulatorTests"),
    ]
)

// libFuzzer targets (fuzz/, `make fuzz`; README "Fuzzing"). They are part of the package only
// when ENABLE_FUZZ_TARGETS is set: they link only with `-sanitize=fuzzer` (libFuzzer's
// driver), so a plain `swift build` must not see them.
if Context.environment["ENABLE_FUZZ_TARGETS"] != nil {
    package.targets.append(.target(name: "CLibFuzzer", path: "fuzz/Sources/CLibFuzzer"))
    package.targets.append(.target(name: "FuzzSupport", dependencies: ["CLibFuzzer"], path: "fuzz/Sources/FuzzSupport"))
    for name in ["fuzz-command-parser", "fuzz-data-framing", "fuzz-address-parser"] {
        package.targets.append(
            .executableTarget(
                name: name, dependencies: ["FuzzSupport", "SMTPProtocol", nioCore],
                path: "fuzz/Sources/\(name)"))
    }
}
