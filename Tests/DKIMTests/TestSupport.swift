import Foundation

@testable import DKIM

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// A small deterministic PRNG (SplitMix64), so random tests repeat exactly.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The tags of a DKIM-Signature field, unfolded, with white space removed from values
/// (which is how a verifier reads h=, bh= and b=; RFC 6376 §3.2).
func tags(of field: String) -> [String: String] {
    var body = field
    if body.hasPrefix("DKIM-Signature:") { body.removeFirst("DKIM-Signature:".count) }
    var result: [String: String] = [:]
    for pair in body.replacingOccurrences(of: "\r\n", with: "").split(separator: ";") {
        guard let equals = pair.firstIndex(of: "=") else { continue }
        let name = pair[..<equals].trimmingCharacters(in: .whitespaces)
        let value = pair[pair.index(after: equals)...].filter { !$0.isWhitespace }
        result[name] = String(value)
    }
    return result
}

/// Fixtures, made with `openssl genpkey` / `openssl genrsa -traditional`; test keys only.
enum KeyFixtures {
    /// The Ed25519 key of RFC 8463 Appendix A.2 (seed nWGxne/9…, the RFC 8032 §7.1 test 1
    /// key) wrapped in PKCS#8.
    static let rfc8463Ed25519 = """
        -----BEGIN PRIVATE KEY-----
        MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g
        -----END PRIVATE KEY-----

        """
    static let rfc8463Ed25519PublicKey = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

    /// RSA-1024 in the traditional PKCS#1 form.
    static let rsa1024PKCS1 = """
        -----BEGIN RSA PRIVATE KEY-----
        MIICXgIBAAKBgQD1lnFqULV9M7NMgvQdyZWXY1C8dKI9Mq4AfG2dn1JrOW+kjZSr
        rbuFk1TQ2z+Ewqnl4WUhaDn/W4xmZm0MP4fulbsm8b1mrRUf0e6/Py/4xQyT3LQe
        e9XwDDIPXm9Fy90iya9ZCSB8zm8A3NzAdesza2SiZI+LjN/iglBZj0CptwIDAQAB
        AoGBAOkXIwofFEKC4XiLChuDisGm96gGoz2mblPzxS5HWzh9ySLLZgIT4NmE3olk
        rsLY59xRs2SjwfhF8dn2+SUY32+NDNVMyu2KXSbl/YFKtG2Qm38YWBr2WuYXv9PN
        xXjtOf4mCWY/CF/lfWvMldmdOJqo0NHv6P8+07QeikRgDtoxAkEA/29asvQP+pNs
        8Fgykw2ISp2BRVzCiolNWZVVgpKfMJ4elyPOMVjaB7shn+eswrBuF0ZoV+Ud+NzK
        6hj8CmDswwJBAPYhgzHJ1Mc4yhavqn5Lvh6NZdOBuFHo+l21DRpjsq/gy79XqN5j
        EAnOenRnijNyYbEVe2kqJcT+CMcARy2Xz/0CQQDaf2paQaOZeJprTUaVu7GmAe0e
        ZCaVUrWzt6YZt0os0FTifGJYm+SFUHGG0ypYr4q8piGDbh2hT1zTuuN+DUL5AkA9
        k6zK6/+7x81nV5OD/VcXNbDf9XgzpeHdR8p7a63sqoTO3hN1b7s3eNzR+oVs0ZT3
        RLSXXuAMJLH1d3BXS7/RAkEA89lLBudqWDxIKE7KXJuptxTgMlo/7A7M33U2u6Y4
        0WIu3vlzpIhA3K1x2hZGQ1u++VXktaAGkbeYS+bHqpQDWg==
        -----END RSA PRIVATE KEY-----

        """
    /// `openssl pkey -in rsa1024.pem -pubout` of the key above, base64 joined: the DER
    /// SubjectPublicKeyInfo RFC 6376 §3.6.1 publishes.
    static let rsa1024SubjectPublicKeyInfo =
        "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQD1lnFqULV9M7NMgvQdyZWXY1C8"
        + "dKI9Mq4AfG2dn1JrOW+kjZSrrbuFk1TQ2z+Ewqnl4WUhaDn/W4xmZm0MP4fulbsm"
        + "8b1mrRUf0e6/Py/4xQyT3LQee9XwDDIPXm9Fy90iya9ZCSB8zm8A3NzAdesza2Si"
        + "ZI+LjN/iglBZj0CptwIDAQAB"
    static let rsa1024PublicKeyPEM = """
        -----BEGIN PUBLIC KEY-----
        MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQD1lnFqULV9M7NMgvQdyZWXY1C8
        dKI9Mq4AfG2dn1JrOW+kjZSrrbuFk1TQ2z+Ewqnl4WUhaDn/W4xmZm0MP4fulbsm
        8b1mrRUf0e6/Py/4xQyT3LQee9XwDDIPXm9Fy90iya9ZCSB8zm8A3NzAdesza2Si
        ZI+LjN/iglBZj0CptwIDAQAB
        -----END PUBLIC KEY-----

        """
    static let rsa512 = """
        -----BEGIN PRIVATE KEY-----
        MIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEAuGzKCXtdvgE4fenU
        JN/MQFgAwBJviK91b3w6TVmfTUX7HBBuELO5T4p5LX+A/s6etLPc5GrO1WkD5Dp9
        db2dxQIDAQABAkAoE+wr91U9z0IZitEBWmkmqnkvRFJcn9Sjb5mz6YAG6ImbagCD
        oBofj3YDT7Jhb0bs50tDu+IYt641zNPqn+OZAiEA6qrCk4YDGkrNtStXACoq0/FW
        4tWu2P1Go+TJhVD+1x8CIQDJMMfnvfrBLVUX8BSg4LBwohsBaKkW8YTcgITkBXji
        mwIgHIfmYElK10eA+yXpzftSebI9/hY8y+T/Ua3fUnYmhcECIQCKNka+fxaqatgQ
        T8/8DR9o4RQoTZwLtPOO/4NLmi7HjQIhAKiN5h3GxNAXNkaBMcqCQ7gWA87Ppfs3
        wiV1MjtEHQBS
        -----END PRIVATE KEY-----

        """
    static let ecP256 = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgV+D6G+g5TtjmR0yY
        AKTvnla1oZRf1WMd/vxaEiIZ262hRANCAAR3A5N83hPwWny3By5UyNtO5HsF3r06
        /5khLKOLaBIANcUjlwaOuWWnBbeADXJJQwOd60qWDOjKYi/fSCd1QujZ
        -----END PRIVATE KEY-----

        """
    static let ed448 = """
        -----BEGIN PRIVATE KEY-----
        MEcCAQAwBQYDK2VxBDsEOYYsrchJjdkOgJYZQuErKvD+Bln79SfECkNsx3U9cVgw
        DkPdmo46XOR+rXXPnwHiJGtSDZFL/HMZUA==
        -----END PRIVATE KEY-----

        """
    /// An Ed25519 key encrypted with the password "secret".
    static let encryptedEd25519 = """
        -----BEGIN ENCRYPTED PRIVATE KEY-----
        MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAj6jvKYhn8AdQICCAAw
        DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEECH2lLom5o34RvIr8bAsGpEEQCto
        90wUpUIMaNgUfRlzZHjj8vmxngRINd5Jpm8sgKwwtPBMuEpyCfQ3H/8UKeTXC0gv
        9vRWIGniJMEueonfI08=
        -----END ENCRYPTED PRIVATE KEY-----

        """
}
