/// The handler's verdict on credentials, passed to
/// ``SMTPServerStateMachine/credentialsChecked(_:)``.
public enum AuthResult: Hashable, Sendable {
    /// Valid; the session is authenticated as this user (`235 2.7.0`).
    case success(String)
    /// Invalid (`535 5.7.8`).
    case failure
    /// Could not be checked now, e.g. the credential store is unreachable (`454 4.7.0`).
    case temporaryFailure
    /// Too many failures from this address or for this user: not checked at all for this
    /// many more seconds (`454 4.7.0 … try again in N seconds`).
    case lockedOut(seconds: Int)
}
