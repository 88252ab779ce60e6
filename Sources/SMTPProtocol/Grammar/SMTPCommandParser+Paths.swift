extension SMTPCommandParser {
    /// The result of parsing `Reverse-path` / `Forward-path`.
    enum ParsedPath {
        case null
        case postmaster
        case mailbox(Mailbox, hadSourceRoute: Bool)
    }

    /// `MAIL FROM:<reverse-path> [SP Mail-parameters]` (RFC 5321 §4.1.1.2).
    static func parseMail(_ cursor: inout ByteCursor) throws(SMTPCommandError) -> SMTPCommand {
        guard cursor.consumeCaseInsensitive("FROM:") else {
            throw .invalidArguments("Syntax: MAIL FROM:<address>")
        }
        cursor.skipSpaces()
        let path: ReversePath
        switch self.parsePath(&cursor, allowNull: true, allowPostmaster: false) {
        case .null: path = .null
        case .mailbox(let mailbox, _): path = .mailbox(mailbox)
        case .postmaster, nil: throw .badSenderAddress
        }
        let parameters = try self.parseParameterList(&cursor)
        return .mail(path, try self.mailParameters(parameters))
    }

    /// `RCPT TO:( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path ) [SP Rcpt-parameters]`
    /// (RFC 5321 §4.1.1.3).
    static func parseRcpt(_ cursor: inout ByteCursor) throws(SMTPCommandError) -> SMTPCommand {
        guard cursor.consumeCaseInsensitive("TO:") else {
            throw .invalidArguments("Syntax: RCPT TO:<address>")
        }
        cursor.skipSpaces()
        let path: ForwardPath
        switch self.parsePath(&cursor, allowNull: false, allowPostmaster: true) {
        case .postmaster: path = .postmaster
        case .mailbox(let mailbox, let hadSourceRoute): path = ForwardPath(mailbox, hadSourceRoute: hadSourceRoute)
        case .null, nil: throw .badRecipientAddress
        }
        let parameters = try self.parseParameterList(&cursor)
        return .rcpt(path, try self.rcptParameters(parameters))
    }

    /// `Path = "<" [ A-d-l ":" ] Mailbox ">"`, `A-d-l = At-domain *( "," At-domain )`
    /// (RFC 5321 §4.1.2). The source route (A-d-l) is checked and dropped.
    static func parsePath(_ cursor: inout ByteCursor, allowNull: Bool, allowPostmaster: Bool) -> ParsedPath? {
        guard cursor.consume(ASCII.lessThan) else { return nil }
        if cursor.consume(ASCII.greaterThan) {
            return allowNull ? .null : nil
        }
        var hadSourceRoute = false
        if cursor.peek() == ASCII.at {
            repeat {
                guard cursor.consume(ASCII.at), AddressGrammar.parseDomain(&cursor, allowTrailingDot: false) != nil else {
                    return nil
                }
            } while cursor.consume(ASCII.comma)
            guard cursor.consume(ASCII.colon) else { return nil }
            hadSourceRoute = true
        }
        if allowPostmaster, !hadSourceRoute {
            let mark = cursor.index
            if cursor.consumeCaseInsensitive("postmaster"), cursor.consume(ASCII.greaterThan) {
                return .postmaster
            }
            cursor.rewind(to: mark)
        }
        guard let mailbox = AddressGrammar.parseMailbox(&cursor), cursor.consume(ASCII.greaterThan) else {
            return nil
        }
        return .mailbox(mailbox, hadSourceRoute: hadSourceRoute)
    }
}
