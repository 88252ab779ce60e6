import HikyakuApp
import RelayCore
import Testing

struct ConfigurationLoaderTests {
    @Test func anEmptyFileGivesTheDocumentedDefaults() throws {
        let configuration = try ConfigurationLoader.parse(yaml: "")
        #expect(configuration.ingest.listeners.map(\.address) == ["127.0.0.1:2525"])
        #expect(configuration.ingest.maxMessageSize.bytes == 25 << 20)
        #expect(configuration.delivery.retrySchedule.first == .minutes(1))
        #expect(configuration.delivery.mxPort == 25)
        #expect(configuration.redis.url == nil)
        #expect(configuration.ingest.maxConnectionsPerIP == 20)
        #expect(configuration.ingest.commandTimeout == .seconds(60))
        #expect(configuration.ingest.minDataRate.bytes == 1024)
    }

    @Test func valuesAreReadWithUnits() throws {
        let configuration = try ConfigurationLoader.parse(
            yaml: """
                hostname: relay.test
                redis: {url: "redis://127.0.0.1:7000/2", command_timeout: 1500ms}
                ingest:
                  max_message_size: 10MiB
                  relay_networks: ["10.0.0.0/8"]
                  listeners: [{name: a, address: "127.0.0.1:2600"}]
                  max_connections_per_ip: 3
                  command_timeout: 2s
                  min_data_rate: 4KiB
                delivery:
                  retry_schedule: [1s, 2m, 1h]
                  max_age: 2d
                  routes: {example.test: "127.0.0.1:2626"}
                """)
        #expect(configuration.hostname == "relay.test")
        #expect(configuration.redis.commandTimeout == ConfigDuration(milliseconds: 1500))
        #expect(configuration.ingest.maxMessageSize.bytes == 10 << 20)
        #expect(configuration.ingest.relayNetworks.first?.contains("10.1.2.3") == true)
        #expect(configuration.ingest.relayNetworks.first?.contains("11.1.2.3") == false)
        #expect(configuration.ingest.maxConnectionsPerIP == 3)
        #expect(configuration.ingest.commandTimeout == .seconds(2))
        #expect(configuration.ingest.minDataRate.bytes == 4096)
        #expect(configuration.delivery.retrySchedule == [.seconds(1), .minutes(2), .hours(1)])
        #expect(configuration.delivery.maxAge == .days(2))
        #expect(configuration.delivery.routes["example.test"] == "127.0.0.1:2626")
    }

    @Test func bounceRulesFileIsReadAtStartAndABadOneNamesItsLine() throws {
        #expect(try ConfigurationLoader.parse(yaml: "").bounces.rulesFile == nil)
        let configuration = try ConfigurationLoader.parse(yaml: "bounces: {rules_file: /nonexistent/rules}")
        #expect(configuration.bounces.rulesFile == "/nonexistent/rules")
        #expect {
            try HikyakuApplication.bounceRules(configuration.bounces)
        } throws: { error in
            (error as? ConfigurationError).map { $0.key == "bounces.rules_file" && $0.problem.hasPrefix("/nonexistent/rules: cannot open") }
                ?? false
        }
        #expect(try HikyakuApplication.bounceRules(BounceSettings()).textRules.isEmpty == false)
    }

    @Test func environmentOverridesWinAndAreReadAsYAML() throws {
        let configuration = try ConfigurationLoader.parse(
            yaml: "redis: {url: \"redis://a:1/0\"}",
            environment: [
                "HIKYAKU_REDIS__URL": "redis://127.0.0.1:6390/0",
                "HIKYAKU_DELIVERY__CONCURRENCY": "3",
                "HIKYAKU_DELIVERY__DNS_SERVERS": "[\"127.0.0.1:5353\"]",
                "UNRELATED": "x",
            ])
        #expect(configuration.redis.url == "redis://127.0.0.1:6390/0")
        #expect(configuration.delivery.concurrency == 3)
        #expect(configuration.delivery.dnsServers == ["127.0.0.1:5353"])
    }

    @Test(arguments: [
        ("ingest: {max_mesage_size: 1}", "ingest.max_mesage_size"),
        ("delivery: {concurrency: lots}", "delivery.concurrency"),
        ("delivery: {retry_schedule: [1m, soon]}", "delivery.retry_schedule[1]"),
        ("ingest: {relay_networks: [\"10.0.0.0/33\"]}", "ingest.relay_networks[0]"),
        ("ingest: {listeners: [{name: a, address: \"nowhere\"}]}", "ingest.listeners[0].address"),
        ("ingest: {listeners: [{name: a, address: \"127.0.0.1:25\", tls: starttls}]}", "ingest.listeners[0].tls"),
        ("ingest: {listeners: [{name: a, address: \"127.0.0.1:25\", mode: open}]}", "ingest.listeners[0].mode"),
        ("ingest: {users: [{username: u, password_hash: hunter2}]}", "ingest.users[0].password_hash"),
        ("redis: {url: \"http://x\"}", "redis.url"),
        ("log_level: loud", "log_level"),
        ("delivery: {routes: {a.test: \"nohost\"}}", "delivery.routes.a.test"),
        ("redis: {sentinels: [\"nowhere\"]}", "redis.sentinels[0]"),
        ("redis: {wait_replicas: 1, wait_timeout: 10s, command_timeout: 5s}", "redis.wait_timeout"),
        ("redis: {wait_replicas: 99}", "redis.wait_replicas"),
        ("redis: {cluster: [\"10.0.0.1\"]}", "redis.cluster[0]"),
        ("redis: {cluster: [\"10.0.0.1:6379\"], sentinels: [\"10.0.0.2:26379\"]}", "redis.cluster"),
        ("redis: {cluster: [\"10.0.0.1:6379\"], key_prefix: \"hk:\"}", "redis.key_prefix"),
        ("redis: {cluster: [\"10.0.0.1:6379\"], key_prefix: \"hk:{}:\"}", "redis.key_prefix"),
        ("redis: {key_prefix: \"hk *\"}", "redis.key_prefix"),
        ("redis: {limits_key_prefix: \"hk:lim:\"}", "redis.limits_key_prefix"),
        ("redis: {cluster: [\"10.0.0.1:6379\"], limits_key_prefix: \"hk:lim:\"}", "redis.limits_key_prefix"),
        ("redis: {limits_key_prefix: \"l*\"}", "redis.limits_key_prefix"),
        ("accounts: {bounce_rate_threshold: 2}", "accounts.bounce_rate_threshold"),
        ("accounts: {bounce_window: 90m}", "accounts.bounce_window"),
        ("accounts: {auth_lockout: 2h, auth_lockout_max: 1h}", "accounts.auth_lockout"),
        ("ingest: {tls: {certificate: a, private_key: b, reload_interval: 10ms}}", "ingest.tls.reload_interval"),
        ("ingest: {max_connections_per_ip: 0}", "ingest.max_connections_per_ip"),
        ("ingest: {max_connections_per_ip: many}", "ingest.max_connections_per_ip"),
        ("ingest: {command_timeout: 500ms}", "ingest.command_timeout"),
        ("ingest: {command_timeout: soon}", "ingest.command_timeout"),
        ("ingest: {min_data_rate: 0}", "ingest.min_data_rate"),
        ("ingest: {min_data_rate: fast}", "ingest.min_data_rate"),
        ("bounces: {rule_file: x}", "bounces.rule_file"),
        ("bounces: {rules_file: [a, b]}", "bounces.rules_file"),
        ("campaigns: {max_queued_per_site: 0}", "campaigns.max_queued_per_site"),
        ("campaigns: {chunk_size: 0}", "campaigns.chunk_size"),
        ("campaigns: {lookahead: 10ms}", "campaigns.lookahead"),
    ])
    func invalidConfigurationNamesTheKey(yaml: String, key: String) {
        do {
            _ = try ConfigurationLoader.parse(yaml: yaml)
            Issue.record("expected an error for \(yaml)")
        } catch let error as ConfigurationError {
            #expect(error.key == key, "\(error)")
            #expect(!error.problem.isEmpty)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func aClusterGetsAHashTaggedPrefixByDefault() throws {
        let cluster = try ConfigurationLoader.parse(yaml: "redis: {cluster: [\"10.0.0.1:6379\", \"10.0.0.2:6379\"]}")
        #expect(cluster.redis.effectiveKeyPrefix == "hk:{hk}:")
        #expect(cluster.redis.cluster == ["10.0.0.1:6379", "10.0.0.2:6379"])
        #expect(try ConfigurationLoader.parse(yaml: "").redis.effectiveKeyPrefix == "hk:")
        let own = try ConfigurationLoader.parse(yaml: "redis: {cluster: [\"10.0.0.1:6379\"], key_prefix: \"mail:{eu}:\"}")
        #expect(HikyakuApplication.queueConfiguration(own).keyPrefix == "mail:{eu}:")
        #expect(!HikyakuApplication.queueConfiguration(own).keys.splitClaim)
    }

    /// `redis.limits_key_prefix` moves the limit keys (and only them) and splits the claim.
    @Test func limitKeysMayHaveAPrefixOfTheirOwn() throws {
        let apart = try ConfigurationLoader.parse(
            yaml: "redis: {cluster: [\"10.0.0.1:6379\"], key_prefix: \"hk:{q}:\", limits_key_prefix: \"hk:{q-limits}:\"}")
        let keys = HikyakuApplication.queueConfiguration(apart).keys
        #expect(keys.splitClaim)
        let unit = DeliveryUnit(egress: "192.0.2.1", site: "gmail")
        for key in [
            keys.siteRate(site: "gmail"), keys.ipRate(unit: unit), keys.connections(unit: unit), keys.warmup(egress: "192.0.2.1", day: 1),
            keys.suspendedSite("gmail"), keys.slowdown(unit: unit), keys.leases(consumer: "w1"), keys.egressLive, keys.leaseSequence,
        ] {
            #expect(key.hasPrefix("hk:{q-limits}:"), "\(key)")
        }
        for key in [keys.ready(pool: "default"), keys.events, keys.message(QueueID(rawValue: "Q1")), keys.node("w1"), keys.deferred] {
            #expect(key.hasPrefix("hk:{q}:"), "\(key)")
        }
        #expect(!HikyakuApplication.queueConfiguration(try ConfigurationLoader.parse(yaml: "")).keys.splitClaim)
    }

    @Test func anOverrideOfAnUnknownKeyIsAnError() {
        #expect(throws: ConfigurationError.self) {
            _ = try ConfigurationLoader.parse(yaml: "", environment: ["HIKYAKU_DELIVERY__CONCURENCY": "3"])
        }
    }

    @Test func redisTLSIsReadAndItsFilesMustBeReadable() throws {
        let configuration = try ConfigurationLoader.parse(
            yaml: """
                redis:
                  url: "rediss://hikyaku-worker:pw@10.0.0.11:6380/0"
                  tls: {ca_file: /etc/hostname, server_name: redis.internal}
                """)
        #expect(configuration.redis.tls == RedisTLSSettings(caFile: "/etc/hostname", serverName: "redis.internal"))
        #expect(configuration.redis.redactedURL == "rediss://hikyaku-worker:***@10.0.0.11:6380/0")

        let missing = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.parse(yaml: "redis: {url: \"rediss://h\", tls: {ca_file: /nonexistent/ca.pem}}")
        }
        #expect(missing?.key == "redis.tls.ca_file")
        let halfPair = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.parse(yaml: "redis: {url: \"rediss://h\", tls: {cert_file: /etc/hostname}}")
        }
        #expect(halfPair?.problem.contains("both") == true)
        let clearText = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.parse(yaml: "redis: {url: \"redis://h\", tls: {ca_file: /etc/hostname}}")
        }
        #expect(clearText?.key == "redis.tls")
        let unknown = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.parse(yaml: "redis: {url: \"rediss://h\", tls: {ca: /etc/hostname}}")
        }
        #expect(unknown?.key == "redis.tls.ca")
        let sentinelUser = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.parse(yaml: "redis: {sentinels: [\"10.0.0.1:26379\"], sentinel_username: hikyaku-relay}")
        }
        #expect(sentinelUser?.key == "redis.sentinel_username")
    }

    @Test func aBadRedisURLIsReportedWithoutItsPassword() {
        for url in ["http://u:hunter2@h", "u:hunter2@h:6379"] {
            let error = #expect(throws: ConfigurationError.self) {
                try ConfigurationLoader.parse(yaml: "redis: {url: \"\(url)\"}")
            }
            #expect(error?.key == "redis.url")
            #expect(error?.description.contains("hunter2") == false, "\(String(describing: error))")
        }
        let fromEnvironment = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.parse(yaml: "", environment: ["HIKYAKU_REDIS__URL": "ftp://:hunter2@h"])
        }
        #expect(fromEnvironment?.description.contains("hunter2") == false)
        let notYAML = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.parse(yaml: "", environment: ["HIKYAKU_REDIS__URL": "\"redis://:hun\"ter2@h"])
        }
        #expect(notYAML?.key == "redis.url")
        #expect(notYAML?.description.contains("ter2") == false, "\(String(describing: notYAML))")
    }
}

struct LoopSettingsTests {
    @Test func defaultsAndValues() throws {
        let defaults = try ConfigurationLoader.parse(yaml: "")
        #expect(defaults.ingest.maxReceivedHeaders == 30)
        #expect(defaults.delivery.allowedMXNetworks.isEmpty && defaults.delivery.forbiddenNetworks.isEmpty)
        let configuration = try ConfigurationLoader.parse(
            yaml: """
                ingest: {max_received_headers: 50}
                delivery: {allowed_mx_networks: ["127.0.0.0/8"], forbidden_networks: ["192.168.0.0/16", "fd00::/8"]}
                """)
        #expect(configuration.ingest.maxReceivedHeaders == 50)
        #expect(configuration.delivery.allowedMXNetworks.map(\.description) == ["127.0.0.0/8"])
        #expect(configuration.delivery.forbiddenNetworks.count == 2)
        #expect(throws: (any Error).self) { try ConfigurationLoader.parse(yaml: "ingest: {max_received_headers: 0}") }
        #expect(throws: (any Error).self) { try ConfigurationLoader.parse(yaml: "delivery: {allowed_mx_networks: [\"nope\"]}") }
    }
}
