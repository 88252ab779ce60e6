/// The replies the server sends, by name (RFC 5321 §4.2.2-4.2.3, enhanced codes from
/// RFC 3463 and the IANA registry of RFC 5248).
extension SMTPReply {
    // MARK: 2yz

    /// `250 2.0.0 Ok` (RSET, NOOP; RFC 5321 §4.1.1.5, §4.1.1.9).
    public static let ok = SMTPReply(250, "2.0.0", "Ok")
    /// `250 2.1.0 Ok`: sender accepted (RFC 3463 §3.2, X.1.0 other address status).
    public static let senderOK = SMTPReply(250, "2.1.0", "Ok")
    /// `250 2.1.5 Ok`: recipient accepted (X.1.5 destination address valid).
    public static let recipientOK = SMTPReply(250, "2.1.5", "Ok")
    /// `221 2.0.0 Bye`: answer to QUIT (RFC 5321 §4.1.1.10).
    public static let serviceClosing = SMTPReply(221, "2.0.0", "Bye")
    /// `252 2.1.5`: VRFY is not answered, but the message will be accepted (RFC 5321 §3.5.3).
    public static let cannotVRFY = SMTPReply(252, "2.1.5", "Cannot VRFY user, but will accept message and attempt delivery")
    /// `220 2.0.0 Ready to start TLS` (RFC 3207 §4).
    public static let readyToStartTLS = SMTPReply(220, "2.0.0", "Ready to start TLS")
    /// `235 2.7.0 Authentication successful` (RFC 4954 §6).
    public static let authSucceeded = SMTPReply(235, "2.7.0", "Authentication successful")
    /// `214 2.0.0`: the HELP text (RFC 5321 §4.1.1.8).
    public static let help = SMTPReply(
        214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS AUTH")

    // MARK: 3yz

    /// `354 End data with <CR><LF>.<CR><LF>` (RFC 5321 §4.1.1.4). No enhanced code: RFC 3463
    /// defines classes 2, 4 and 5 only.
    public static let startMailInput = SMTPReply(code: 354, lines: ["End data with <CR><LF>.<CR><LF>"])

    // MARK: 4yz

    /// `421 4.7.0 Too many errors`: closing after too many bad commands.
    public static let tooManyErrors = SMTPReply(421, "4.7.0", "Too many errors, closing connection")
    /// `421 4.7.0`: the client spoke another protocol (HTTP) to an SMTP port.
    public static let protocolViolation = SMTPReply(421, "4.7.0", "Protocol violation, closing connection")
    /// `421 4.3.0`: the server cannot go on with this connection.
    public static let serviceNotAvailable = SMTPReply(421, "4.3.0", "Service not available, closing transmission channel")
    /// `451 4.3.0`: local error in processing (e.g. the queue could not store the message).
    public static let localError = SMTPReply(451, "4.3.0", "Requested action aborted: local error in processing")
    /// `452 4.5.3 Too many recipients` (RFC 5321 §4.5.3.1.10).
    public static let tooManyRecipients = SMTPReply(452, "4.5.3", "Too many recipients")
    /// `454 4.7.0`: the credentials could not be checked now (RFC 4954 §6).
    public static let authTemporaryFailure = SMTPReply(454, "4.7.0", "Temporary authentication failure")

    // MARK: 5yz

    /// `500 5.5.2 Syntax error, command unrecognized` (RFC 5321 §4.2.2).
    public static let syntaxError = SMTPReply(500, "5.5.2", "Syntax error, command unrecognized")
    /// `500 5.5.6 Line too long` (RFC 5321 §4.5.3.1.4, X.5.6 authentication exchange line too long / syntax).
    public static let lineTooLong = SMTPReply(500, "5.5.6", "Line too long")
    /// `502 5.5.1 Command not implemented` (RFC 5321 §4.2.4).
    public static let commandNotImplemented = SMTPReply(502, "5.5.1", "Command not implemented")
    /// `503 5.5.1 Bad sequence of commands` (RFC 5321 §4.1.4).
    public static let badSequence = SMTPReply(503, "5.5.1", "Bad sequence of commands")
    /// `503 5.5.1 Send HELO/EHLO first`.
    public static let needHelo = SMTPReply(503, "5.5.1", "Bad sequence of commands: send HELO/EHLO first")
    /// `503 5.5.1 Send EHLO first` (AUTH is an EHLO extension, RFC 4954 §4).
    public static let needEhlo = SMTPReply(503, "5.5.1", "Bad sequence of commands: send EHLO first")
    /// `503 5.5.1 Need MAIL command`.
    public static let needMail = SMTPReply(503, "5.5.1", "Bad sequence of commands: need MAIL command")
    /// `503 5.5.1 Sender already specified` (nested MAIL, RFC 5321 §4.1.4).
    public static let nestedMail = SMTPReply(503, "5.5.1", "Bad sequence of commands: sender already specified")
    /// `503 5.5.1 Need RCPT command`.
    public static let needRcpt = SMTPReply(503, "5.5.1", "Bad sequence of commands: need RCPT command")
    /// `503 5.5.1`: a command that is not allowed inside a mail transaction.
    public static let notInTransaction = SMTPReply(503, "5.5.1", "Bad sequence of commands: not allowed during a mail transaction")
    /// `503 5.5.1 Already authenticated` (RFC 4954 §4).
    public static let alreadyAuthenticated = SMTPReply(503, "5.5.1", "Bad sequence of commands: already authenticated")
    /// `503 5.5.1 TLS already active` (RFC 3207 §4.2).
    public static let tlsAlreadyActive = SMTPReply(503, "5.5.1", "Bad sequence of commands: TLS already active")
    /// `554 5.5.1 No valid recipients`: DATA after all RCPTs failed (RFC 2920 §3.1).
    public static let noValidRecipients = SMTPReply(554, "5.5.1", "No valid recipients")
    /// `501 5.7.0 Authentication cancelled`: the client answered `*` (RFC 4954 §4).
    public static let authCancelled = SMTPReply(501, "5.7.0", "Authentication cancelled")
    /// `501 5.5.2`: an AUTH response that is not valid base64 (RFC 4954 §4).
    public static let invalidBase64 = SMTPReply(501, "5.5.2", "Invalid base64 data")
    /// `501 5.5.2`: a decoded AUTH response that does not fit the mechanism.
    public static let malformedAuthResponse = SMTPReply(501, "5.5.2", "Malformed authentication response")
    /// `504 5.5.4 Unrecognized authentication mechanism` (RFC 4954 §4).
    public static let unrecognizedAuthMechanism = SMTPReply(504, "5.5.4", "Unrecognized authentication mechanism")
    /// `530 5.7.0 Authentication required` (RFC 4954 §6).
    public static let authenticationRequired = SMTPReply(530, "5.7.0", "Authentication required")
    /// `535 5.7.8 Authentication credentials invalid` (RFC 4954 §6).
    public static let authFailed = SMTPReply(535, "5.7.8", "Authentication credentials invalid")
    /// `538 5.7.11 Encryption required for requested authentication mechanism` (RFC 4954 §6).
    public static let encryptionRequiredForAuth = SMTPReply(538, "5.7.11", "Encryption required for requested authentication mechanism")
    /// `550 5.1.1`: `<Postmaster>` without a domain; this relay has no local mailboxes.
    public static let noLocalPostmaster = SMTPReply(550, "5.1.1", "Recipient address rejected: no local mailboxes")
    /// `550 5.1.2 Address literals are not relayed`: we relay to domains only.
    public static let addressLiteralsNotRelayed = SMTPReply(550, "5.1.2", "Address literals are not relayed")
    /// `552 5.3.4 Message size exceeds fixed maximum message size` (RFC 1870 §6).
    public static let messageTooLarge = SMTPReply(552, "5.3.4", "Message size exceeds fixed maximum message size")
    /// `553 5.6.7`: a UTF-8 address without the SMTPUTF8 parameter (RFC 6531 §3.5).
    public static let smtpUTF8Required = SMTPReply(553, "5.6.7", "Address requires SMTPUTF8")
    /// `550 5.7.1 Relay access denied`: a recipient refused for policy reasons. RFC 5321
    /// §4.2.2 gives 550 for "command rejected for policy reasons", and §4.3.2 lists 550, not
    /// 554, among the replies to RCPT; 5.7.1 is "delivery not authorized" (RFC 3463 §3.8).
    public static let relayDenied = SMTPReply(550, "5.7.1", "Relay access denied")
    /// `555 5.5.4`: a MAIL/RCPT parameter that is recognised but not offered here
    /// (RFC 5321 §4.1.1.11).
    public static let unsupportedParameter = SMTPReply(555, "5.5.4", "Unsupported parameter")
}
