import NIOCore
import SMTPServer
import Testing

/// The slow-client rules on a clock given as a parameter: no test sleeps.
struct SlowClientGuardTests {
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    static func at(_ seconds: Double) -> NIODeadline {
        start + .nanoseconds(Int64(seconds * 1e9))
    }

    var guardian = SlowClientGuard(commandTimeout: .seconds(60), minimumDataRate: 1024)

    @Test func nothingRunsBetweenLines() {
        #expect(guardian.deadline == nil)
        #expect(!guardian.isExpired(at: Self.at(1_000_000)))
    }

    @Test mutating func aLineMustBeCompleteWithinTheTimeoutOfItsFirstOctet() {
        guardian.lineInProgress(at: Self.at(10))
        // More octets of the same line do not move the start.
        guardian.lineInProgress(at: Self.at(40))
        guardian.lineInProgress(at: Self.at(69))
        #expect(guardian.deadline == Self.at(70))
        #expect(!guardian.isExpired(at: Self.at(69.9)))
        #expect(guardian.isExpired(at: Self.at(70)))
    }

    @Test mutating func aCompletedLineStopsTheClockAndTheNextLineStartsAfresh() {
        guardian.lineInProgress(at: Self.at(0))
        guardian.lineCompleted()
        #expect(guardian.deadline == nil)
        guardian.lineInProgress(at: Self.at(55))
        #expect(guardian.deadline == Self.at(115))
    }

    @Test mutating func dataEarnsOneSecondPerRateOctets() {
        guardian.dataStarted(at: Self.at(0))
        #expect(guardian.deadline == Self.at(60))
        // A trickle of one octet per second earns nothing.
        guardian.dataReceived(octets: 59)
        #expect(guardian.isExpired(at: Self.at(60)))
        // 1 MiB earns 1024 s.
        guardian.dataReceived(octets: 1 << 20)
        #expect(guardian.deadline == Self.at(60 + 1024))
        #expect(!guardian.isExpired(at: Self.at(1000)))
        guardian.dataEnded()
        #expect(guardian.deadline == nil)
    }

    @Test mutating func linesDoNotAffectData() {
        guardian.dataStarted(at: Self.at(0))
        guardian.lineCompleted()
        guardian.lineInProgress(at: Self.at(30))
        #expect(guardian.phase == .data(since: Self.at(0), octets: 0))
    }

    @Test mutating func timeWhileTheServerWorksIsNotCounted() {
        guardian.lineInProgress(at: Self.at(0))
        guardian.pause(at: Self.at(50))
        #expect(guardian.deadline == nil)
        #expect(!guardian.isExpired(at: Self.at(500)))
        guardian.pause(at: Self.at(80))  // still the first pause
        guardian.resume(at: Self.at(150))
        #expect(guardian.deadline == Self.at(160))

        guardian.dataStarted(at: Self.at(200))
        guardian.pause(at: Self.at(210))
        guardian.resume(at: Self.at(310))
        #expect(guardian.deadline == Self.at(360))
        guardian.resume(at: Self.at(400))  // not paused: no change
        #expect(guardian.deadline == Self.at(360))
    }

    @Test func hugeAmountsOfDataDoNotOverflow() {
        var guardian = SlowClientGuard(commandTimeout: .seconds(1), minimumDataRate: 1)
        guardian.dataStarted(at: Self.at(0))
        guardian.dataReceived(octets: Int.max / 2)
        #expect(guardian.deadline == Self.at(1 + 86_400))
    }
}
