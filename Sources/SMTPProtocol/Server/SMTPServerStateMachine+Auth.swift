extension SMTPServerStateMachine {
    /// `AUTH` (RFC 4954 §4) with the PLAIN (RFC 4616) and LOGIN mechanisms.
    ///
    /// ```
    /// C: AUTH PLAIN AGFsaWNlAHNlY3JldA==          (initial response; "=" means empty)
    /// S: 235 2.7.0 Authentication successful      (after credentialsChecked(.success))
    ///
    /// C: AUTH PLAIN
    /// S: 334
    /// C: AGFsaWNlAHNlY3JldA==
    ///
    /// C: AUTH LOGIN
    /// S: 334 VXNlcm5hbWU6                         ("Username:")
    /// C: YWxpY2U=
    /// S: 334 UGFzc3dvcmQ6                         ("Password:")
    /// C: c2VjcmV0
    /// ```
    /// Only after EHLO, outside a transaction, once per session (`503 5.5.1`); on a
    /// plaintext connection unless allowed: `538 5.7.11` (RFC 4954 §6; not advertised
    /// then either); unknown mechanism: `504 5.5.4`.
    mutating func receiveAuth(mechanism: String, initialResponse: String?) -> SMTPServerAction {
        guard self.isExtendedSession else {
            return self.badCommand(.needEhlo)
        }
        if case .transaction = self.state {
            return self.badCommand(.notInTransaction)
        }
        guard self.authenticatedUser == nil else {
            return self.badCommand(.alreadyAuthenticated)
        }
        guard !self.offeredMechanisms.isEmpty else {
            return self.badCommand(.commandNotImplemented)
        }
        guard self.isTLS || self.configuration.allowAuthWithoutTLS else {
            return self.badCommand(.encryptionRequiredForAuth)
        }
        guard self.offeredMechanisms.contains(mechanism) else {
            return self.badCommand(.unrecognizedAuthMechanism)
        }
        switch (mechanism, initialResponse) {
        case ("PLAIN", nil):
            self.state = .authenticating(.plain)
            return .reply(SMTPReply(code: 334, lines: [""]))
        case ("PLAIN", let response?):
            return self.receiveAuthResponse(Array(response.utf8), exchange: .plain)
        case (_, nil):
            self.state = .authenticating(.loginUsername)
            return .reply(SMTPReply(code: 334, lines: [SMTPBase64.encode("Username:")]))
        case (_, let response?):
            return self.receiveAuthResponse(Array(response.utf8), exchange: .loginUsername)
        }
    }

    /// A response to a 334 challenge (or an initial response). `*` cancels
    /// (`501 5.7.0`); invalid base64 gets `501 5.5.2` (RFC 4954 §4).
    mutating func receiveAuthResponse(_ line: [UInt8], exchange: AuthExchange) -> SMTPServerAction {
        self.state = .ready
        if line == [ASCII.asterisk] {
            return .reply(.authCancelled)
        }
        // RFC 4954 §4: "=" is an empty initial response.
        let decoded = line == [ASCII.equals] ? [] : SMTPBase64.decode(line)
        guard let decoded else {
            return self.badCommand(.invalidBase64)
        }
        switch exchange {
        case .plain:
            return self.receivePlainMessage(decoded)
        case .loginUsername:
            guard let username = Self.credentialText(decoded), !username.isEmpty else {
                return self.badCommand(.malformedAuthResponse)
            }
            guard username.utf8.count <= SMTPLimits.authUsernameLength else {
                return self.badCommand(.authFailed)
            }
            self.state = .authenticating(.loginPassword(username: username))
            return .reply(SMTPReply(code: 334, lines: [SMTPBase64.encode("Password:")]))
        case .loginPassword(let username):
            guard let password = Self.credentialText(decoded) else {
                return self.badCommand(.malformedAuthResponse)
            }
            return self.checkCredentials(username: username, password: password, mechanism: "LOGIN")
        }
    }

    /// PLAIN: `message = [authzid] NUL authcid NUL passwd` (RFC 4616 §2). An authzid, if
    /// present, must equal the authcid: we do not let one user act as another.
    private mutating func receivePlainMessage(_ message: [UInt8]) -> SMTPServerAction {
        let parts = message.split(separator: ASCII.nul, omittingEmptySubsequences: false)
        guard parts.count == 3, let authzid = Self.credentialText(parts[0]),
            let username = Self.credentialText(parts[1]), let password = Self.credentialText(parts[2]),
            !username.isEmpty
        else {
            return self.badCommand(.malformedAuthResponse)
        }
        guard authzid.isEmpty || authzid == username else {
            return self.badCommand(.authFailed)
        }
        return self.checkCredentials(username: username, password: password, mechanism: "PLAIN")
    }

    /// A user name over ``SMTPLimits/authUsernameLength`` octets fails here, so it never
    /// becomes a key in the credential store's lockout counters.
    private mutating func checkCredentials(username: String, password: String, mechanism: String) -> SMTPServerAction {
        guard !password.isEmpty, username.utf8.count <= SMTPLimits.authUsernameLength else {
            return self.badCommand(.authFailed)
        }
        self.state = .checkingCredentials
        return .checkCredentials(username: username, password: password, mechanism: mechanism)
    }

    /// UTF-8 text without NUL (RFC 4616 §2: UTF8SAFE), or `nil`.
    private static func credentialText(_ bytes: some Collection<UInt8>) -> String? {
        guard !bytes.contains(ASCII.nul) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    /// The handler's verdict on the credentials from
    /// ``SMTPServerAction/checkCredentials(username:password:mechanism:)``.
    ///
    /// ```
    /// S: 235 2.7.0 Authentication successful   (.success)
    /// S: 535 5.7.8 Authentication credentials invalid   (.failure; counts as a bad command)
    /// S: 454 4.7.0 Temporary authentication failure     (.temporaryFailure)
    /// ```
    public mutating func credentialsChecked(_ result: AuthResult) -> SMTPServerAction {
        guard case .checkingCredentials = self.state else {
            return self.handlerMisuse()
        }
        self.state = .ready
        switch result {
        case .success(let username):
            self.authenticatedUser = username
            return .reply(.authSucceeded)
        case .failure:
            return self.badCommand(.authFailed)
        case .temporaryFailure:
            return .reply(.authTemporaryFailure)
        case .lockedOut(let seconds):
            // Counted as a bad command, so a client that keeps guessing is disconnected.
            return self.badCommand(
                SMTPReply(454, "4.7.0", "Too many failed authentication attempts; try again in \(max(1, seconds)) seconds"))
        }
    }
}
