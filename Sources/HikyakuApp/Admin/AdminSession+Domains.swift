import DKIM
import Foundation
import Ingest
import Queue
import RelayCore
import Secrets

/// The sending domains' DKIM keys (RFC 6376, RFC 8463) as `hikyaku domain …` manages them.
extension AdminSession {
    public func sendingDomains() async throws -> [SendingDomain] {
        try await accountStore.domains()
    }

    public func sendingDomain(_ name: String) async throws -> SendingDomain? {
        try await accountStore.domain(name)
    }

    /// Generates the domain's first keys, active at once.
    public func addDomain(_ name: String, selectorPrefix: String, sealing: DKIMSealing) async throws -> SendingDomain {
        let store = accountStore
        if try await store.domain(name) != nil {
            throw OperatorError(
                "\(name) already has keys; `hikyaku domain show \(name)` prints them, `hikyaku domain rotate \(name)` makes new ones")
        }
        var entry = SendingDomain(domain: name, keys: [], createdAt: WallClock.iso8601(milliseconds: WallClock.nowMilliseconds()))
        entry.keys = try Self.newKeys(for: entry, prefix: selectorPrefix, state: .active, sealing: sealing)
        try await store.putDomain(entry)
        await audit("domain.add", [("domain", name)])
        return entry
    }

    /// Replaces the pending keys with new ones (not signing until ``activateDomain(_:)``).
    public func rotateDomain(_ name: String, selectorPrefix: String, sealing: DKIMSealing) async throws -> SendingDomain {
        let store = accountStore
        guard var found = try await store.domain(name) else {
            throw OperatorError("\(name) has no DKIM keys (`hikyaku domain add \(name)`)")
        }
        found.keys.removeAll { $0.state == .pending }
        found.keys += try Self.newKeys(for: found, prefix: selectorPrefix, state: .pending, sealing: sealing)
        try await store.putDomain(found)
        await audit("domain.rotate", [("domain", name)])
        return found
    }

    /// Pending keys become active, active ones retired.
    public func activateDomain(_ name: String) async throws -> SendingDomain {
        let store = accountStore
        guard var found = try await store.domain(name) else { throw OperatorError("\(name) has no DKIM keys") }
        guard found.keys.contains(where: { $0.state == .pending }) else {
            throw OperatorError("\(name) has no pending keys (`hikyaku domain rotate \(name)` makes some)")
        }
        for index in found.keys.indices {
            switch found.keys[index].state {
            case .active: found.keys[index].state = .retired
            case .pending: found.keys[index].state = .active
            case .retired: break
            }
        }
        try await store.putDomain(found)
        await audit("domain.activate", [("domain", name)])
        return found
    }

    /// Removes all the domain's keys, or one selector that is not active; returns what was done.
    public func removeDomain(_ name: String, selector: String?) async throws -> String {
        let store = accountStore
        await audit("domain.remove", [("domain", name), ("selector", selector ?? "")])
        guard let selector else {
            return try await store.deleteDomain(name) ? "removed \(name): its mail is no longer signed" : "\(name) had no keys"
        }
        guard var found = try await store.domain(name), let key = found.keys.first(where: { $0.selector == selector }) else {
            throw OperatorError("\(name) has no selector \(selector)")
        }
        guard key.state != .active else { throw OperatorError("\(selector) is signing now; rotate and activate first") }
        found.keys.removeAll { $0.selector == selector }
        try await store.putDomain(found)
        return "removed selector \(selector) of \(name)"
    }

    /// Re-seals every stored DKIM key not sealed with the newest key of `sealing`
    /// (plaintext ones too): `hikyaku secrets rotate`.
    public func resealDKIMKeys(with sealing: DKIMSealing) async throws -> (resealed: Int, current: Int, domains: Int) {
        guard let keyring = sealing.keyring else { return (0, 0, 0) }
        let store = accountStore
        var resealed = 0, current = 0, touched = 0
        for var domain in try await store.domains() {
            var changed = false
            for index in domain.keys.indices {
                let entry = domain.keys[index]
                if DKIMKeyStorage.isCurrent(entry, keyring: keyring) {
                    current += 1
                    continue
                }
                let pem: String
                do {
                    pem = try DKIMKeyStorage.pem(of: entry, domain: domain.domain) { try keyring.open($0, context: $1) }
                } catch let error as SecretsError {
                    throw OperatorError("DKIM key \(entry.selector) of \(domain.domain): \(error.detail)")
                }
                domain.keys[index].storedPrivateKey = try DKIMKeyStorage.store(
                    pem: pem, domain: domain.domain, selector: entry.selector, keyring: keyring)
                resealed += 1
                changed = true
            }
            if changed {
                try await store.putDomain(domain)
                touched += 1
            }
        }
        return (resealed, current, touched)
    }

    /// New keys for `domain`, one per algorithm, with selectors `<prefix><yyyymm>r` / `…e`
    /// (a letter more if taken), sealed as `sealing` says.
    static func newKeys(
        for domain: SendingDomain, prefix: String, state: SendingDomain.DKIMKeyEntry.State,
        sealing: DKIMSealing
    ) throws -> [SendingDomain.DKIMKeyEntry] {
        let now = WallClock.iso8601(milliseconds: WallClock.nowMilliseconds())
        let month = now.prefix(7).replacingOccurrences(of: "-", with: "")
        let taken = Set(domain.keys.map(\.selector))
        var round = ""
        var letters = Array("bcdefghijklmnopqrstuvwxyz").makeIterator()
        while taken.contains("\(prefix)\(month)\(round)r") || taken.contains("\(prefix)\(month)\(round)e") {
            round = String(letters.next() ?? "z") + String(Int.random(in: 0..<1000))
        }
        return try [(DKIMAlgorithm.rsaSHA256, "r"), (.ed25519SHA256, "e")].map { algorithm, suffix in
            let key = try DKIMPrivateKey.generate(algorithm)
            let selector = "\(prefix)\(month)\(round)\(suffix)"
            let stored = try DKIMKeyStorage.store(pem: key.pem, domain: domain.domain, selector: selector, keyring: sealing.keyring)
            return SendingDomain.DKIMKeyEntry(
                selector: selector, algorithm: algorithm.rawValue,
                storedPrivateKey: stored, dnsRecord: key.dnsRecord(), state: state, createdAt: now)
        }
    }
}
