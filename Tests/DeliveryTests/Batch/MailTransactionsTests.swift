import HikyakuTestSupport
import Logging
import NIOCore
import RelayCore
import ReturnPath
import SMTPProtocol
import Secrets
import Testing

@testable import Delivery
@testable import Queue

/// How a work item's recipients become mail transactions: several RCPTs per transaction
/// for plain mail; one per transaction, each from its own verifiable VERP address, for a
/// message with a return path.
@Suite struct MailTransactionsTests {
    static let keyring = try! SecretKeyring(keys: [SecretKeyring.Key(id: "01234567", material: [UInt8](repeating: 7, count: 32))])
    static let id = QueueID(rawValue: "01JDQ3T6Z8F0M4X2KP")
    static let recipients: [Mailbox] = ["ann@example.net", "bob@example.net", "cy@example.net"]

    static func message(returnPath: (String, [String])?) -> StoredMessage {
        var message = StoredMessage(
            queueID: id, sender: .mailbox("app@acme.example"), account: "acme", messageID: "<m@acme.example>", acceptedAt: 0,
            body: ByteBuffer(string: "x\r\n"))
        message.returnPath = returnPath
        return message
    }

    static func item(_ recipients: [Mailbox]) -> WorkItem {
        WorkItem(entryID: "1-0", queueID: id, recipients: recipients, previousAttempts: 0, acceptedAt: 0)
    }

    static func planner(keyring: SecretKeyring? = keyring, perTransaction: Int = 100) -> MailTransactions {
        MailTransactions(keyring: keyring, maxRecipientsPerTransaction: perTransaction, logger: Logger(label: "test"))
    }

    @Test func plainMailKeepsItsSenderAndGroupsRecipients() {
        let plan = Self.planner(perTransaction: 2).plan(Self.item(Self.recipients), message: Self.message(returnPath: nil))
        #expect(plan.map(\.recipients) == [Array(Self.recipients[0..<2]), [Self.recipients[2]]])
        #expect(plan.allSatisfy { $0.sender == .mailbox("app@acme.example") })
    }

    @Test func verpSendsEachRecipientFromItsOwnVerifiableAddress() throws {
        // The index order is the enqueue's (domain-sorted); a retry item may hold a subset.
        let index = ["zed@other.example", "bob@example.net", "ann@example.net", "cy@example.net"]
        let message = Self.message(returnPath: ("bounces.acme.example", index))
        let retry = [Self.recipients[2], Self.recipients[0]]
        let plan = Self.planner().plan(Self.item(retry), message: message)
        #expect(plan.map(\.recipients) == [[Self.recipients[2]], [Self.recipients[0]]])
        for transaction in plan {
            let sender = try #require(transaction.sender.mailbox)
            #expect(sender.domain == "bounces.acme.example")
            let token = try VERPToken.verify(localPart: sender.localPart, keyring: Self.keyring)
            #expect(token.queueID == Self.id)
            #expect(index[token.recipientIndex] == transaction.recipients[0].description)
            #expect(token.matches(account: "acme"))
        }
        // The same addresses on every attempt.
        #expect(Self.planner().plan(Self.item(retry), message: message).map(\.sender) == plan.map(\.sender))
    }

    @Test func withoutAKeyFileOrAnIndexEntryTheOriginalSenderIsUsed() {
        let message = Self.message(returnPath: ("bounces.acme.example", ["ann@example.net"]))
        let noKey = Self.planner(keyring: nil).plan(Self.item(Self.recipients), message: message)
        #expect(noKey.count == 1 && noKey[0].sender == .mailbox("app@acme.example") && noKey[0].recipients == Self.recipients)
        let partial = Self.planner().plan(Self.item(Self.recipients), message: message)
        #expect(partial.count == 2)
        #expect(partial[0].recipients == [Self.recipients[0]] && partial[0].sender != .mailbox("app@acme.example"))
        #expect(partial[1].recipients == Array(Self.recipients[1...]) && partial[1].sender == .mailbox("app@acme.example"))
    }
}
