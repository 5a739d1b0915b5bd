// libsecp256k1 behind keys.h. One context serves the whole process: creating one is costly,
// and after its one-time randomization (blinding against side channels) every call takes it
// read-only, which libsecp256k1 documents as safe from many threads.
#include "chain/keys.h"

#include <secp256k1.h>

#include "chain/base58.h"
#include "core/check.h"
#include "crypto/primitives.h"

namespace satload::chain {
namespace {

const secp256k1_context* context() {
    static const secp256k1_context* const ctx = [] {
        secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
        SATLOAD_ASSERT(c != nullptr);
        std::array<std::uint8_t, 32> seed{};
        crypto::random_bytes(seed);
        SATLOAD_ASSERT(secp256k1_context_randomize(c, seed.data()) == 1);
        crypto::secure_wipe(seed);
        return c;
    }();
    return ctx;
}

PublicKey::Bytes33 serialize_compressed(const secp256k1_pubkey& point) {
    PublicKey::Bytes33 out{};
    std::size_t len = out.size();
    SATLOAD_ASSERT(secp256k1_ec_pubkey_serialize(context(), out.data(), &len, &point,
                                                 SECP256K1_EC_COMPRESSED) == 1);
    SATLOAD_ASSERT(len == out.size());
    return out;
}

}  // namespace

std::optional<PublicKey> PublicKey::parse(ByteSpan bytes) {
    if (bytes.size() != kCompressedPublicKeyBytes) return std::nullopt;
    if (bytes[0] != 0x02 && bytes[0] != 0x03) return std::nullopt;
    secp256k1_pubkey point;
    if (secp256k1_ec_pubkey_parse(context(), &point, bytes.data(), bytes.size()) != 1) {
        return std::nullopt;
    }
    Bytes33 b{};
    std::copy(bytes.begin(), bytes.end(), b.begin());
    return PublicKey(b);
}

std::optional<PublicKey> PublicKey::tweak_add(const std::array<std::uint8_t, 32>& tweak) const {
    secp256k1_pubkey point;
    SATLOAD_ASSERT(secp256k1_ec_pubkey_parse(context(), &point, m_bytes.data(), m_bytes.size()) ==
                   1);
    if (secp256k1_ec_pubkey_tweak_add(context(), &point, tweak.data()) != 1) return std::nullopt;
    return PublicKey(serialize_compressed(point));
}

bool PublicKey::verify(const Hash256& digest, ByteSpan der_signature) const {
    if (der_signature.empty() || der_signature.size() > kMaxDerSignatureBytes) return false;
    secp256k1_ecdsa_signature sig;
    if (secp256k1_ecdsa_signature_parse_der(context(), &sig, der_signature.data(),
                                            der_signature.size()) != 1) {
        return false;
    }
    // libsecp256k1 only verifies low-S signatures; a high-S one is just as valid under
    // consensus, so normalize first and let policy be someone else's question.
    secp256k1_ecdsa_signature_normalize(context(), &sig, &sig);
    secp256k1_pubkey point;
    SATLOAD_ASSERT(secp256k1_ec_pubkey_parse(context(), &point, m_bytes.data(), m_bytes.size()) ==
                   1);
    return secp256k1_ecdsa_verify(context(), &sig, digest.data(), &point) == 1;
}

std::optional<PrivateKey> PrivateKey::from_bytes(ByteSpan bytes) {
    if (bytes.size() != kPrivateKeyBytes) return std::nullopt;
    if (secp256k1_ec_seckey_verify(context(), bytes.data()) != 1) return std::nullopt;
    Bytes32 b{};
    std::copy(bytes.begin(), bytes.end(), b.begin());
    PrivateKey key(b);
    crypto::secure_wipe(b);
    return key;
}

PrivateKey::~PrivateKey() { crypto::secure_wipe(m_bytes); }

PublicKey PrivateKey::public_key() const {
    secp256k1_pubkey point;
    SATLOAD_ASSERT(secp256k1_ec_pubkey_create(context(), &point, m_bytes.data()) == 1);
    return PublicKey(serialize_compressed(point));
}

std::optional<PrivateKey> PrivateKey::tweak_add(const std::array<std::uint8_t, 32>& tweak) const {
    PrivateKey out(m_bytes);
    if (secp256k1_ec_seckey_tweak_add(context(), out.m_bytes.data(), tweak.data()) != 1) {
        return std::nullopt;
    }
    return out;
}

Bytes PrivateKey::sign_der(const Hash256& digest) const {
    secp256k1_ecdsa_signature sig;
    // RFC 6979 (libsecp256k1's default, named so that a change of default cannot change our
    // signatures) and no extra data: deterministic, and no grinding for a low R.
    SATLOAD_ASSERT(secp256k1_ecdsa_sign(context(), &sig, digest.data(), m_bytes.data(),
                                        secp256k1_nonce_function_rfc6979, nullptr) == 1);
    std::array<std::uint8_t, kMaxDerSignatureBytes> der{};
    std::size_t len = der.size();
    SATLOAD_ASSERT(secp256k1_ecdsa_signature_serialize_der(context(), der.data(), &len, &sig) == 1);
    return Bytes(der.begin(), der.begin() + static_cast<std::ptrdiff_t>(len));
}

bool PrivateKey::operator==(const PrivateKey& other) const {
    return crypto::constant_time_equal(m_bytes, other.m_bytes);
}

std::string encode_wif(const NetworkParams& network, const PrivateKey& key) {
    std::array<std::uint8_t, 1 + kPrivateKeyBytes + 1> payload{};
    payload[0] = network.wif_prefix;
    std::copy(key.bytes().begin(), key.bytes().end(), payload.begin() + 1);
    payload[payload.size() - 1] = 0x01;  // the public key is used compressed
    std::string out = base58check_encode(payload);
    crypto::secure_wipe(payload);
    return out;
}

}  // namespace satload::chain
