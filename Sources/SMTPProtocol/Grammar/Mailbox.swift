/// A mailbox: `Local-part "@" ( Domain / address-literal )` (RFC 5321 §4.1.2).
///
/// ``localPart`` holds the *value* of the local part: a quoted local part such as
/// `"a b"` is stored unquoted (`a b`) and re-quoted by ``description`` when needed.
/// UTF-8 in the local part and domain is allowed (RFC 6531 §3.3, SMTPUTF8).
/// The domain is kept exactly as given; use ``normalizedDomain`` for comparisons.
public struct Mailbox: Hashable, Sendable {
    /// The local part, unquoted (escapes removed).
    public var localPart: String
    /// The domain or address literal (e.g. `[192.0.2.1]`, `[IPv6:2001:db8::1]`), as given.
    public var domain: String

    public init(localPart: String, domain: String) {
        self.localPart = localPart
        self.domain = domain
    }

    /// Parses `local@domain` (without angle brackets), validating the syntax as the command
    /// parser does. Returns `nil` when the text is not a valid mailbox.
    public init?(parsing text: String) {
        var cursor = ByteCursor(Array(text.utf8))
        guard let mailbox = AddressGrammar.parseMailbox(&cursor), cursor.isAtEnd else {
            return nil
        }
        self = mailbox
    }

    /// Whether the domain is an address literal (`[1.2.3.4]`, `[IPv6:...]`, RFC 5321 §4.1.3).
    public var isAddressLiteral: Bool {
        self.domain.hasPrefix("[")
    }

    /// The domain lowercased with one trailing dot removed, for comparisons and routing.
    public var normalizedDomain: String {
        var domain = self.domain.lowercased()
        if domain.hasSuffix(".") {
            domain.removeLast()
        }
        return domain
    }

    /// Whether the local part or the domain contains non-ASCII characters, which requires
    /// the `SMTPUTF8` extension (RFC 6531 §3.4).
    public var requiresSMTPUTF8: Bool {
        !self.localPart.utf8.allSatisfy { $0 < 0x80 } || !self.domain.utf8.allSatisfy { $0 < 0x80 }
    }
}

extension Mailbox: CustomStringConvertible {
    /// `local@domain`, with the local part written as a Quoted-string when it is not a valid
    /// Dot-string (RFC 5321 §4.1.2).
    public var description: String {
        "\(AddressGrammar.encodeLocalPart(self.localPart))@\(self.domain)"
    }
}
