import Testing

@testable import Delivery

@Suite struct ProcessTokenTests {
    static func system(pids: [Int32: String], boot: String = "b00t", namespace: String = "4026531836") -> ProcessTable {
        ProcessTable(currentPID: { 100 }, bootID: { boot }, pidNamespace: { namespace }, startTime: { pids[$0] })
    }

    @Test func theTextRoundTrips() {
        let token = ProcessToken(bootID: "b00t", pidNamespace: "4026531836", pid: 4242, startTime: "987654", nonce: "x1y2")
        #expect(token.text == "v1:b00t:4026531836:4242:987654:x1y2")
        #expect(ProcessToken(text: token.text) == token)
        #expect(ProcessToken(text: "v2:b00t:1:2:3:4") == nil)
        #expect(ProcessToken(text: "not a token") == nil)
    }

    @Test func aHolderOnThisMachineIsAliveOnlyWhileItsPIDHasItsStartTime() {
        let holder = "v1:b00t:4026531836:4242:987654:n"
        #expect(ProcessToken.liveness(of: holder, system: Self.system(pids: [4242: "987654"])) == .alive)
        // Gone, or the PID reused by a process started later.
        #expect(ProcessToken.liveness(of: holder, system: Self.system(pids: [:])) == .dead)
        #expect(ProcessToken.liveness(of: holder, system: Self.system(pids: [4242: "999999"])) == .dead)
    }

    @Test func aHolderElsewhereCannotBeJudged() {
        let holder = "v1:b00t:4026531836:4242:987654:n"
        #expect(ProcessToken.liveness(of: holder, system: Self.system(pids: [:], boot: "other")) == .unknown)
        #expect(ProcessToken.liveness(of: holder, system: Self.system(pids: [:], namespace: "1")) == .unknown)
        #expect(ProcessToken.liveness(of: "v1:-:-:4242:987654:n", system: Self.system(pids: [:], boot: "-", namespace: "-")) == .unknown)
        #expect(ProcessToken.liveness(of: "garbage", system: Self.system(pids: [:])) == .unknown)
    }

    @Test func theStartTimeIsField22EvenWithParenthesesInTheCommandName() {
        let fields = (3...30).map { $0 == 22 ? "5551212" : "\($0)" }.joined(separator: " ")
        #expect(ProcessTable.startTime(fromStat: "77 (odd) name) (x) \(fields)\n") == "5551212")
        #expect(ProcessTable.startTime(fromStat: "77 (short) S 1") == nil)
    }

    @Test func thisProcessIsAliveToItself() {
        let me = ProcessToken.current()
        #if os(Linux)
        #expect(ProcessToken.liveness(of: me.text) == .alive)
        #endif
        #expect(ProcessToken(text: me.text) == me)
    }
}
