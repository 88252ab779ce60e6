/// Protocol limits used throughout the module, as named constants (in the manner of
/// nio-imap's `IMAPDefaults`).
public enum SMTPLimits {
    /// Maximum length of a command line, in octets, including the terminating CRLF
    /// (RFC 5321 §4.5.3.1.4).
    public static let commandLineLength = 512

    /// Maximum length of a line sent in answer to a `334` AUTH challenge, including CRLF.
    ///
    /// RFC 4954 §4 lifts the 512-octet limit for AUTH exchanges (SASL responses can carry
    /// large tokens); 12288 octets is what Postfix and Dovecot allow.
    public static let authResponseLineLength = 12288

    /// Maximum length of a reply line accepted by ``SMTPReplyParser``, including CRLF.
    ///
    /// RFC 5321 §4.5.3.1.5 sets 512 octets; real servers exceed it, so the parser is lenient
    /// up to this bound and fails clearly beyond it.
    public static let replyLineLength = 4096

    /// Maximum number of lines in one (multi-line) reply accepted by ``SMTPReplyParser``,
    /// so a hostile server cannot grow a reply without bound.
    public static let replyLineCount = 512

    /// Maximum length of an AUTH user name (authcid), in octets. RFC 4616 §2 allows 255
    /// octets of UTF-8 for each field; a longer one is refused with `535 5.7.8` before
    /// any credential store (or lockout counter) sees it.
    public static let authUsernameLength = 256

    /// Number of bad commands (syntax errors, bad sequence, failed AUTH) after which the
    /// server answers `421 4.7.0` and closes the connection.
    public static let badCommandLimit = 10
}
