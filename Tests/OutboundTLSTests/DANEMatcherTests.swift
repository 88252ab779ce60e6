import DNSResolver
import NIOSSL
import Testing

@testable import OutboundTLS

/// TLSA matching (RFC 6698 §2.1, RFC 7672 §3) against certificates made with `openssl`
/// (a CA, a leaf for `mx.example.test` it issued, and an unrelated self-signed one), with
/// the expected digests computed by `openssl … | sha256sum`, not by the code under test.
@Suite("DANE TLSA matching")
struct DANEMatcherTests {
    static let caPEM = """
        -----BEGIN CERTIFICATE-----
        MIIBlTCCATugAwIBAgIUV/eUtQzStihr6IYk8CXP0q/aZ74wCgYIKoZIzj0EAwIw
        FzEVMBMGA1UEAwwMVW5pdCBUZXN0IENBMCAXDTI2MTIwNjA2NTUwOVoYDzIxMjYx
        MTEyMDY1NTA5WjAXMRUwEwYDVQQDDAxVbml0IFRlc3QgQ0EwWTATBgcqhkjOPQIB
        BggqhkjOPQMBBwNCAAS94/zsjLkFHQDb9gicT/UcSOOHuOhbfn3hYBsNgkL2p7uH
        Z97lFvDrYcJYUBTt8+q12RP4VCACFQer4Qm0OOG4o2MwYTAdBgNVHQ4EFgQUUe6t
        tbnKRPPDpz9kt/7VqLyeBSwwHwYDVR0jBBgwFoAUUe6ttbnKRPPDpz9kt/7VqLye
        BSwwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwCgYIKoZIzj0EAwID
        SAAwRQIgKzSM+f72BQT4Vo+LdhZLRf+uAWt/xSt1IHsqgkJcVCMCIQDrtHxU1UaJ
        2/F2FFxiHiDxva/cY5uSkauDAV8ljp9eJg==
        -----END CERTIFICATE-----
        """
    static let leafPEM = """
        -----BEGIN CERTIFICATE-----
        MIIBszCCAVmgAwIBAgIUdgYU48gFHUevTxrhG6yVHVVKR0YwCgYIKoZIzj0EAwIw
        FzEVMBMGA1UEAwwMVW5pdCBUZXN0IENBMCAXDTI2MTIwNjA2NTUwOVoYDzIxMjYx
        MTEyMDY1NTA5WjAaMRgwFgYDVQQDDA9teC5leGFtcGxlLnRlc3QwWTATBgcqhkjO
        PQIBBggqhkjOPQMBBwNCAAS5iYrVMSx0RmV5wjffaYbta0SFkssbEHZ6GzBqEdUD
        e3kgwHDM54hwu8UD1vFu5LAmyxh/+jyC+fRmlPBaagMYo34wfDAaBgNVHREEEzAR
        gg9teC5leGFtcGxlLnRlc3QwCQYDVR0TBAIwADATBgNVHSUEDDAKBggrBgEFBQcD
        ATAdBgNVHQ4EFgQU7TBFqkqky9A8pADtif0WoC3ET8EwHwYDVR0jBBgwFoAUUe6t
        tbnKRPPDpz9kt/7VqLyeBSwwCgYIKoZIzj0EAwIDSAAwRQIgcOxxNO19eC0PWldc
        +NAw8epnSNrqC6IOJfmkkfXuGQUCIQCcaFVIkqG4LEEFRMb1A2wJLfmGSgnrsDWf
        IB0slEH/jw==
        -----END CERTIFICATE-----
        """
    static let otherPEM = """
        -----BEGIN CERTIFICATE-----
        MIIBgTCCASegAwIBAgIUKWi3qgsypnOuGYbnK4586qh0zFEwCgYIKoZIzj0EAwIw
        FTETMBEGA1UEAwwKb3RoZXIudGVzdDAgFw0yNjEyMDYwNjU1MDlaGA8yMTI2MTEx
        MjA2NTUwOVowFTETMBEGA1UEAwwKb3RoZXIudGVzdDBZMBMGByqGSM49AgEGCCqG
        SM49AwEHA0IABOVCkF6n7XUELlgTE+k8UFJ2B7pp5JA8b7YubjhjQiLmh6nDLUD6
        asLnBZNXyyM4cpTYR73FR6Gml24XzceytxajUzBRMB0GA1UdDgQWBBRmUkjeS+zu
        g23PWkNSzjziMicPKjAfBgNVHSMEGDAWgBRmUkjeS+zug23PWkNSzjziMicPKjAP
        BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCICZaSQAU+3SHCfEr5aZU
        85NeXUjJZkZaHvdT1R8n62ysAiEA8UTFrqOL0c1oEhiONTUehEi8zY2Xr2OA2Bli
        cWonoOA=
        -----END CERTIFICATE-----
        """
    static let leafSPKISHA256 = "769854268bae1992635c82257de8aef1bd027a1223519c94000180b5f4cc5d8c"
    static let leafSPKISHA512 =
        "78eed6debf886f49922a4f0dc9683c99ec04a986e7aa15825e6d7a87f3707b93"
        + "7e9e739e32a0af11095e166fe5dbd4ad09b6a6b12fd566d3364d20a2fbfb6c61"
    static let leafCertSHA256 = "4dcb82c3d469b62ecbddd9410d963abb817e507dbae100189c4c47c39adf97e6"
    static let caCertSHA256 = "270202f4e815b88ea843835913e6f2f1ba967b07417d3bb0a00a4f408286d0fe"
    static let caSPKISHA256 = "90a0435794fb42dfc91efad3787b8659df7f9e861030ab0921214a2a8a854c2c"
    static let otherSPKISHA256 = "a9a8e7831501bcf9ae96d69599ae6db4bf62ab823464e454588854f2d630a1f4"

    static func der(_ pem: String) throws -> [UInt8] {
        try NIOSSLCertificate(bytes: Array(pem.utf8), format: .pem).toDERBytes()
    }

    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    static func matcher(_ records: [(UInt8, UInt8, UInt8, String)], host: String = "mx.example.test") -> DANEMatcher {
        DANEMatcher(
            name: "_25._tcp.\(host)", host: host,
            records: records.map { TLSARecord(usage: $0.0, selector: $0.1, matchingType: $0.2, data: bytes($0.3)) })
    }

    @Test("DANE-EE 3 1 1, 3 0 1, 3 1 2 and 3 0 0 match the leaf")
    func daneEEMatches() throws {
        let chain = [try Self.der(Self.leafPEM), try Self.der(Self.caPEM)]
        #expect(Self.matcher([(3, 1, 1, Self.leafSPKISHA256)]).mismatch(chain: chain) == nil)
        #expect(Self.matcher([(3, 0, 1, Self.leafCertSHA256)]).mismatch(chain: chain) == nil)
        #expect(Self.matcher([(3, 1, 2, Self.leafSPKISHA512)]).mismatch(chain: chain) == nil)
        var exact = Self.matcher([])
        exact.records = [TLSARecord(usage: 3, selector: 0, matchingType: 0, data: chain[0])]
        #expect(exact.mismatch(chain: chain) == nil)
    }

    @Test("DANE-EE ignores names: a leaf for another host matches by key")
    func daneEEIgnoresNames() throws {
        let chain = [try Self.der(Self.leafPEM)]
        #expect(Self.matcher([(3, 1, 1, Self.leafSPKISHA256)], host: "mx.elsewhere.test").mismatch(chain: chain) == nil)
    }

    @Test("another key, or the CA's key as DANE-EE, does not match")
    func daneEEMismatch() throws {
        let chain = [try Self.der(Self.leafPEM), try Self.der(Self.caPEM)]
        #expect(Self.matcher([(3, 1, 1, Self.otherSPKISHA256)]).mismatch(chain: chain) != nil)
        #expect(Self.matcher([(3, 1, 1, Self.caSPKISHA256)]).mismatch(chain: chain) != nil)
        #expect(Self.matcher([(3, 1, 1, Self.leafSPKISHA256)]).mismatch(chain: [try Self.der(Self.otherPEM)]) != nil)
        #expect(Self.matcher([(3, 1, 1, Self.leafSPKISHA256)]).mismatch(chain: []) != nil)
    }

    @Test("DANE-TA 2 0 1 and 2 1 1: the CA in the chain, the leaf signed by it and naming the host")
    func daneTA() throws {
        let chain = [try Self.der(Self.leafPEM), try Self.der(Self.caPEM)]
        #expect(Self.matcher([(2, 0, 1, Self.caCertSHA256)]).mismatch(chain: chain) == nil)
        #expect(Self.matcher([(2, 1, 1, Self.caSPKISHA256)]).mismatch(chain: chain) == nil)
        // The leaf names mx.example.test, not this host.
        #expect(Self.matcher([(2, 0, 1, Self.caCertSHA256)], host: "mx.other.test").mismatch(chain: chain) != nil)
        // The CA is not in the presented chain.
        #expect(Self.matcher([(2, 0, 1, Self.caCertSHA256)]).mismatch(chain: [chain[0]]) != nil)
        // A self-signed leaf with the CA appended does not chain to it.
        #expect(
            Self.matcher([(2, 0, 1, Self.caCertSHA256)], host: "other.test")
                .mismatch(chain: [try Self.der(Self.otherPEM), chain[1]]) != nil)
    }

    @Test("usable records: DANE-TA and DANE-EE with known selector and matching type (RFC 7672 §3.1.3)")
    func usable() {
        let records = [(0, 0, 1), (1, 1, 1), (2, 0, 1), (3, 1, 1), (3, 2, 1), (3, 1, 3), (4, 1, 1)].map {
            TLSARecord(usage: UInt8($0.0), selector: UInt8($0.1), matchingType: UInt8($0.2), data: [1])
        }
        #expect(DANEMatcher.usable(records).map(\.usage) == [2, 3])
    }
}
