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

    /// One step of a held campaign: up to `chunk_size` rows ahead of the cursor that the
    /// window, the campaign's rate and each site's lookahead allow, enqueued; then the
    /// cursor moved past every settled row. Returns how many rows were enqueued.
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
        // Rows ahead of the cursor not yet done, and their addresses' domains.
        let scan = min(h.rows - record.cursor, max(settings.chunkSize * 20, 2_000))
        let done = try await store.doneRows(id, from: record.cursor, count: scan)
        let stored = try await lists.rows(account: h.campaign.account, name: h.campaign.list, from: record.cursor, count: scan)
        guard stored.count == scan else {
            // Fewer rows than the list had when the campaign was made: it was deleted or replaced.
            try await store.transition(
                id, to: "failed", from: ["running", "scheduled"], reason: "list '\(h.campaign.list)' was deleted or changed")
            return 0
        }
        var candidates: [(row: Int, stored: String, domain: DomainName?)] = []
        for (offset, text) in stored.enumerated() where offset < done.count && !done[offset] {
            candidates.append((record.cursor + offset, text, Self.domain(of: text, emailIndex: h.message.emailIndex)))
        }
        // The budgets: the campaign's rate, then per site the lookahead.
        var wanted = min(settings.chunkSize, candidates.count)
        if var bucket = h.bucket {
            wanted = bucket.take(wanted, now: now)
            h.bucket = bucket
        }
        let pool = PoolName(rawValue: h.campaign.pool ?? account.pool.rawValue)
        let domains = Array(Set(candidates.compactMap(\.domain)))
        let queued = try await store.queuedEntries(pool: pool, domains: domains)
        var siteOf: [DomainName: SiteLookahead.Site] = [:]
        for domain in domains { siteOf[domain] = await sites.site(of: domain) }
        // Per site: its rate times the lookahead, and never more than `max_queued_per_site`
        // (sites without a rate too: Redis holds what waits), less what waits for its domains
        // in this pool (the domains of the rows in view; a site's other domains are not counted).
        var siteQueued: [SiteName: Int] = [:]
        var siteRate: [SiteName: Rate?] = [:]
        for (domain, site) in siteOf {
            siteRate[site.name] = site.rate
            siteQueued[site.name, default: 0] += queued[domain] ?? 0
        }
        var remaining: [SiteName: Int] = [:]
        for (name, rate) in siteRate {
            let waiting = siteQueued[name] ?? 0
            let byRate = SendPacing.siteAllowance(rate: rate, lookaheadMilliseconds: settings.lookahead.milliseconds, queued: waiting)
            remaining[name] = min(byRate ?? Int.max, max(settings.maxQueuedPerSite - waiting, 0))
        }
        var picked: [(row: Int, stored: String)] = []
        for candidate in candidates where picked.count < wanted {
            if let domain = candidate.domain, let site = siteOf[domain], let left = remaining[site.name] {
                if left <= 0 { continue }
                remaining[site.name] = left - 1
            }
            picked.append((candidate.row, candidate.stored))
        }
        if var bucket = h.bucket, picked.count < wanted {
            bucket.giveBack(wanted - picked.count)
            h.bucket = bucket
        }
        var origin = MessageIntake.Submitter(
            listener: "campaign", clientIP: nil, authUser: "campaign:\(id)", account: account, logger: logger)
        origin.logger[metadataKey: "campaign"] = "\(id)"
        if let pool = h.campaign.pool { origin.account?.pool = PoolName(rawValue: pool) }
        let submitter = origin
        let chosen = picked
        let outcomes = await withTaskGroup(of: (Int, RowOutcome).self) { group in
            var results: [(Int, RowOutcome)] = []
            var next = 0
            while next < min(chosen.count, 16) {
                let (row, text) = chosen[next]
                group.addTask { (row, await self.enqueue(row: row, stored: text, held: h, submitter: submitter)) }
                next += 1
            }
            while let result = await group.next() {
                results.append(result)
                if next < chosen.count {
                    let (row, text) = chosen[next]
                    group.addTask { (row, await self.enqueue(row: row, stored: text, held: h, submitter: submitter)) }
                    next += 1
                }
            }
            return results
        }
        var enqueued = 0
        for (row, outcome) in outcomes {
            switch outcome {
            case .settled:
                enqueued += 1
            case .later(let wait, let why):
                h.pausedUntil = max(h.pausedUntil, WallClock.nowMilliseconds() + wait)
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
        // The cursor moves past the settled rows at its head, never past an unsettled one.
        let after = try await store.doneRows(id, from: record.cursor, count: scan)
        let settledPrefix = after.firstIndex(of: false) ?? after.count
        if settledPrefix > 0 { try await store.advance(id, cursor: record.cursor + settledPrefix) }
        return enqueued
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
