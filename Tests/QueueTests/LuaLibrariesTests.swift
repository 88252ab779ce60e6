import Foundation
import Queue
import Testing

/// The function libraries are the `.lua` files of `Sources/Queue/Lua`, embedded by
/// `scripts/generate-lua.py` into `Generated/LuaLibraries.swift`: a stale generated file
/// (a `.lua` edited without running the script) fails here, as `make test`'s
/// `generate-lua.py --check` does.
struct LuaLibrariesTests {
    static let luaDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/Queue/Lua")

    static func files() throws -> [String: String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: luaDirectory.path).filter { $0.hasSuffix(".lua") }
        var out: [String: String] = [:]
        for name in names {
            out[String(name.dropLast(4))] = try String(contentsOf: luaDirectory.appendingPathComponent(name), encoding: .utf8)
        }
        return out
    }

    @Test func theEmbeddedLibrariesAreExactlyTheLuaFiles() throws {
        let files = try Self.files()
        #expect(files.count == 7, "\(files.keys.sorted())")
        #expect(Set(FunctionLibraries.all.map(\.name)) == Set(files.keys))
        for library in FunctionLibraries.all {
            #expect(
                library.source == files[library.name],
                "\(library.name).lua differs from the embedded code: run scripts/generate-lua.py")
            #expect(library.source.hasPrefix("#!lua name=\(library.name)\n"))
        }
    }

    /// Functions that build a key name themselves (from a stem passed in ARGV), because the
    /// name depends on what the call reads; docs/KEY-LAYOUT.md lists them and how Redis
    /// Cluster (issue 17) handles them. Every other function touches only its KEYS.
    static let derivingKeys: Set<String> = [
        "hk_enqueue", "hk_complete", "hk_promote", "hk_recover_leases", "hk_next",
        "hka_remove_queued", "hka_account_resume", "hka_account_delete", "hka_apikey_revoke", "hkb_complaint",
    ]

    @Test func onlyTheListedFunctionsBuildKeyNames() throws {
        var deriving: Set<String> = []
        var all: Set<String> = []
        for library in FunctionLibraries.all {
            // Each function's code (comments left out) runs from its registration to the next one.
            let code = library.source.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }.joined(separator: "\n")
            let parts = code.components(separatedBy: "redis.register_function('").dropFirst()
            for part in parts {
                let name = String(part.prefix { $0 != "'" })
                all.insert(name)
                #expect(!part.contains("prefix"), "\(name) builds keys from the prefix: pass them in KEYS")
                if part.contains("_stem") { deriving.insert(name) }
            }
        }
        #expect(all.count > 30)
        #expect(deriving == Self.derivingKeys)
        let note = try String(contentsOf: Self.luaDirectory.appendingPathComponent("../../../docs/KEY-LAYOUT.md"), encoding: .utf8)
        for name in Self.derivingKeys { #expect(note.contains("`\(name)`"), "docs/KEY-LAYOUT.md does not list \(name)") }
    }
}
