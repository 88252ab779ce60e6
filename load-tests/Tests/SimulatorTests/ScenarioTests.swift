import Foundation
import SMTPProtocol
import Testing

@testable import hikyaku_sim

@Suite struct ScenarioTests {
    static func decode(_ json: String) throws(ScenarioError) -> Scenario {
        try Scenario.decode(Data(json.utf8))
    }

    static func error(_ json: String) -> ScenarioError? {
        do {
            _ = try Self.decode(json)
            return nil
        } catch {
            return error
        }
    }

    /// The example from issue 4, verbatim.
    static let example = """
        {"listen_port": 2700,
         "sites": [
           {"name": "gmail-like", "domains": ["gmail.sim"], "addresses": ["127.0.1.1", "127.0.1.2"],
            "behaviours": {"per_ip_rate": {"count": 100, "period_seconds": 60, "reply": "421 4.7.28 rate limited"},
                           "block_after_excess": {"excess": 50, "block_seconds": 300, "reply": "550 5.7.1 blocked"},
                           "unknown_users": {"pattern": "^nouser", "reply": "550 5.1.1 No such user"},
                           "greylist": {"first_attempt_reply": "451 4.7.1 Greylisted", "min_retry_seconds": 1},
                           "mailbox_full": {"pattern": "^full", "reply": "452 4.2.2 Mailbox full"},
                           "latency_ms": {"greeting": 0, "rcpt": 0, "data": 20},
                           "drop_connection_probability": 0.0,
                           "starttls": true}},
           {"name": "plain", "domains": ["a.sim", "b.sim"], "addresses": ["127.0.1.3"], "behaviours": {}}
         ]}
        """

    @Test func decodesTheIssueExample() throws {
        let scenario = try Self.decode(Self.example)
        #expect(scenario.listenPort == 2700)
        #expect(scenario.sites.map(\.name) == ["gmail-like", "plain"])
        #expect(scenario.needsTLS)
        let gmail = scenario.sites[0].behaviours
        #expect(gmail.perIPRate?.count == 100)
        #expect(gmail.perIPRate?.periodSeconds == 60)
        #expect(gmail.perIPRate?.reply == SMTPReply(421, "4.7.28", "rate limited"))
        #expect(gmail.blockAfterExcess?.excess == 50)
        #expect(gmail.blockAfterExcess?.reply == SMTPReply(550, "5.7.1", "blocked"))
        #expect(gmail.unknownUsers?.pattern.matches("nouser1@gmail.sim") == true)
        #expect(gmail.mailboxFull?.reply == SMTPReply(452, "4.2.2", "Mailbox full"))
        #expect(gmail.greylist?.firstAttemptReply == SMTPReply(451, "4.7.1", "Greylisted"))
        #expect(gmail.greylist?.minRetrySeconds == 1)
        #expect(gmail.latency == Latency(greeting: 0, mail: 0, rcpt: 0, data: 20))
        #expect(gmail.startTLS)
        #expect(scenario.sites[0].mxHosts == ["mx1.gmail.sim", "mx2.gmail.sim"])
        let plain = scenario.sites[1]
        #expect(plain.domains == ["a.sim", "b.sim"])
        #expect(plain.behaviours.perIPRate == nil && plain.behaviours.greylist == nil && !plain.behaviours.startTLS)
        #expect(plain.behaviours.dropConnectionProbability == 0)
        #expect(plain.mxHosts(for: "b.sim") == ["mx1.b.sim"])
    }

    @Test func repliesDefaultWhenLeftOut() throws {
        let scenario = try Self.decode(
            """
            {"listen_port": 0, "sites": [{"name": "s", "domains": ["S.Sim"], "addresses": ["127.0.0.9"], "mx_domain": "Hub.Sim",
              "behaviours": {"per_ip_rate": {"count": 1, "period_seconds": 1}, "block_after_excess": {"excess": 1, "block_seconds": 1},
                             "unknown_users": {"pattern": "x"}, "mailbox_full": {"pattern": "y"}, "greylist": {}}}]}
            """)
        let site = scenario.sites[0]
        #expect(site.domains == ["s.sim"])
        #expect(site.mxHosts == ["mx1.hub.sim"])
        #expect(site.behaviours.perIPRate?.reply.singleLine == SimDefaults.rateLimitReply)
        #expect(site.behaviours.blockAfterExcess?.reply.singleLine == SimDefaults.blockedReply)
        #expect(site.behaviours.unknownUsers?.reply.singleLine == SimDefaults.unknownUserReply)
        #expect(site.behaviours.mailboxFull?.reply.singleLine == SimDefaults.mailboxFullReply)
        #expect(site.behaviours.greylist?.firstAttemptReply.singleLine == SimDefaults.greylistReply)
        #expect(site.behaviours.greylist?.minRetrySeconds == 60)
    }

    @Test(arguments: [
        ("421 4.7.28 rate limited", SMTPReply(421, "4.7.28", "rate limited")),
        ("550 No such user", SMTPReply(code: 550, lines: ["No such user"])),
        ("452 4.2.2", SMTPReply(452, "4.2.2", "Try again later")),
        ("554", SMTPReply(code: 554, lines: ["Refused"])),
    ])
    func configuredRepliesParse(text: String, reply: SMTPReply) throws {
        #expect(try SMTPReply(configured: text, key: "k") == reply)
    }

    @Test(arguments: ["250 2.0.0 ok", "42 too short", "rate limited", "550 4.7.1 class mismatch", ""])
    func configuredRepliesMustBeRefusals(text: String) {
        #expect(throws: ScenarioError.self) { try SMTPReply(configured: text, key: "k") }
    }

    @Test(arguments: [
        (
            #"{"listen_port": 1, "sites": [{"name": "s", "domains": ["a.sim"], "addresses": ["127.0.0.1"], "behaviours": {"per_ip_rat": {}}}]}"#,
            "scenario: sites[0].behaviours.per_ip_rat: unknown key"
        ),
        (
            #"{"listen_port": 1, "sites": [{"name": "s", "domains": ["a.sim"], "addresses": ["127.0.0.1"], "behaviours": {"per_ip_rate": {"count": 0, "period_seconds": 1}}}]}"#,
            "scenario: sites[0].behaviours.per_ip_rate.count: must be at least 1"
        ),
        (
            #"{"listen_port": 1, "sites": [{"name": "s", "domains": ["a.sim"], "addresses": ["127.0.0.1"], "behaviours": {"block_after_excess": {"excess": 1, "block_seconds": 1}}}]}"#,
            "scenario: sites[0].behaviours.block_after_excess: needs per_ip_rate (excess is counted against it)"
        ),
        (
            #"{"listen_port": 1, "sites": [{"name": "s", "domains": ["a.sim"], "addresses": ["127.0.0.1"], "behaviours": {"unknown_users": {"pattern": "(["}}}]}"#,
            "scenario: sites[0].behaviours.unknown_users.pattern: '([' is not a valid extended regular expression"
        ),
        (
            #"{"listen_port": 1, "sites": [{"name": "s", "domains": ["a.sim"], "addresses": ["127.0.0.1"], "behaviours": {"drop_connection_probability": 2}}]}"#,
            "scenario: sites[0].behaviours.drop_connection_probability: must be between 0 and 1"
        ),
        (
            #"{"listen_port": 1, "sites": [{"name": "s", "domains": ["a.sim"], "addresses": ["localhost"]}]}"#,
            "scenario: sites[0].addresses[0]: 'localhost' is not an IP address"
        ),
        (
            #"{"listen_port": 1, "sites": [{"name": "s", "domains": ["a.sim"], "addresses": ["127.0.0.1"]}, {"name": "t", "domains": ["b.sim"], "addresses": ["127.0.0.1"]}]}"#,
            "scenario: sites[1].addresses: 127.0.0.1 is used twice"
        ),
        (
            #"{"listen_port": 1, "sites": [{"name": "s", "domains": ["a.sim"], "addresses": ["127.0.0.1"]}, {"name": "s", "domains": ["b.sim"], "addresses": ["127.0.0.2"]}]}"#,
            "scenario: sites[1].name: 's' is used by another site"
        ),
        (
            #"{"listen_port": 1, "sites": [{"name": "s", "domains": ["under_score.sim"], "addresses": ["127.0.0.1"]}]}"#,
            "scenario: sites[0].domains[0]: 'under_score.sim' is not a domain name"
        ),
        (
            #"{"listen_port": 70000, "sites": [{"name": "s", "domains": ["a.sim"], "addresses": ["127.0.0.1"]}]}"#,
            "scenario: listen_port: must be a TCP port (0 picks a free one)"
        ),
        (#"{"sites": []}"#, "scenario: listen_port: missing"),
        (#"{"listen_port": "25", "sites": []}"#, "scenario: listen_port: expected Int"),
        (#"{"listen_port": 25,"#, "scenario: not valid JSON"),
    ])
    func badScenariosNameTheKeyAtFault(json: String, message: String) {
        let description = Self.error(json)?.description ?? "no error"
        #expect(description.hasPrefix(message), "\(description)")
    }

    @Test func loadReportsAMissingFile() {
        #expect(throws: ScenarioError.self) { try Scenario.load(path: "/nonexistent/scenario.json") }
    }
}
