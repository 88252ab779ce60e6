import DNSResolver

/// Runs `hikyaku domain check`: asks DNS what the checks need and evaluates them.
///
/// It evaluates ``DomainChecks`` over a partial ``DNSSnapshot``, fetches the questions
/// the checks could not answer (concurrently), and repeats until the report is complete.
/// Each round answers at least one question, so the rounds are bounded by the questions
/// the checks can ask — SPF evaluation stops after 10 DNS-querying terms (RFC 7208
/// §4.6.4) — and, as a backstop, by ``maximumRounds``.
public struct DomainChecker: Sendable {
    /// More rounds than any real domain needs (an SPF chain of 10 includes, each with an
    /// `mx` of 10 hosts, is about 120 questions but far fewer rounds).
    public static let maximumRounds = 200

    private let resolver: DNSResolver

    public init(resolver: DNSResolver) {
        self.resolver = resolver
    }

    public func check(_ input: DomainCheckInput) async -> DomainCheckReport {
        var snapshot = DNSSnapshot()
        for _ in 0..<Self.maximumRounds {
            switch DomainChecks.evaluate(input, dns: snapshot) {
            case .report(let report):
                return report
            case .needs(let keys):
                for (key, answer) in await self.fetch(keys) {
                    snapshot.set(answer, for: key)
                }
            }
        }
        // Backstop: whatever is still unasked counts as a failed lookup.
        while case .needs(let keys) = DomainChecks.evaluate(input, dns: snapshot) {
            for key in keys {
                snapshot.set(.failed("not asked: more than \(Self.maximumRounds) rounds of lookups"), for: key)
            }
        }
        return DomainChecks.report(input, zone: snapshot)
    }

    private func fetch(_ keys: Set<DNSSnapshot.Key>) async -> [(DNSSnapshot.Key, DNSSnapshot.Answer)] {
        await withTaskGroup(of: (DNSSnapshot.Key, DNSSnapshot.Answer).self) { group in
            for key in keys {
                group.addTask { (key, await self.answer(key)) }
            }
            var answers: [(DNSSnapshot.Key, DNSSnapshot.Answer)] = []
            for await answer in group { answers.append(answer) }
            return answers
        }
    }

    private func answer(_ key: DNSSnapshot.Key) async -> DNSSnapshot.Answer {
        do {
            return .records(try await self.resolver.records(key.name, type: key.type).map(\.data))
        } catch let error as DNSError where error.code == .nameDoesNotExist {
            return .nameDoesNotExist
        } catch {
            return .failed("\(error)")
        }
    }
}
