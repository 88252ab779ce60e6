import ArgumentParser
import HikyakuApp
import RelayCore

/// `hikyaku webhook …`: an account's signed webhooks (README "Webhooks").
struct WebhookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "Manage an account's webhooks: signed POSTs of its events.",
        discussion: """
            The dispatcher (role webhooks, or all) POSTs JSON arrays of up to 100 events to each \
            endpoint, signed with X-Hikyaku-Timestamp and X-Hikyaku-Signature (README "Webhooks"); \
            failures are retried for webhooks.retry_for, refusals (4xx) become dead letters at once.

            Examples:
              hikyaku webhook add acme https://hooks.acme.example/hikyaku --events delivered,bounced
              hikyaku webhook rotate-secret acme 3f2a9c0d1e4b5a69
              hikyaku webhook rotate-secret acme 3f2a9c0d1e4b5a69 --finish
              hikyaku webhook replay acme 3f2a9c0d1e4b5a69
            """,
        subcommands: [Add.self, List.self, Remove.self, RotateSecret.self, Test.self, Replay.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an endpoint; prints its id and secret (once).")
        @OptionGroup var admin: AdminOptions
        @Argument(help: "Account name.") var account: String
        @Argument(help: "https:// (or http://) URL to POST to.") var url: String
        @Option(help: ArgumentHelp("Event kinds wanted, comma-separated (default: all).", valueName: "kinds"))
        var events: String?
        @Flag(help: "Allow loopback, link-local and private addresses (tests, internal receivers).")
        var allowPrivate = false

        func run() async throws {
            let kinds = events?.split(separator: ",").map { String($0).trimmingCharacters(in: " ") }
            let endpoint = try await admin.withSession {
                try await $0.addWebhook(account: account, url: url, events: kinds, allowPrivate: allowPrivate)
            }
            print("created webhook \(endpoint.id) for \(account) → \(endpoint.url)")
            print("signing secret (shown once, store it now): \(endpoint.secrets[0])")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an account's endpoints, with events waiting and dead letters.")
        @OptionGroup var admin: AdminOptions
        @Argument(help: "Account name.") var account: String

        func run() async throws {
            let listings = try await admin.withSession { try await $0.webhooks(of: account) }
            guard !listings.isEmpty else {
                print("no webhooks for \(account) (add one with `hikyaku webhook add`)")
                return
            }
            var table = TextTable([
                ("id", .left), ("url", .left), ("events", .left), ("secrets", .right), ("waiting", .right), ("dead", .right),
                ("created", .left),
            ])
            for listing in listings {
                let endpoint = listing.endpoint
                table.add([
                    endpoint.id, endpoint.url, endpoint.events?.joined(separator: ",") ?? "all", String(endpoint.secrets.count),
                    String(listing.waiting), String(listing.dead), endpoint.createdAt,
                ])
            }
            print(table.render(indent: 0))
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an endpoint with its waiting events and dead letters.")
        @OptionGroup var admin: AdminOptions
        @Argument(help: "Account name.") var account: String
        @Argument(help: "Endpoint id.") var id: String

        func run() async throws {
            try await admin.withSession { try await $0.removeWebhook(account: account, id: id) }
            print("removed webhook \(id)")
        }
    }

    struct RotateSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a new secret (printed once); requests are signed with both until --finish drops the old one.")
        @OptionGroup var admin: AdminOptions
        @Argument(help: "Account name.") var account: String
        @Argument(help: "Endpoint id.") var id: String
        @Flag(help: "End the rotation: keep only the newest secret.") var finish = false

        func run() async throws {
            let secret = try await admin.withSession { try await $0.rotateWebhookSecret(account: account, id: id, finish: finish) }
            if let secret {
                print("new signing secret (shown once, store it now): \(secret)")
                print("requests carry both signatures until `hikyaku webhook rotate-secret \(account) \(id) --finish`")
            } else {
                print("rotation finished: only the newest secret signs")
            }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "POST one synthetic signed event now and print the answer.")
        @OptionGroup var admin: AdminOptions
        @Argument(help: "Account name.") var account: String
        @Argument(help: "Endpoint id.") var id: String

        func run() async throws {
            print(try await admin.withSession { try await $0.testWebhook(account: account, id: id) })
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queue an endpoint's dead letters again.")
        @OptionGroup var admin: AdminOptions
        @Argument(help: "Account name.") var account: String
        @Argument(help: "Endpoint id.") var id: String

        func run() async throws {
            let moved = try await admin.withSession { try await $0.replayWebhook(account: account, id: id) }
            print("requeued \(moved) dead letter(s)")
        }
    }
}

/// `hikyaku events groups`: the events stream's consumer groups.
struct EventGroupsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groups",
        abstract: "List the events stream's consumer groups with their lag; --remove drops an abandoned one.",
        discussion: """
            The stream is trimmed to what every group has acknowledged (and events.retention): \
            a group nobody reads any more holds events back until events.max_length. Remove it.
            """)
    @OptionGroup var admin: AdminOptions
    @Option(help: ArgumentHelp("Remove this consumer group.", valueName: "name")) var remove: String?

    func run() async throws {
        if let remove {
            let removed = try await admin.withSession { try await $0.removeEventGroup(remove) }
            guard removed else { throw OperatorError("no consumer group \(remove)") }
            print("removed consumer group \(remove)")
            return
        }
        let groups = try await admin.withSession { try await $0.eventGroupList() }
        guard !groups.isEmpty else {
            print("no consumer groups")
            return
        }
        var table = TextTable([
            ("group", .left), ("consumers", .right), ("pending", .right), ("lag", .right), ("last delivered", .left),
        ])
        for group in groups {
            table.add([
                group.name, String(group.consumers), String(group.pending), group.lag.map(String.init) ?? "?", group.lastDeliveredID,
            ])
        }
        print(table.render(indent: 0))
    }
}
