import Campaigns
import Foundation
import Ingest
import Queue
import RelayCore
import SMTPProtocol

extension CampaignRunner {
    /// How a row's enqueue ended, for the step.
    enum RowOutcome {
        /// Queued, all suppressed, or found already enqueued: its bit is set.
        case settled
        /// Not stored; try this row again later (quota, Redis, account paused).
        case later(milliseconds: Int64, why: String)
        /// The row itself cannot be sent (bad address or content): settled as `failed`.
        case rowFailed(String)
        /// The campaign cannot go on (its From refused by the account's policy, …).
        case campaignFailed(String)
    }

    /// One step of a held campaign: up to `chunk_size` rows that the window, the campaign's
    /// rate and each site's budget (``SendPacing``, `max_queued_per_site`) allow, enqueued;
    /// then the cursor moved past every settled row. Rows whose site has no budget now wait
    /// in the runner's memory by site (``Held/waiting``, a row number each) while rows behind
    /// them, for other sites, go ahead: a campaign trickles to docomo and flows to Gmail
    /// whatever the list's order. Returns how many rows were enqueued.
    func step(_ h: Held, record: CampaignStore.Record) async throws -> Int {
        let now = WallClock.nowMilliseconds()
        let id = h.campaign.id
        if now < h.campaign.startAt || now < h.pausedUntil { return 0 }
        if let window = h.campaign.window, !window.isOpen(at: now) { return 0 }
        if record.state == CampaignState.scheduled.rawValue {
            try await store.transition(id, to: "running", from: ["scheduled"])
        }
        if record.cursor >= h.rows {
            try await store.transition(id, to: "sent", from: ["running", "scheduled"])
            logger.notice("campaigns: campaign \(id) sent: every row enqueued")
            return 0
        }
        guard let account = accounts.account(named: h.campaign.account) else {
            try await store.transition(id, to: "failed", from: ["running"], reason: "account \(h.campaign.account) does not exist")
            return 0
        }
        h.frontier = max(h.frontier, record.cursor)
        var wanted = settings.chunkSize
        if var bucket = h.bucket {
            wanted = bucket.take(wanted, now: now)
            h.bucket = bucket
        }
        let pool = PoolName(rawValue: h.campaign.pool ?? account.pool.rawValue)
        var budget = SiteBudget(pool: pool, settings: settings, store: store)
        var picked: [(row: Int, stored: String?, site: SiteName?)] = []

        // First the rows waiting for a site that has room now, lowest row first.
        for site in h.waiting.keys.sorted(by: { (h.waiting[$0]?.first ?? .max) < (h.waiting[$1]?.first ?? .max) }) {
            guard picked.count < wanted else { break }
            let room = try await budget.remaining(site, domains: h.siteDomains[site] ?? [], rate: h.siteRates[site] ?? nil)
            for row in h.waiting[site, default: RowQueue()].take(min(room, wanted - picked.count)) {
                picked.append((row, nil, site))
                budget.spend(site)
            }
            if h.waiting[site]?.isEmpty == true { h.waiting[site] = nil }
        }
        // Then new rows past the frontier, in pieces of a list chunk.
        var examined = 0
        while picked.count < wanted, h.frontier < h.rows, examined < Self.examinePerStep, h.waitingCount < Self.maxWaiting {
            let from = h.frontier
            let count = min(ListStore.chunkRows - from % ListStore.chunkRows, h.rows - from)
            let done = try await store.doneRows(id, from: from, count: count)
            let stored = try await lists.rows(account: h.campaign.account, name: h.campaign.list, from: from, count: count)
            guard stored.count == count else {
                // Fewer rows than the list had when the campaign was made: it was deleted or replaced.
                try await store.transition(
                    id, to: "failed", from: ["running", "scheduled"], reason: "list '\(h.campaign.list)' was deleted or changed")
                return 0
            }
            for offset in 0..<count {
                let row = from + offset
                h.frontier = row + 1
                examined += 1
                if done[offset] { continue }
                guard let domain = Self.domain(of: stored[offset], emailIndex: h.message.emailIndex) else {
                    picked.append((row, stored[offset], nil))  // refused as a row by the enqueue
                    if picked.count >= wanted { break } else { continue }
                }
                let resolved = await sites.site(of: domain)
                let site = resolved.name
                h.siteRates[site] = resolved.rate
                if h.siteDomains[site, default: []].insert(domain).inserted { try await budget.add(domain, to: site) }
                if h.waiting[site] == nil, try await budget.remaining(site, domains: h.siteDomains[site] ?? [], rate: resolved.rate) > 0 {
                    picked.append((row, stored[offset], site))
                    budget.spend(site)
                } else {
                    h.waiting[site, default: RowQueue()].append(row)
                }
                if picked.count >= wanted { break }
            }
        }
        if var bucket = h.bucket, picked.count < wanted {
            bucket.giveBack(wanted - picked.count)
            h.bucket = bucket
        }
        // The rows taken from the waiting queues are read now.
        let unread = picked.filter { $0.stored == nil }.map(\.row)
        let texts = try await lists.rows(account: h.campaign.account, name: h.campaign.list, at: unread)
        let chosen: [(row: Int, stored: String, site: SiteName?)] = picked.map { ($0.row, $0.stored ?? texts[$0.row] ?? "", $0.site) }

        var origin = MessageIntake.Submitter(
            listener: "campaign", clientIP: nil, authUser: "campaign:\(id)", account: account, logger: logger)
        origin.logger[metadataKey: "campaign"] = "\(id)"
        if let pool = h.campaign.pool { origin.account?.pool = PoolName(rawValue: pool) }
        let submitter = origin
        let outcomes = await withTaskGroup(of: (Int, RowOutcome).self) { group in
            var results: [(Int, RowOutcome)] = []
            var next = 0
            while next < min(chosen.count, 16) {
                let (row, text, _) = chosen[next]
                group.addTask { (row, await self.enqueue(row: row, stored: text, held: h, submitter: submitter)) }
                next += 1
            }
            while let result = await group.next() {
                results.append(result)
                if next < chosen.count {
                    let (row, text, _) = chosen[next]
                    group.addTask { (row, await self.enqueue(row: row, stored: text, held: h, submitter: submitter)) }
                    next += 1
                }
            }
            return results
        }
        let siteOfRow = Dictionary(chosen.compactMap { c in c.site.map { (c.row, $0) } }, uniquingKeysWith: { a, _ in a })
        var enqueued = 0
        for (row, outcome) in outcomes {
            switch outcome {
            case .settled:
                enqueued += 1
            case .later(let wait, let why):
                h.pausedUntil = max(h.pausedUntil, WallClock.nowMilliseconds() + wait)
                if let site = siteOfRow[row] { h.waiting[site, default: RowQueue()].putBack(row) }
                logger.info("campaigns: campaign \(id) row \(row) not enqueued (\(why)); trying again in \(wait) ms")
            case .rowFailed(let problem):
                logger.notice("campaigns: campaign \(id) row \(row) cannot be sent: \(problem)")
                try await store.settleFailed(id, row: row)
            case .campaignFailed(let reason):
                logger.error("campaigns: campaign \(id) failed: \(reason)")
                try await store.transition(id, to: "failed", from: ["running", "scheduled"], reason: reason)
                return enqueued
            }
        }
        if enqueued > 0 || record.cursor < h.frontier { try await advanceCursor(h, from: record.cursor) }
        return enqueued
    }

    /// How many rows past the frontier one step may look at, and how many row numbers a
    /// runner keeps waiting per campaign (8 bytes each) before it stops looking further.
    static let examinePerStep = 10_000
    static let maxWaiting = 1_000_000

    /// Moves the cursor past the settled rows at its head (never past an unsettled one),
    /// reading the done bitmap up to the frontier.
    func advanceCursor(_ h: Held, from cursor: Int) async throws {
        var position = cursor
        while position < h.frontier {
            let count = min(65_536, h.frontier - position)
            let done = try await store.doneRows(h.campaign.id, from: position, count: count)
            if let first = done.firstIndex(of: false) {
                position += first
                break
            }
            position += count
        }
        if position > cursor { try await store.advance(h.campaign.id, cursor: position) }
    }

    /// One row through the intake, with its once mark.
    func enqueue(row: Int, stored: String, held h: Held, submitter: MessageIntake.Submitter) async -> RowOutcome {
        let composed: RowMessage.Composed
        let email: String
        do {
            email = try h.message.email(stored: stored)
            let headers = unsubscribe?(h.campaign.account, email, h.campaign.id)
            composed = try h.message.compose(row: row, stored: stored, unsubscribe: headers)
        } catch {
            return .rowFailed("\(error)")
        }
        guard let recipient = Mailbox(parsing: composed.email), let from = Mailbox(parsing: h.campaign.fromAddress) else {
            return .rowFailed("'\(String(email.prefix(80)))' is not an address")
        }
        if let account = submitter.account {
            let policy = AccountDirectory.policy(for: account)
            if policy.refusal != nil { return .later(milliseconds: 60_000, why: "account \(account.name) is paused") }
            if !policy.allows(domain: from.domain) {
                return .campaignFailed("'\(from.domain)' is not a sending domain of account \(account.name)")
            }
        }
        var message = intake.startMessage(
            from: submitter, trace: .init(heloName: "campaign", protocolName: "ESMTPA", onlyRecipient: composed.email))
        message.append(.init(bytes: composed.bytes))
        message.finish()
        if let refused = intake.check(message, from: submitter) { return .campaignFailed(refused.reply.text) }
        var envelope = MessageIntake.Envelope(sender: .mailbox(from), recipients: [recipient])
        envelope.labels = MessageLabels(tags: [], metadata: ["campaign": h.campaign.id])
        envelope.once = EnqueueOnce(campaign: h.campaign.id, row: row)
        let result = await intake.enqueue(message, envelope: envelope, from: submitter, streamed: false)
        switch result.outcome {
        case .queued, .sandboxed, .refused(.suppressed), .refused(.duplicate):
            return .settled
        case .refused(.quota):
            return .later(milliseconds: Int64(result.retryAfterSeconds ?? 60) * 1000, why: result.reply.text)
        case .refused(.queueUnavailable):
            return .later(milliseconds: 1_000, why: result.reply.text)
        case .refused(.unsignable), .refused(.tooLarge):
            return .rowFailed(result.reply.text)
        case .refused:
            return .campaignFailed(result.reply.text)
        }
    }

    /// The domain of a stored row's address, without composing it.
    static func domain(of stored: String, emailIndex: Int) -> DomainName? {
        guard let values = try? JSONDecoder().decode([String].self, from: Data(stored.utf8)), emailIndex < values.count,
            let at = values[emailIndex].lastIndex(of: "@")
        else { return nil }
        return DomainName(rawValue: values[emailIndex][values[emailIndex].index(after: at)...].lowercased())
    }
}
