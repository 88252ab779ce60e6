import Foundation
import Mustache

/// A campaign's subject, HTML and text as Mustache templates (the engine of the batch API),
/// rendered once per row with the list's columns as variables: `{{name}}` is HTML-escaped
/// in the HTML part and left as is in the subject and text. Variables are strings, so a
/// section is a condition, never a loop, and a row cannot make a message larger than its
/// template and values.
public struct CampaignTemplates: Sendable {
    public struct Rendered: Sendable, Equatable {
        public var subject: String
        public var text: String
        public var html: String?
    }

    let subject: MustacheTemplate
    let text: MustacheTemplate?
    let html: MustacheTemplate?

    /// Throws a ``TemplateError`` naming the field that does not parse; needs HTML or text.
    public init(subject: String, html: String?, text: String?) throws(TemplateError) {
        guard html != nil || text != nil else { throw TemplateError(field: "html", problem: "a campaign needs HTML or text") }
        self.subject = try Self.parse(subject, field: "subject", html: false)!
        self.html = try Self.parse(html, field: "html", html: true)
        self.text = try Self.parse(text, field: "text", html: false)
    }

    static func parse(_ source: String?, field: String, html: Bool) throws(TemplateError) -> MustacheTemplate? {
        guard let source else { return nil }
        do {
            let named = Self.asciiNames(source)
            return try MustacheTemplate(string: html ? named : "{{% CONTENT_TYPE: TEXT}}" + named)
        } catch {
            throw TemplateError(field: field, problem: "not a valid Mustache template: \(error)")
        }
    }

    /// swift-mustache reads only ASCII names; a list's columns are often Japanese
    /// (`{{会社}}`). Such a name is written as `_x` and its UTF-8 in hex, in the templates
    /// (every tag form: `{{…}}`, `{{{…}}}`, `{{#…}}`, `{{^…}}`, `{{/…}}`, `{{&…}}`) and in the
    /// variables alike.
    public static func variableName(_ name: String) -> String {
        if name.utf8.allSatisfy({ $0 < 0x80 }) { return name }
        return "_x" + name.utf8.map { String($0, radix: 16, uppercase: false).leftPadded(2) }.joined()
    }

    static func asciiNames(_ source: String) -> String {
        guard !source.utf8.allSatisfy({ $0 < 0x80 }) else { return source }
        var out = ""
        var rest = Substring(source)
        while let open = rest.range(of: "{{") {
            out += rest[..<open.upperBound]
            rest = rest[open.upperBound...]
            guard let close = rest.range(of: "}}") else { break }
            var tag = rest[..<close.lowerBound]
            var prefix = ""
            while let first = tag.first, "{#^/&! ".contains(first) {
                prefix.append(first)
                tag = tag.dropFirst()
            }
            if prefix.contains("!") {
                out += prefix + tag
            } else {
                var suffix = ""
                while let last = tag.last, last == " " || last == "}" {
                    suffix = String(last) + suffix
                    tag = tag.dropLast()
                }
                out += prefix + variableName(String(tag)) + suffix
            }
            rest = rest[close.lowerBound...]
        }
        return out + rest
    }

    /// The message parts for one row; the text part is made from the HTML when none was given.
    public func render(_ row: [String: String]) -> Rendered {
        var variables: [String: String] = [:]
        for (name, value) in row { variables[Self.variableName(name)] = value }
        let subjectLine = String(
            String.UnicodeScalarView(subject.render(variables).unicodeScalars.map { $0 == "\r" || $0 == "\n" ? " " : $0 }))
        let htmlPart = html?.render(variables)
        let textPart = text?.render(variables) ?? HTMLText.plain(htmlPart ?? "")
        return Rendered(subject: subjectLine, text: textPart, html: htmlPart)
    }
}

public struct TemplateError: Error, Sendable, CustomStringConvertible {
    public var field: String
    public var problem: String
    public var description: String { "\(field): \(problem)" }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
