import NIOCore
import NIOPosix
import RelayCore

#if canImport(Glibc)
import Glibc
#endif

/// A webhook endpoint's URL, parsed: `http` or `https`, a host, a port, a path (with query).
/// No user information, no fragment.
public struct WebhookURL: Sendable, Hashable, CustomStringConvertible {
    public var isHTTPS: Bool
    public var host: String
    public var port: Int
    /// Starts with `/`.
    public var path: String

    public init(parsing text: String) throws(WebhookError) {
        let lower = text.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") {
            isHTTPS = true
            rest = text.dropFirst(8)
        } else if lower.hasPrefix("http://") {
            isHTTPS = false
            rest = text.dropFirst(7)
        } else {
            throw WebhookError("the URL must start with https:// or http://")
        }
        guard !text.contains(where: { $0.isWhitespace || $0 == "#" || !$0.isASCII }) else {
            throw WebhookError("the URL must be plain ASCII without spaces or a fragment")
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        let tail = rest.dropFirst(authority.count)
        path = tail.isEmpty ? "/" : (tail.hasPrefix("?") ? "/" + tail : String(tail))
        guard !authority.contains("@") else { throw WebhookError("the URL must not carry a user name or password") }
        var hostPart = Substring(authority)
        var portText: Substring? = nil
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { throw WebhookError("unclosed [ in the URL's host") }
            let after = hostPart[hostPart.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw WebhookError("bad host in the URL") }
            hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
        } else if let colon = hostPart.lastIndex(of: ":") {
            portText = hostPart[hostPart.index(after: colon)...]
            hostPart = hostPart[..<colon]
        }
        guard !hostPart.isEmpty, hostPart.utf8.count <= 253 else { throw WebhookError("the URL has no host") }
        host = hostPart.lowercased()
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else { throw WebhookError("bad port in the URL") }
            port = value
        } else {
            port = isHTTPS ? 443 : 80
        }
    }

    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        let defaultPort = isHTTPS ? 443 : 80
        return (isHTTPS ? "https://" : "http://") + shownHost + (port == defaultPort ? "" : ":\(port)") + path
    }

    /// Every address of the host (getaddrinfo, blocking: call it off the event loops).
    public func resolve() throws(WebhookError) -> [SocketAddress] {
        if IPNetwork.parseAddress(host) != nil {
            guard let address = try? SocketAddress(ipAddress: host, port: port) else { throw WebhookError("bad address \(host)") }
            return [address]
        }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>? = nil
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let list else {
            throw WebhookError("the host \(host) does not resolve")
        }
        defer { freeaddrinfo(list) }
        var out: [SocketAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = list
        while let entry = cursor {
            if let address = entry.pointee.ai_addr {
                switch Int32(address.pointee.sa_family) {
                case AF_INET:
                    address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { out.append(SocketAddress($0.pointee, host: host)) }
                case AF_INET6:
                    address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { out.append(SocketAddress($0.pointee, host: host)) }
                default: break
                }
            }
            cursor = entry.pointee.ai_next
        }
        guard !out.isEmpty else { throw WebhookError("the host \(host) has no address") }
        return out
    }
}

/// Which addresses a webhook may be POSTed to (server-side request forgery: an account must
/// not make the relay reach its own host, its cloud's metadata service at 169.254.169.254,
/// or the internal network). Checked when the endpoint is added and again for every
/// connection (DNS may answer differently the second time).
///
/// Refused: loopback, unspecified, link-local (metadata), multicast, broadcast
/// (`IPNetwork.localRanges`), RFC 1918, RFC 6598 and unique local addresses
/// (`IPNetwork.privateRanges`) — unless the endpoint was added with `--allow-private`;
/// `delivery.forbidden_networks` always.
public struct WebhookURLScreen: Sendable {
    public var forbiddenNetworks: [IPNetwork]

    public init(forbiddenNetworks: [IPNetwork] = []) {
        self.forbiddenNetworks = forbiddenNetworks
    }

    /// Why `address` is refused, or nil.
    public func refusal(_ address: SocketAddress, allowPrivate: Bool) -> String? {
        guard let text = address.ipAddress, let parsed = IPNetwork.parseAddress(text) else { return "not an IP address" }
        let ip = IPNetwork.canonical(parsed)
        if let network = forbiddenNetworks.first(where: { $0.contains(addressBytes: ip) }) {
            return "\(text) is in delivery.forbidden_networks (\(network))"
        }
        if allowPrivate { return nil }
        if let range = (IPNetwork.localRanges + IPNetwork.privateRanges).first(where: { $0.network.contains(addressBytes: ip) }) {
            return "\(text) is \(range.kind) (allowed only with --allow-private)"
        }
        return nil
    }

    /// The addresses of `url` it may connect to; throws naming the first refusal when none is left.
    public func screen(_ url: WebhookURL, allowPrivate: Bool) throws(WebhookError) -> [SocketAddress] {
        let addresses = try url.resolve()
        var refusals: [String] = []
        let allowed = addresses.filter { address in
            guard let why = refusal(address, allowPrivate: allowPrivate) else { return true }
            refusals.append(why)
            return false
        }
        guard !allowed.isEmpty else { throw WebhookError("refused \(url.host): \(refusals.first ?? "no address")") }
        return allowed
    }
}

public struct WebhookError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
