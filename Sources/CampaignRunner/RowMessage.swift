import Campaigns
import Foundation
import MessageComposer
import RelayCore

/// One row's message: the templates rendered with the row's columns, composed (MIME,
/// RFC 2047) with the campaign's `From:`, the row's address in `To:`, a `Message-ID:`
/// derived from campaign and row, and the List-Unsubscribe fields (RFC 2369, RFC 8058) —
/// added here, before the intake signs the message, so DKIM covers them.
struct RowMessage {
    let campaign: Campaign
    let templates: CampaignTemplates
    let columns: [String]
    let emailIndex: Int
    let hostname: String

    struct Composed {
        var email: String
        var bytes: [UInt8]
    }

    enum Problem: Error, CustomStringConvertible {
        case unreadableRow(String)
        case composition(String)
        var description: String {
            switch self {
            case .unreadableRow(let text): "unreadable row: \(text)"
            case .composition(let text): "cannot compose: \(text)"
            }
        }
    }

    /// The address column of a stored row.
    func email(stored: String) throws(Problem) -> String {
        guard let values = try? JSONDecoder().decode([String].self, from: Data(stored.utf8)), emailIndex < values.count else {
            throw .unreadableRow(String(stored.prefix(80)))
        }
        return values[emailIndex]
    }

    func compose(row: Int, stored: String, unsubscribe: [(name: String, value: String)]?) throws(Problem) -> Composed {
        guard let values = try? JSONDecoder().decode([String].self, from: Data(stored.utf8)), values.count == columns.count,
            emailIndex < values.count
        else { throw .unreadableRow(String(stored.prefix(80))) }
        var variables: [String: String] = [:]
        for (name, value) in zip(columns, values) { variables[name] = value }
        let rendered = templates.render(variables)
        let email = values[emailIndex]
        let draft = MessageDraft(
            from: NameAddress(name: campaign.fromName, address: campaign.fromAddress), to: [NameAddress(address: email)],
            subject: rendered.subject, text: rendered.text, html: rendered.html, headers: unsubscribe ?? [],
            messageID: campaign.messageID(row: row, hostname: hostname),
            date: WallClock.rfc5322Date(milliseconds: WallClock.nowMilliseconds()))
        do {
            return Composed(email: email, bytes: try MessageComposer.compose(draft))
        } catch {
            throw .composition(error.description)
        }
    }
}
