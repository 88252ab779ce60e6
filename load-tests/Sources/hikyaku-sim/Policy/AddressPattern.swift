#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A POSIX extended regular expression matched against a recipient written
/// `local-part@domain` (domain lowercased), e.g. `^nouser` or `@full\.sim$`.
///
/// POSIX `regexec` is used rather than Swift `Regex` because it costs about a microsecond
/// per address, which matters at thousands of recipients a second.
final class AddressPattern: @unchecked Sendable, CustomStringConvertible {
    // @unchecked: the compiled expression is written only in init; POSIX allows
    // concurrent `regexec` calls on one compiled expression.
    private let regex: UnsafeMutablePointer<regex_t>
    /// The expression as written in the scenario.
    let description: String

    /// Compiles `pattern`; `nil` when it is not a valid extended regular expression.
    init?(_ pattern: String) {
        let regex = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
        guard regcomp(regex, pattern, REG_EXTENDED | REG_NOSUB) == 0 else {
            regex.deallocate()
            return nil
        }
        self.regex = regex
        self.description = pattern
    }

    deinit {
        regfree(self.regex)
        self.regex.deallocate()
    }

    /// Whether the expression matches anywhere in `address`.
    func matches(_ address: String) -> Bool {
        regexec(self.regex, address, 0, nil, 0) == 0
    }
}
