import CCrypt

#if canImport(Glibc)
import Glibc
#endif

/// crypt(3) password hashes from libxcrypt: yescrypt (`$y$`, the Debian 12 default) for new
/// hashes; anything libxcrypt understands (e.g. SHA-512-crypt `$6$` from
/// `openssl passwd -6`) for verification. Hashing is deliberately slow: call it off the
/// event loop.
public enum PasswordHasher {
    /// A new salted yescrypt hash of `password`.
    public static func hash(_ password: String) -> String? {
        guard let setting = crypt_gensalt_ra("$y$", 0, nil, 0) else { return nil }
        defer { free(setting) }
        return run(password, setting: String(cString: setting))
    }

    /// Whether `password` matches `hash`, compared in constant time.
    public static func verify(_ password: String, hash: String) -> Bool {
        guard let computed = run(password, setting: hash) else { return false }
        let a = Array(computed.utf8)
        let b = Array(hash.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    private static func run(_ password: String, setting: String) -> String? {
        var data = crypt_data()
        let result: String? = withUnsafeMutablePointer(to: &data) { pointer in
            guard let out = crypt_r(password, setting, pointer) else { return nil }
            let text = String(cString: out)
            // libxcrypt signals failure with a string starting with '*'.
            return text.hasPrefix("*") ? nil : text
        }
        // Do not leave the password-derived state on the stack.
        withUnsafeMutableBytes(of: &data) { raw in
            for i in raw.indices { raw[i] = 0 }
        }
        return result
    }
}
