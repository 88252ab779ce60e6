import Logging
import Queue
import RelayCore
import ReturnPath
import SMTPProtocol
import Secrets
import Synchronization

/// How one work item's recipients are split into mail transactions, and the envelope
/// sender of each.
///
/// A plain message: up to `max_recipients_per_transaction` recipients per transaction,
/// from the original sender. A VERP message (its account has a return-path domain): one
/// transaction per recipient, each from that recipient's own address, so a bounce names
/// its recipient by where it comes back to:
///
///     C: MAIL FROM:<b-…(token of recipient 0)…@bounces.example.com>
///     C: RCPT TO:<ann@example.net>
///     C: DATA …
///     C: MAIL FROM:<b-…(token of recipient 1)…@bounces.example.com>
///     C: RCPT TO:<bob@example.net>
///
/// on the same connection; a completed transaction leaves the session ready for the next
/// MAIL (RFC 5321 §3.3), so no RSET goes between them. The token is deterministic: a
/// retry sends the same address. A recipient that cannot get a token (no key file on this
/// worker, or not in the stored index) is sent with the original sender instead, with a
/// warning — a bounce for it then goes to the sender as it would without VERP.
struct MailTransactions {
    struct Transaction {
        var sender: ReversePath
        var recipients: [Mailbox]
    }

    /// The key file's keys (nil: this worker has no `secrets.key_file`).
    let keyring: SecretKeyring?
    let maxRecipientsPerTransaction: Int
    let logger: Logger

    func plan(_ item: WorkItem, message: StoredMessage) -> [Transaction] {
        guard let returnPath = message.returnPath else { return plain(item.recipients, from: message.sender) }
        guard let keyring else {
            if !Self.warnedNoKeyFile.exchange(true, ordering: .relaxed) {
                logger.warning(
                    "messages with a VERP return path are sent with their own envelope sender: this worker has no secrets.key_file (README, \"Secrets\")"
                )
            }
            return plain(item.recipients, from: message.sender)
        }
        var verp: [Transaction] = []
        var unsigned: [Mailbox] = []
        var problem = ""
        for recipient in item.recipients {
            guard let index = message.recipientIndex(of: recipient) else {
                unsigned.append(recipient)
                problem = "\(recipient) is not in its recipient index"
                continue
            }
            let token = VERPToken(queueID: message.queueID, recipientIndex: index, account: message.account ?? "")
            do {
                let sender = Mailbox(localPart: try token.encode(keyring: keyring), domain: returnPath.domain)
                verp.append(Transaction(sender: .mailbox(sender), recipients: [recipient]))
            } catch {
                unsigned.append(recipient)
                problem = "\(error)"
            }
        }
        if !unsigned.isEmpty {
            logger.warning(
                "VERP message sent with its own envelope sender for \(unsigned.count) recipient(s): \(problem)",
                metadata: ["queue_id": "\(message.queueID)", "return_path_domain": "\(returnPath.domain)"])
        }
        return verp + plain(unsigned, from: message.sender)
    }

    private static let warnedNoKeyFile = Atomic(false)

    private func plain(_ recipients: [Mailbox], from sender: ReversePath) -> [Transaction] {
        recipients.chunks(of: maxRecipientsPerTransaction).map { Transaction(sender: sender, recipients: Array($0)) }
    }
}
