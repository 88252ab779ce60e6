import ArgumentParser
import HikyakuApp

/// `hikyaku secrets …`: the key file that seals the DKIM private keys in Redis (README,
/// "Secrets: where each lives and how to rotate it").
struct SecretsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secrets",
        abstract: "The key file that seals secrets stored in Redis: create it, add a key, re-seal with the newest.",
        discussion: """
            Rotation without downtime:
              1. hikyaku secrets generate-key --append /etc/hikyaku/secrets.key
                 and copy the file (mode 0600) to every ingest node (they read it again when
                 they meet a key id they do not know);
              2. hikyaku secrets rotate      re-seals every stored DKIM key with the newest key
                 (plaintext keys stored before a key file existed are sealed too);
              3. remove the old key's line from the file on every node.
            """,
        subcommands: [GenerateKey.self, Rotate.self])

    struct GenerateKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate-key",
            abstract: "Create a key file (mode 0600) with one random key, or add a newer key to it with --append.")
        @Argument(help: "Path of the key file (secrets.key_file).")
        var path: String
        @Flag(help: "Add a key to an existing file; the new key seals from then on, the old ones still open.")
        var append = false

        func run() throws {
            let id = try DKIMSealing.generateKeyFile(path: path, append: append)
            print(
                append
                    ? "added key \(id) to \(path); it seals from now on. Copy the file to every ingest node, then run `hikyaku secrets rotate`."
                    : "created \(path) (mode 0600) with key \(id). Set secrets.key_file: \(path) on ingest nodes.")
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-seal every stored DKIM key with the newest key of the key file (plaintext ones too).")
        @OptionGroup var admin: AdminOptions

        func run() async throws {
            let sealing = try DKIMSealing.forRotation(try admin.config.load().secrets)
            let (resealed, current, domains) = try await admin.withSession { try await $0.resealDKIMKeys(with: sealing) }
            print("re-sealed \(resealed) DKIM key(s) of \(domains) domain(s) with key \(sealing.keyID ?? "?"); \(current) already were")
        }
    }
}
