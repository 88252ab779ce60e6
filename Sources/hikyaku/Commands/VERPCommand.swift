import ArgumentParser
import HikyakuApp

/// `hikyaku verp …`: VERP return paths (README, "Bounces").
struct VERPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verp",
        abstract: "VERP return paths (b-TOKEN@return-path-domain): decode and verify a token.",
        subcommands: [Decode.self])

    struct Decode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a VERP address (or its local part) with secrets.key_file and print its queue id and recipient index.",
            discussion: """
                The recipient index is the recipient's position (from 0) in the message's recipient
                index: redis-cli HGET hk:rix:<queue id> r (kept for bounces.window after delivery).
                Exits 1 when the token does not verify (altered, forged, or its key is gone).
                """)

        @OptionGroup var admin: AdminOptions
        @Argument(help: "b-TOKEN or b-TOKEN@domain (any case).")
        var address: String
        @Option(help: ArgumentHelp("Also say whether the token was made for this account.", valueName: "name"))
        var account: String?
        @Flag(help: "Also look up the recipient, account, sender and Message-ID in the recipient index (needs Redis).")
        var lookup = false

        func run() async throws {
            let decoded = try VERPDecoding.decode(address, secrets: try admin.config.load().secrets)
            print("queue_id \(decoded.queueID)")
            print("recipient_index \(decoded.recipientIndex)")
            print("account_tag \(decoded.accountTag)")
            print("key_id \(decoded.keyID)")
            if lookup {
                if let entry = try await admin.withSession({ try await $0.recipientIndexEntry(decoded) }) {
                    print("recipient \(entry.recipient ?? "(index out of range)")")
                    let mismatch = decoded.matches(account: entry.account) ? "" : " (does NOT match the token's tag)"
                    print("index_account \(entry.account)\(mismatch)")
                    print("sender \(entry.sender)")
                    print("message_id \(entry.messageID)")
                } else {
                    print("recipient index: gone (expired after bounces.window, or never written)")
                }
            }
            if let account {
                print("account \(account) \(decoded.matches(account: account) ? "matches" : "does NOT match")")
                if !decoded.matches(account: account) { throw ExitCode(1) }
            }
        }
    }
}
