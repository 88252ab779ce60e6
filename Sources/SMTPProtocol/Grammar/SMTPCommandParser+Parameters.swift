extension SMTPCommandParser {
    /// Parameters recognised on MAIL besides SIZE, BODY and SMTPUTF8: `AUTH` (RFC 4954 §5),
    /// `RET`, `ENVID` (RFC 3461 §4.3, 4.4), `REQUIRETLS` (RFC 8689 §4.1).
    static let otherMailParameters: Set<String> = ["AUTH", "RET", "ENVID", "REQUIRETLS"]
    /// Parameters recognised on RCPT: `NOTIFY`, `ORCPT` (RFC 3461 §4.1, 4.2).
    static let rcptParameterKeywords: Set<String> = ["NOTIFY", "ORCPT"]

    /// `*( SP esmtp-param )` after a path; `esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")`,
    /// `esmtp-value = 1*(%d33-60 / %d62-126)` plus UTF-8 (RFC 5321 §4.1.2, RFC 6531 §3.3).
    static func parseParameterList(_ cursor: inout ByteCursor) throws(SMTPCommandError) -> [ESMTPParameter] {
        guard cursor.isAtEnd || cursor.skipSpaces() > 0 else {
            throw .invalidArguments("Syntax error: garbage after the address")
        }
        var parameters: [ESMTPParameter] = []
        while !cursor.isAtEnd {
            let token = cursor.readToken()
            cursor.skipSpaces()
            let keyword: ArraySlice<UInt8>
            let value: ArraySlice<UInt8>?
            if let equals = token.firstIndex(of: ASCII.equals) {
                keyword = token[..<equals]
                value = token[(equals + 1)...]
            } else {
                keyword = token
                value = nil
            }
            guard let first = keyword.first, ASCII.isAlpha(first) || ASCII.isDigit(first),
                keyword.allSatisfy({ ASCII.isAlpha($0) || ASCII.isDigit($0) || $0 == ASCII.hyphen })
            else {
                throw .invalidArguments("Syntax error in parameters")
            }
            var valueString: String?
            if let value {
                guard !value.isEmpty,
                    value.allSatisfy({ (33...126).contains($0) && $0 != ASCII.equals || $0 >= 0x80 }),
                    let string = String(validating: value, as: UTF8.self)
                else {
                    throw .invalidArguments("Syntax error in parameters")
                }
                valueString = string
            }
            let parameter = ESMTPParameter(keyword: ASCII.uppercasedString(keyword), value: valueString)
            guard !parameters.contains(where: { $0.keyword == parameter.keyword }) else {
                throw .invalidArguments("Duplicate parameter: \(parameter.keyword)")
            }
            parameters.append(parameter)
        }
        return parameters
    }

    /// Sorts MAIL parameters into ``MailParameters``; unknown keywords → `555 5.5.4`.
    static func mailParameters(_ parameters: [ESMTPParameter]) throws(SMTPCommandError) -> MailParameters {
        var result = MailParameters()
        for parameter in parameters {
            switch parameter.keyword {
            case "SIZE":
                // RFC 1870 §6: size-value = 1*20DIGIT; a value beyond Int is "too large" anyway.
                guard let value = parameter.value, (1...20).contains(value.utf8.count), value.utf8.allSatisfy(ASCII.isDigit) else {
                    throw .invalidArguments("Bad SIZE parameter")
                }
                result.size = Int(value) ?? Int.max
            case "BODY":
                switch parameter.value?.uppercased() {
                case "7BIT": result.body = .sevenBit
                case "8BITMIME": result.body = .eightBitMIME
                default: throw .invalidArguments("Unsupported BODY type")
                }
            case "SMTPUTF8":
                guard parameter.value == nil else { throw .invalidArguments("SMTPUTF8 takes no value") }
                result.smtpUTF8 = true
            case let keyword where self.otherMailParameters.contains(keyword):
                result.other.append(parameter)
            default:
                throw .unrecognizedParameter(parameter.keyword)
            }
        }
        return result
    }

    /// Checks RCPT parameters; unknown keywords → `555 5.5.4`.
    static func rcptParameters(_ parameters: [ESMTPParameter]) throws(SMTPCommandError) -> [ESMTPParameter] {
        for parameter in parameters where !self.rcptParameterKeywords.contains(parameter.keyword) {
            throw .unrecognizedParameter(parameter.keyword)
        }
        return parameters
    }
}
