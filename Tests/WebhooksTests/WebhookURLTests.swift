import NIOCore
import RelayCore
import Testing

@testable import Webhooks

struct WebhookURLTests {
    @Test func parsesSchemeHostPortPath() throws {
        let url = try WebhookURL(parsing: "https://Hooks.Example.com/in?x=1")
        #expect(url.isHTTPS && url.host == "hooks.example.com" && url.port == 443 && url.path == "/in?x=1")
        let plain = try WebhookURL(parsing: "http://127.0.0.1:8080")
        #expect(!plain.isHTTPS && plain.host == "127.0.0.1" && plain.port == 8080 && plain.path == "/")
        let v6 = try WebhookURL(parsing: "http://[::1]:81/h")
        #expect(v6.host == "::1" && v6.port == 81 && v6.description == "http://[::1]:81/h")
    }

    @Test(arguments: [
        "ftp://example.com/", "https://", "https://user:pw@example.com/", "https://example.com:0/", "https://example.com:70000/",
        "https://exa mple.com/", "https://example.com/#frag", "example.com",
    ])
    func refusesMalformed(_ text: String) {
        #expect(throws: WebhookError.self) { try WebhookURL(parsing: text) }
    }

    @Test(arguments: [
        "127.0.0.1", "127.1.2.3", "::1", "169.254.169.254", "fe80::1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
        "100.64.0.1", "fd00::1", "0.0.0.0", "::", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "224.0.0.1",
    ])
    func refusesLocalAndPrivateAddresses(_ ip: String) throws {
        let screen = WebhookURLScreen()
        let address = try SocketAddress(ipAddress: ip, port: 443)
        #expect(screen.refusal(address, allowPrivate: false) != nil, "\(ip)")
        #expect(screen.refusal(address, allowPrivate: true) == nil, "\(ip) with --allow-private")
    }

    @Test(arguments: ["93.184.216.34", "2606:2800:220:1::1", "172.32.0.1", "8.8.8.8"])
    func allowsPublicAddresses(_ ip: String) throws {
        #expect(WebhookURLScreen().refusal(try SocketAddress(ipAddress: ip, port: 443), allowPrivate: false) == nil)
    }

    @Test func forbiddenNetworksWinOverAllowPrivate() throws {
        let screen = WebhookURLScreen(forbiddenNetworks: [IPNetwork(parsing: "203.0.113.0/24")!])
        let address = try SocketAddress(ipAddress: "203.0.113.9", port: 443)
        #expect(screen.refusal(address, allowPrivate: true)?.contains("forbidden_networks") == true)
    }

    @Test func screenResolvesAndRefusesTheMetadataAddress() throws {
        #expect(throws: WebhookError.self) {
            try WebhookURLScreen().screen(WebhookURL(parsing: "http://169.254.169.254/latest/meta-data/"), allowPrivate: false)
        }
        #expect(throws: WebhookError.self) {
            try WebhookURLScreen().screen(WebhookURL(parsing: "http://localhost:9/"), allowPrivate: false)
        }
        let allowed = try WebhookURLScreen().screen(WebhookURL(parsing: "http://localhost:9/"), allowPrivate: true)
        #expect(!allowed.isEmpty)
    }

    @Test func outboxItemCarriesTheEventID() {
        let item = WebhookDispatcher.item(id: "17-0", json: ByteBuffer(string: #"{"event":"delivered"}"#))
        #expect(String(decoding: item, as: UTF8.self) == #"{"event_id":"17-0","event":"delivered"}"#)
        #expect(WebhookSender.eventID(ByteBuffer(bytes: item)) == "17-0")
    }
}
