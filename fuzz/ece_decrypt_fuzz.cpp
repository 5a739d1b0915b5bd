// Fuzzes RFC 8188 decryption. The first input byte picks a mode:
//  0: the rest is a body, decrypted as is (header, truncation and tag paths);
//  1: the rest is a plaintext, encrypted by satload and optionally damaged; an undamaged body
//     must decrypt to the plaintext;
//  2: the rest is cut into record plaintexts with arbitrary delimiters and padding, validly
//     encrypted here, so the delimiter and padding rules run; the outcome must match an
//     independent model of RFC 8188.
// In every mode the streaming decoder, fed in chunk sizes drawn from the input, must agree
// with the whole-buffer decoder exactly (plaintext, or error and record).
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <vector>

#include "crypto/ece.h"
#include "crypto/primitives.h"

namespace {

using satload::Bytes;
using satload::ByteSpan;
namespace ece = satload::crypto::ece;

#define FUZZ_CHECK(cond) \
    do {                 \
        if (!(cond)) std::abort(); \
    } while (0)

ece::Key fuzz_key() {
    ece::Key k{};
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(i * 29 + 3);
    return k;
}

ece::Header fuzz_header(std::uint32_t record_size) {
    ece::Header h;
    h.salt.fill(0x5a);
    h.record_size = record_size;
    return h;
}

// The outcome of decrypting a body, comparable across decoders.
struct Outcome {
    std::optional<ece::Failure> failure;
    Bytes plaintext;
    bool operator==(const Outcome& o) const {
        if (failure.has_value() != o.failure.has_value()) return false;
        if (failure) return failure->code == o.failure->code && failure->record == o.failure->record;
        return plaintext == o.plaintext;
    }
};

Outcome whole(ByteSpan body) {
    auto r = ece::decrypt(fuzz_key(), body);
    if (!r) return {r.error(), {}};
    return {std::nullopt, std::move(*r)};
}

Outcome streamed(ByteSpan body, std::uint32_t seed) {
    ece::StreamDecoder d(fuzz_key());
    Bytes out;
    std::uint32_t state = seed * 2654435761u + 1;
    while (!body.empty()) {
        state = state * 1103515245u + 12345u;
        const std::size_t n = std::min<std::size_t>((state >> 16) % 300, body.size());
        if (auto r = d.push(body.first(n), out); !r) return {r.error(), {}};
        body = body.subspan(n);
    }
    if (auto r = d.finish(out); !r) return {r.error(), {}};
    return {std::nullopt, std::move(out)};
}

// Encrypts a record's padded plaintext exactly as given (RFC 8188 sections 2.2, 2.3).
Bytes raw_record(const ece::Header& h, std::uint64_t index, ByteSpan padded) {
    std::array<std::uint8_t, 16> cek{};
    std::array<std::uint8_t, 12> nonce{};
    satload::crypto::hkdf_sha256(fuzz_key(), h.salt,
        satload::as_bytes(std::string_view("Content-Encoding: aes128gcm\0", 28)), cek);
    satload::crypto::hkdf_sha256(fuzz_key(), h.salt,
        satload::as_bytes(std::string_view("Content-Encoding: nonce\0", 24)), nonce);
    for (std::size_t i = 0; i < 8; ++i) nonce[11 - i] ^= static_cast<std::uint8_t>(index >> (8 * i));
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    FUZZ_CHECK(EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, cek.data(), nonce.data()));
    Bytes out(padded.size() + 16);
    int len = 0;
    if (!padded.empty()) {
        FUZZ_CHECK(EVP_EncryptUpdate(ctx, out.data(), &len, padded.data(),
                                     static_cast<int>(padded.size())));
    }
    FUZZ_CHECK(EVP_EncryptFinal_ex(ctx, out.data() + padded.size(), &len));
    FUZZ_CHECK(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out.data() + padded.size()));
    EVP_CIPHER_CTX_free(ctx);
    return out;
}

// Mode 2's model: the outcome RFC 8188 prescribes for these record plaintexts.
Outcome model(const std::vector<ByteSpan>& records, std::uint32_t record_size) {
    Outcome o;
    for (std::size_t i = 0; i < records.size(); ++i) {
        const ByteSpan p = records[i];
        const bool full = p.size() + 16 == record_size;
        if (p.empty()) return {ece::Failure{ece::Error::truncated, i}, {}};  // < 17 bytes
        std::size_t end = p.size();
        while (end > 0 && p[end - 1] == 0) --end;
        if (end == 0 || (p[end - 1] != 1 && p[end - 1] != 2)) {
            return {ece::Failure{ece::Error::bad_padding, i}, {}};
        }
        o.plaintext.insert(o.plaintext.end(), p.begin(), p.begin() + static_cast<std::ptrdiff_t>(end - 1));
        if (p[end - 1] == 2) {
            if (i + 1 < records.size()) return {ece::Failure{ece::Error::trailing_data, i + 1}, {}};
            return o;
        }
        if (!full) return {ece::Failure{ece::Error::truncated, i}, {}};
    }
    return {ece::Failure{ece::Error::truncated, records.size()}, {}};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 3) return 0;
    const std::uint8_t mode = data[0] % 3;
    const std::uint32_t seed = data[1];
    const ByteSpan rest(data + 2, size - 2);

    if (mode == 0) {
        FUZZ_CHECK(whole(rest) == streamed(rest, seed));
        return 0;
    }

    const std::uint32_t record_size = ece::kMinRecordSize + rest[0];
    const ece::Header h = fuzz_header(record_size);
    const ByteSpan payload = rest.subspan(1);

    if (mode == 1) {
        Bytes body = ece::encrypt(fuzz_key(), payload, h);
        const ece::Layout layout = ece::Layout::of(h);
        FUZZ_CHECK(body.size() == layout.ciphertext_size(payload.size()));
        FUZZ_CHECK(layout.plaintext_size(body.size()) == payload.size());
        const bool damage = (seed & 0x80) != 0;
        const std::size_t where = (seed * 7919u + payload.size()) % body.size();
        if (damage) body[where] ^= 1;
        const Outcome w = whole(body);
        FUZZ_CHECK(w == streamed(body, seed));
        if (!damage) FUZZ_CHECK(!w.failure && w.plaintext == Bytes(payload.begin(), payload.end()));
        // RFC 8188 does not authenticate the record size (bytes 16-19): a one-record body
        // can still decrypt under a changed one. Every other change must be caught.
        const bool in_record_size = where >= 16 && where < 20;
        if (damage && !in_record_size) FUZZ_CHECK(w.failure.has_value());
        return 0;
    }

    // mode 2: full records take record_size - 16 plaintext bytes; the remainder (possibly
    // none) forms a last, shorter record.
    const std::size_t padded_full = record_size - 16;
    std::vector<ByteSpan> records;
    ByteSpan left = payload;
    while (left.size() >= padded_full) {
        records.push_back(left.first(padded_full));
        left = left.subspan(padded_full);
    }
    if (!left.empty() || (seed & 1)) records.push_back(left);
    Bytes body = ece::serialize_header(h);
    for (std::size_t i = 0; i < records.size(); ++i) {
        const Bytes rec = raw_record(h, i, records[i]);
        body.insert(body.end(), rec.begin(), rec.end());
    }
    const Outcome w = whole(body);
    FUZZ_CHECK(w == streamed(body, seed));
    FUZZ_CHECK(w == model(records, record_size));
    return 0;
}
