import Foundation
import Hummingbird
import Queue

/// Every console form that changes something goes through ``posted(_:_:operatorOnly:)``:
/// a logged-in viewer (operators only, where asked: others get the 404 of a page that does
/// not exist), then the session's CSRF token in the form; and after the change,
/// ``audit(_:_:_:_:)`` records who did what, from where, in the `audit` stream.
extension ConsolePages {
    enum Posted {
        case form(ConsoleViewer, [String: String])
        case refused(Response)
    }

    func posted(_ request: Request, _ context: ConsoleRequestContext, operatorOnly: Bool) async throws -> Posted {
        guard let viewer = context.viewer else { return .refused(Self.redirect("/login")) }
        if operatorOnly, !viewer.isOperator { return .refused(errorPage(.notFound, "error.notFound", context)) }
        var request = request
        let form = FormData.parse(String(buffer: try await request.collectBody(upTo: FormData.maximumSize)))
        guard ConsoleToken.matches(form["csrf"], viewer.csrf) else { return .refused(errorPage(.forbidden, "error.csrf", context)) }
        return .form(viewer, form)
    }

    func audit(_ viewer: ConsoleViewer, _ action: String, _ fields: [(String, String)], _ context: ConsoleRequestContext) async throws {
        try await sessions.audit(actor: viewer.user, action: action, fields: fields + [("ip", context.clientIP ?? "")])
    }

    /// Operators only: nil to go on, else the response (login, or a 404 for an account user).
    func operatorOnly(_ context: ConsoleRequestContext) -> Response? {
        guard let viewer = context.viewer else { return Self.redirect("/login") }
        return viewer.isOperator ? nil : errorPage(.notFound, "error.notFound", context)
    }

    /// The account an account page is about: an account user's own (naming another is a
    /// 404, as for a page that does not exist), or the one an operator chose (nil: none yet).
    enum PageAccount {
        case chosen(String?)
        case refused(Response)
    }

    func pageAccount(_ requested: String?, _ viewer: ConsoleViewer, _ context: ConsoleRequestContext) -> PageAccount {
        let requested = requested.flatMap { $0.isEmpty ? nil : String($0.prefix(64)) }
        if viewer.isOperator { return .chosen(requested) }
        guard let own = viewer.account, requested == nil || requested == own else {
            return .refused(errorPage(.notFound, "error.notFound", context))
        }
        return .chosen(own)
    }

    /// The notice `?done=key` asks for, when `key` is one the catalogue has (never echoed).
    static func notice(_ query: [String: String], _ loc: Localization) -> String? {
        guard let key = query["done"], key.allSatisfy({ $0.isLetter || $0 == "_" }), key.count <= 40 else { return nil }
        let text = loc["done.\(key)"]
        return text == "done.\(key)" ? nil : text
    }

    /// A short name typed into a form (site, IP, account): trimmed, at most `limit`
    /// characters, no spaces or controls; nil when empty or not like that.
    static func name(_ text: String?, limit: Int = 255) -> String? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty, text.count <= limit,
            !text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F })
        else { return nil }
        return text
    }
}
