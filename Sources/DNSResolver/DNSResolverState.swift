import NIOCore

/// The mutable part of a resolver: its cache, the exchanges in flight (so ``shutdown()``
/// can end them) and whether it has been shut down.
actor DNSResolverState {
    private var cache: DNSCache
    private var inFlight: [UInt64: EventLoopPromise<DNSMessage>] = [:]
    private var nextToken: UInt64 = 0
    private var isShutDown = false

    init(cacheCapacity: Int) {
        self.cache = DNSCache(capacity: cacheCapacity)
    }

    func cached(_ question: DNSQuestion) -> DNSAnswer? {
        self.cache.answer(question, now: .now())
    }

    func store(_ answer: DNSAnswer, for question: DNSQuestion) {
        guard !self.isShutDown else { return }
        self.cache.insert(answer.result, for: question, now: .now(), authenticated: answer.isAuthenticated)
    }

    /// Records an exchange in flight; throws once the resolver is shut down.
    func register(_ promise: EventLoopPromise<DNSMessage>) throws -> UInt64 {
        guard !self.isShutDown else { throw DNSError(.shutDown, "the resolver was shut down") }
        self.nextToken += 1
        self.inFlight[self.nextToken] = promise
        return self.nextToken
    }

    func unregister(_ token: UInt64) {
        self.inFlight[token] = nil
    }

    /// Marks the resolver shut down, empties the cache and fails every exchange in flight.
    func shutdown() {
        self.isShutDown = true
        self.cache.removeAll()
        let promises = self.inFlight.values
        self.inFlight.removeAll()
        for promise in promises {
            promise.fail(DNSError(.shutDown, "the resolver was shut down"))
        }
    }
}
