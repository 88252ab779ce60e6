#ifndef HIKYAKU_COPENSSLCRYPTO_SHIM_H
#define HIKYAKU_COPENSSLCRYPTO_SHIM_H
// OpenSSL 3's libcrypto (Debian: libssl-dev), for DKIM keys and signatures. Only the
// EVP interfaces are used: key generation, PEM (PKCS#8) I/O, SubjectPublicKeyInfo and raw
// public keys, SHA-256 and EVP_DigestSign; for secrets at rest (Sources/Secrets) AES-256-GCM,
// HMAC-SHA256 and the random generator.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#endif
