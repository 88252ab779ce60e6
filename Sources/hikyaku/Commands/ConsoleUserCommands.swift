import ArgumentParser
import HikyakuApp
import RelayCore

/// How a console password is given: one line on standard input, or generated and printed once.
struct ConsolePasswordOptions: ParsableArguments {
    @Flag(help: "Read the password from standard input (one line).")
    var passwordStdin = false

    @Flag(help: "Generate a random password and print it (once). The default without --password-stdin.")
    var generatePassword = false

    func validate() throws {
        if passwordStdin && generatePassword { throw ValidationError("give either --password-stdin or --generate-password, not both") }
    }

    /// The password, and whether it was generated (to print).
    func password() throws -> (String, generated: Bool) {
        if passwordStdin {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw ValidationError("no password on standard input (try: echo 'secret' | hikyaku operator add NAME --password-stdin)")
            }
            return (line, false)
        }
        return (AccountPassword.random(), true)
    }
}

/// `hikyaku operator add|remove|list`: operators of the web console (they see every account).
struct OperatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operator",
        abstract: "Manage web console operators (they see every account's logs and statistics).",
        discussion: """
            Examples:
              hikyaku operator add alice                     (prints a generated password once)
              echo 'secret' | hikyaku operator add bob --password-stdin
              hikyaku operator remove bob
            """,
        subcommands: [Add.self, Remove.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an operator.")
        @OptionGroup var admin: AdminOptions
        @Argument(help: "Login name: letters, digits, '.', '-', '_', '@'.") var name: String
        @OptionGroup var password: ConsolePasswordOptions

        func run() async throws {
            let (secret, generated) = try password.password()
            guard try await admin.withSession({ try await $0.addConsoleUser(name: name, account: nil, password: secret) }) else {
                throw OperatorError("a console user named '\(name)' exists already")
            }
            print("added operator \(name)")
            if generated { print("password (shown once, store it now): \(secret)") }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an operator (its sessions end at once).")
        @OptionGroup var admin: AdminOptions
        @Argument var name: String

        func run() async throws {
            guard try await admin.withSession({ try await $0.removeConsoleUser(name: name, account: nil) }) else {
                throw OperatorError("there is no operator '\(name)'")
            }
            print("removed operator \(name)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List operators.")
        @OptionGroup var admin: AdminOptions

        func run() async throws {
            for user in try await admin.withSession({ try await $0.consoleUserList(account: nil) }) {
                print("\(user.name)\t\(user.createdAt)")
            }
        }
    }
}

/// `hikyaku account console-user add|remove|list ACCOUNT …`: console logins that see one account.
struct ConsoleUserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console-user", abstract: "Manage an account's web console users (they see only that account).",
        subcommands: [Add.self, Remove.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a console user to an account.")
        @OptionGroup var admin: AdminOptions
        @Argument var account: String
        @Argument(help: "Login name: letters, digits, '.', '-', '_', '@' (one namespace with operators).") var name: String
        @OptionGroup var password: ConsolePasswordOptions

        func run() async throws {
            let (secret, generated) = try password.password()
            guard try await admin.withSession({ try await $0.addConsoleUser(name: name, account: account, password: secret) })
            else {
                throw OperatorError("a console user named '\(name)' exists already")
            }
            print("added console user \(name) of account \(account)")
            if generated { print("password (shown once, store it now): \(secret)") }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an account's console user (its sessions end at once).")
        @OptionGroup var admin: AdminOptions
        @Argument var account: String
        @Argument var name: String

        func run() async throws {
            guard try await admin.withSession({ try await $0.removeConsoleUser(name: name, account: account) }) else {
                throw OperatorError("account '\(account)' has no console user '\(name)'")
            }
            print("removed console user \(name) of account \(account)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an account's console users.")
        @OptionGroup var admin: AdminOptions
        @Argument var account: String

        func run() async throws {
            for user in try await admin.withSession({ try await $0.consoleUserList(account: account) }) {
                print("\(user.name)\t\(user.createdAt)")
            }
        }
    }
}
