import Foundation
import HTTPTypes
import Hummingbird
import LogStore
import Logging
import NIOCore
import Queue
import RelayCore

/// The console's pages: each handler reads the request, asks the stores, and renders a
/// template. Account users' queries are scoped by ``ConsoleViewer/scope(_:)``.
struct ConsolePages: Sendable {
    let sessions: ConsoleSessionStore
    let authenticator: ConsoleLogin
    let logs: (any LogReader)?
    let stores: ConsoleStores
    let sessionTTL: ConfigDuration
    let logger: Logger

    // MARK: Login

    func loginForm(
        _ request: Request, _ context: ConsoleRequestContext, message: String? = nil, status: HTTPResponse.Status = .ok
    )
        -> Response
    {
        if context.viewer != nil, message == nil { return Self.redirect("/") }
        // Double submit: the token in a cookie and in the form (there is no session yet).
        let token = context.cookies[ConsoleCookies.login].flatMap { ConsoleCookies.isWellFormedID($0) ? $0 : nil } ?? ConsoleToken.random()
        var values: [String: Any] = ["csrf": token]
        if let message { values["message"] = message }
        var response = render("login", title: context.localization["login.title"], values, context, status: status)
        response.headers.append(
            HTTPField(name: .setCookie, value: ConsoleCookies.setCookie(name: ConsoleCookies.login, value: token, secure: context.secure)))
        return response
    }

    func login(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        var request = request
        let form = FormData.parse(String(buffer: try await request.collectBody(upTo: FormData.maximumSize)))
        guard let expected = context.cookies[ConsoleCookies.login], ConsoleToken.matches(form["csrf"], expected) else {
            return loginForm(request, context, message: context.localization["error.csrf"], status: .forbidden)
        }
        // Bounded: the name also goes to the audit log and the lockout key.
        let name = String((form["name"] ?? "").prefix(64))
        let outcome = try await authenticator.attempt(name: name, password: form["password"] ?? "", clientIP: context.clientIP)
        switch outcome {
        case .lockedOut:
            try? await sessions.audit(actor: name, action: "login.locked", fields: [("ip", context.clientIP ?? "")])
            return loginForm(request, context, message: context.localization["login.locked"], status: .tooManyRequests)
        case .wrongCredentials:
            try? await sessions.audit(actor: name, action: "login.failed", fields: [("ip", context.clientIP ?? "")])
            return loginForm(request, context, message: context.localization["login.failed"], status: .unauthorized)
        case .success(let user):
            // A new id at every login (no fixation), and the old session, if any, ended.
            if let old = context.sessionID { try await sessions.delete(id: old) }
            let id = ConsoleToken.random()
            let record = ConsoleSessionRecord(
                user: user.name, kind: user.kind, account: user.account, csrf: ConsoleToken.random(),
                createdAt: WallClock.iso8601(milliseconds: WallClock.nowMilliseconds()))
            try await sessions.create(record, id: id, ttlMilliseconds: sessionTTL.milliseconds)
            try await sessions.audit(actor: user.name, action: "login", fields: [("ip", context.clientIP ?? "")])
            var response = Self.redirect("/")
            response.headers.append(
                HTTPField(
                    name: .setCookie, value: ConsoleCookies.setCookie(name: ConsoleCookies.session, value: id, secure: context.secure)))
            response.headers.append(
                HTTPField(
                    name: .setCookie,
                    value: ConsoleCookies.setCookie(name: ConsoleCookies.login, value: "", secure: context.secure, maxAge: 0)))
            return response
        }
    }

    func logout(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        var request = request
        guard let viewer = context.viewer, let id = context.sessionID else { return Self.redirect("/login") }
        let form = FormData.parse(String(buffer: try await request.collectBody(upTo: FormData.maximumSize)))
        guard ConsoleToken.matches(form["csrf"], viewer.csrf) else { return errorPage(.forbidden, "error.csrf", context) }
        try await sessions.delete(id: id)
        try await sessions.audit(actor: viewer.user, action: "logout", fields: [])
        var response = Self.redirect("/login")
        response.headers.append(
            HTTPField(
                name: .setCookie,
                value: ConsoleCookies.setCookie(name: ConsoleCookies.session, value: "", secure: context.secure, maxAge: 0)))
        return response
    }

    /// Sets `hk_lang` and returns to `back` (a path on this site only: no open redirect).
    func switchLanguage(_ request: Request, _ context: ConsoleRequestContext) -> Response {
        let language = context.parameters.get("language").flatMap(Language.init(rawValue:)) ?? .ja
        let back = FormData.parse(request.uri.query)["back"] ?? "/"
        let safe = back.hasPrefix("/") && !back.hasPrefix("//") && !back.contains("\\") ? back : "/"
        var response = Self.redirect(safe)
        response.headers.append(
            HTTPField(
                name: .setCookie,
                value: ConsoleCookies.setCookie(
                    name: ConsoleCookies.language, value: language.rawValue, secure: context.secure, maxAge: 365 * 86_400)))
        return response
    }

    // MARK: Rendering

    func render(
        _ template: String, title: String, _ values: [String: Any], _ context: ConsoleRequestContext, status: HTTPResponse.Status = .ok
    )
        -> Response
    {
        var values = values
        let strings = context.localization.templateStrings
        values["t"] = strings
        values["isOperator"] = context.viewer?.isOperator ?? false
        if let viewer = context.viewer, values["csrf"] == nil { values["csrf"] = viewer.csrf }
        let body = Templates.library.render(values, withTemplate: template) ?? ""
        let language = context.localization.language
        var page: [String: Any] = [
            "t": strings, "lang": language.rawValue, "otherLang": language == .ja ? "en" : "ja", "title": title, "body": body,
            "isOperator": context.viewer?.isOperator ?? false,
            "back": FormData.encode(context.requestPath),
        ]
        if let viewer = context.viewer {
            // Absent, not nil: a nil inside `Any` would open a Mustache section.
            var fields = ["user": viewer.user, "csrf": viewer.csrf]
            if let account = viewer.account { fields["account"] = account }
            page["viewer"] = fields
            page["viewerRole"] = context.localization["role.\(viewer.kind.rawValue)"]
        }
        let html = Templates.library.render(page, withTemplate: "layout") ?? ""
        return Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .contentSecurityPolicy: "default-src 'self'; script-src 'unsafe-inline'; style-src 'self'; frame-ancestors 'none'",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            ],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func errorPage(_ status: HTTPResponse.Status, _ key: String, _ context: ConsoleRequestContext) -> Response {
        render(
            "error", title: "\(status.code)", ["status": "\(status.code)", "message": context.localization[key]], context, status: status)
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }
}
