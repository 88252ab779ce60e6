/// The small pages of the `/u/<token>` endpoint, in Japanese or English: self-contained
/// HTML (no script, no external resource, no cookie), every value escaped.
///
/// `GET` shows ``confirm(_:language:)`` — a button that POSTs `List-Unsubscribe=One-Click`
/// to the same URL — and never unsubscribes by itself, since link scanners and previews
/// fetch every URL in a message (RFC 8058 §1). `POST` answers ``done(_:language:)``.
public enum UnsubscribePage {
    public enum Language: String, Sendable {
        case ja, en

        /// The first of `ja` and `en` in an `Accept-Language` value (RFC 9110 §12.5.4) by
        /// weight, then order; Japanese when it names neither (as the console).
        public init(acceptLanguage: String?) {
            var best: (language: Language, weight: Double)?
            for item in (acceptLanguage ?? "").split(separator: ",") {
                let parts = item.split(separator: ";")
                let tag = parts.first.map { String($0).trimmedSpaces.lowercased() } ?? ""
                let primary = tag.split(separator: "-").first.map(String.init) ?? ""
                guard let language = Language(rawValue: primary) else { continue }
                var weight = 1.0
                for parameter in parts.dropFirst() {
                    let pair = parameter.split(separator: "=")
                    if pair.count == 2, pair[0].trimmedSpaces == "q", let q = Double(pair[1].trimmedSpaces) { weight = q }
                }
                if weight > 0, weight > (best?.weight ?? 0) { best = (language, weight) }
            }
            self = best?.language ?? .ja
        }
    }

    /// What a page says: the form, the result, or why the link does not work.
    public enum Kind: Sendable {
        case confirm, done, invalid, expired, unavailable
    }

    public static func confirm(_ token: UnsubscribeToken, language: Language) -> String {
        render(.confirm, recipient: token.recipient, language: language)
    }

    public static func done(_ token: UnsubscribeToken, language: Language) -> String {
        render(.done, recipient: token.recipient, language: language)
    }

    public static func render(_ kind: Kind, recipient: String? = nil, language: Language) -> String {
        let ja = language == .ja
        let address = recipient.map(escape) ?? ""
        let title: String
        var body: String
        switch kind {
        case .confirm:
            title = ja ? "配信停止の確認" : "Unsubscribe"
            body =
                ja
                ? "<p><strong>\(address)</strong> へのこの送信者からのメール配信を停止しますか？</p>"
                : "<p>Stop mail from this sender to <strong>\(address)</strong>?</p>"
            // An empty action posts to this same URL, whatever path prefix the proxy adds.
            body +=
                "<form method=\"post\" action=\"\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
                + "<button type=\"submit\">\(ja ? "配信を停止する" : "Unsubscribe")</button></form>"
        case .done:
            title = ja ? "配信を停止しました" : "You are unsubscribed"
            body =
                ja
                ? "<p><strong>\(address)</strong> へのこの送信者からのメール配信を停止しました。</p>"
                : "<p>No more mail from this sender will be sent to <strong>\(address)</strong>.</p>"
        case .invalid:
            title = ja ? "無効なリンクです" : "This link is not valid"
            body =
                ja
                ? "<p>この配信停止リンクは正しくありません。メールに記載されたリンクをそのままお使いください。</p>"
                : "<p>This unsubscribe link is not valid. Please use the link exactly as it appears in the message.</p>"
        case .expired:
            title = ja ? "リンクの有効期限が切れています" : "This link has expired"
            body =
                ja
                ? "<p>この配信停止リンクは有効期限が切れています。新しいメールに記載されたリンクをお使いください。</p>"
                : "<p>This unsubscribe link has expired. Please use the link in a more recent message.</p>"
        case .unavailable:
            title = ja ? "ただいま処理できません" : "Please try again"
            body =
                ja
                ? "<p>ただいま配信停止を受け付けられません。しばらくしてからもう一度お試しください。</p>"
                : "<p>The unsubscribe could not be recorded just now. Please try again in a few minutes.</p>"
        }
        return """
            <!DOCTYPE html>
            <html lang="\(language.rawValue)"><head><meta charset="utf-8">\
            <meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">\
            <title>\(title)</title>\
            <style>body{font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em;line-height:1.6}\
            button{font-size:1.1em;padding:.5em 1.5em}</style></head>
            <body><h1>\(title)</h1>\(body)</body></html>

            """
    }

    /// `&`, `<`, `>`, `"` and `'` as character references.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}

extension StringProtocol {
    fileprivate var trimmedSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
