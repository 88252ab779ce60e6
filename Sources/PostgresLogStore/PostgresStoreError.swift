import Foundation
import PostgresNIO
import RelayCore

/// A PostgreSQL failure in words an operator can act on, without the password (PostgresNIO's
/// own description is deliberately generic; its reflection may quote the query's values).
public struct PostgresStoreError: Error, CustomStringConvertible {
    public let description: String

    init(_ error: any Error, url: PostgresURL, password: String?) {
        if let already = error as? PostgresStoreError {
            description = already.description
            return
        }
        var text: String
        if let psql = error as? PSQLError {
            text = "\(psql.code)"
            if let message = psql.serverInfo?[.message] {
                text += ": " + message + (psql.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
            } else if let underlying = psql.underlying {
                text += ": \(underlying)"
            }
        } else {
            text = "\(error)"
        }
        if let password, !password.isEmpty { text = text.replacingAll(password, with: "***") }
        description = "PostgreSQL \(url.redacted): " + text
    }
}

extension String {
    fileprivate func replacingAll(_ needle: String, with replacement: String) -> String {
        guard !needle.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let range = rest.range(of: needle) {
            out += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}
