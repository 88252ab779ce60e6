import Foundation

/// The key file: text, one key per line, oldest first, written by
/// `hikyaku secrets generate-key`:
///
///     # comment
///     key 3f9a1c2e <base64 of 32 random bytes>
///
/// It must be readable by its owner only (mode 0600 or 0400): a key file group or others
/// can read is refused, as ssh refuses such a private key.
public enum SecretKeyFile {
    public static func load(path: String) throws -> SecretKeyring {
        try checkPermissions(path: path)
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw SecretsError(.keyFile, "cannot read the key file \(path): \(error.localizedDescription)")
        }
        return try parse(text, path: path)
    }

    static func parse(_ text: String, path: String) throws -> SecretKeyring {
        var keys: [SecretKeyring.Key] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 3, fields[0] == "key", let material = Base64.decode(String(fields[2])) else {
                throw SecretsError(.keyFile, "\(path) line \(number + 1): expected 'key <id> <base64>'")
            }
            do { keys.append(try SecretKeyring.Key(id: String(fields[1]), material: material)) } catch let error as SecretsError {
                throw SecretsError(.keyFile, "\(path) line \(number + 1): \(error.detail)")
            }
            if keys.dropLast().contains(where: { $0.id == keys.last!.id }) {
                throw SecretsError(.keyFile, "\(path) line \(number + 1): key id \(fields[1]) is listed twice")
            }
        }
        return try SecretKeyring(keys: keys)
    }

    static func isValidKeyID(_ id: String) -> Bool {
        id.utf8.count == 8 && id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// Refuses a file group or others may read or write, or that is not a regular file.
    public static func checkPermissions(path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw SecretsError(
                .keyFile, "the key file \(path) does not exist or cannot be read (create it with `hikyaku secrets generate-key \(path)`)")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw SecretsError(.keyFile, "the key file \(path) is not a regular file") }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw SecretsError(
                .permissions,
                "the key file \(path) has mode \(String(mode, radix: 8)); it must be readable by its owner only (chmod 600 \(path))")
        }
    }

    static func line(_ key: SecretKeyring.Key) -> String { "key \(key.id) \(Base64.encode(key.material))" }

    static let header = """
        # Hikyaku secrets key file (`hikyaku secrets generate-key`). Keep it mode 0600, on ingest
        # nodes only. The last key seals new secrets; every key listed opens them.

        """

    /// Creates the key file with one new key (refusing to overwrite one), or with
    /// `append`, adds a new key at its end — the one that seals from then on. Written to a
    /// temporary file with mode 0600 and renamed, so a reader never sees half a file.
    /// Returns the new key's id.
    @discardableResult
    public static func generate(path: String, append: Bool) throws -> String {
        let exists = FileManager.default.fileExists(atPath: path)
        var text = header
        if append {
            guard exists else { throw SecretsError(.keyFile, "\(path) does not exist; create it without --append") }
            try checkPermissions(path: path)
            _ = try load(path: path)
            text = try String(contentsOfFile: path, encoding: .utf8)
            if !text.hasSuffix("\n") { text += "\n" }
        } else if exists {
            throw SecretsError(
                .keyFile, "\(path) exists; add a newer key with --append (never overwrite: secrets sealed with its keys would be lost)")
        }
        let key = try SecretKeyring.Key.generate()
        text += line(key) + "\n"
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw SecretsError(.keyFile, "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == bytes.count, synced == 0, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw SecretsError(.keyFile, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        return key.id
    }
}
