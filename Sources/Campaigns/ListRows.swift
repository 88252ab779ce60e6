import SMTPProtocol

/// CSV records to list rows: the header row names the columns, one of them (`email`, or the
/// one named) holds the address; every later record becomes a row of the same width, or a
/// problem with its line number. Pure; the importer feeds it records as they are parsed.
///
/// ```
/// email,name,会社
/// taro@example.jp,太郎,㈱サンプル      → row ["taro@example.jp", "太郎", "㈱サンプル"]
/// not-an-address,花子,               → line 3: 'not-an-address' is not an email address
/// ```
public struct ListRows: Sendable {
    public struct Row: Sendable, Equatable {
        public var line: Int
        /// The address as written (trimmed), and lower-cased for duplicate and suppression checks.
        public var email: String
        public var key: String
        public var values: [String]
    }

    public enum Outcome: Sendable, Equatable {
        case header([String])
        case row(Row)
        case invalid(line: Int, problem: String)
    }

    public let emailColumnName: String
    public private(set) var columns: [String]?
    public private(set) var emailIndex = 0
    /// The longest a column name or an address may be.
    public static let maxNameLength = 64
    public static let maxAddressLength = 254

    public init(emailColumn: String = "email") { self.emailColumnName = emailColumn }

    /// The header (first record) or a row. A bad header throws: nothing can be imported.
    public mutating func take(_ record: CSVParser.Record, decoder: FieldDecoder) throws(ListImportError) -> Outcome {
        switch record {
        case .invalid(let line, let problem):
            if columns == nil { throw ListImportError("line \(line): the header row is unreadable: \(problem)") }
            return .invalid(line: line, problem: problem)
        case .fields(let line, let raw):
            var values: [String] = []
            values.reserveCapacity(raw.count)
            for bytes in raw {
                guard let value = decoder.decode(bytes) else {
                    if columns == nil { throw ListImportError("line \(line): the header row is not valid \(decoder.encoding.rawValue)") }
                    return .invalid(line: line, problem: "not valid \(decoder.encoding.rawValue) text")
                }
                values.append(value)
            }
            guard let columns else { return try header(values, line: line) }
            if values.count != columns.count {
                return .invalid(line: line, problem: "\(values.count) fields; the header has \(columns.count)")
            }
            let email = values[emailIndex].trimming(" \t")
            guard email.utf8.count <= Self.maxAddressLength, let mailbox = Mailbox(parsing: email), !mailbox.isAddressLiteral,
                mailbox.domain.contains(".")
            else {
                return .invalid(line: line, problem: "'\(String(email.prefix(80)))' is not an email address")
            }
            values[emailIndex] = email
            return .row(Row(line: line, email: email, key: mailbox.localPart.lowercased() + "@" + mailbox.normalizedDomain, values: values))
        }
    }

    private mutating func header(_ values: [String], line: Int) throws(ListImportError) -> Outcome {
        var names: [String] = []
        for (index, raw) in values.enumerated() {
            var name = raw.trimming(" \t")
            if index == 0, name.hasPrefix("\u{FEFF}") { name.removeFirst() }
            guard !name.isEmpty, name.count <= Self.maxNameLength, !name.contains(where: { "{}#^/!<>&=".contains($0) }) else {
                throw ListImportError("line \(line): column \(index + 1) has no usable name ('\(String(raw.prefix(40)))')")
            }
            guard !names.contains(name) else { throw ListImportError("line \(line): column '\(name)' appears twice") }
            names.append(name)
        }
        guard let index = names.firstIndex(where: { $0.lowercased() == emailColumnName.lowercased() }) else {
            throw ListImportError("line \(line): no column named '\(emailColumnName)' (use --email-column)")
        }
        columns = names
        emailIndex = index
        return .header(names)
    }
}

/// Why a list cannot be imported at all.
public struct ListImportError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension StringProtocol {
    func trimming(_ set: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, set.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, set.contains(last) { scalars.removeLast() }
        return String(scalars)
    }
}
