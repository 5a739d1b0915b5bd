// RFC 8188 "aes128gcm" on OpenSSL 3 EVP: key and nonce derivation, record encryption and
// decryption with one reused cipher context, the header codec, layout arithmetic and the
// streaming decoder.
#include "crypto/ece.h"

#include <openssl/evp.h>

#include <algorithm>
#include <limits>
#include <string_view>

#include "core/check.h"
#include "crypto/primitives.h"

namespace satload::crypto::ece {
namespace {

// RFC 8188 section 2.2 and 2.3: the HKDF info strings include their terminating zero byte.
constexpr std::string_view kCekInfo{"Content-Encoding: aes128gcm\0", 28};
constexpr std::string_view kNonceInfo{"Content-Encoding: nonce\0", 24};
// Per-record overhead: the AEAD tag plus the one-byte delimiter.
constexpr std::size_t kRecordOverheadBytes = kTagBytes + 1;

EVP_CIPHER_CTX* cipher_ctx(void* p) {
    return static_cast<EVP_CIPHER_CTX*>(p);
}

bool record_size_valid(std::uint32_t record_size) {
    return record_size >= kMinRecordSize && record_size <= kMaxRecordSize;
}

// Derives the content-encryption key and base nonce, and keys a fresh AES-128-GCM context
// once, so each record only sets its nonce (no key schedule per record).
void* make_context(const Key& ikm, const Header& header, std::array<std::uint8_t, kKeyBytes>& cek,
                   std::array<std::uint8_t, kNonceBytes>& nonce, bool encrypt) {
    SATLOAD_ASSERT(record_size_valid(header.record_size));
    SATLOAD_ASSERT(header.key_id.size() <= kMaxKeyIdBytes);
    hkdf_sha256(ikm, header.salt, as_bytes(kCekInfo), cek);
    hkdf_sha256(ikm, header.salt, as_bytes(kNonceInfo), nonce);

    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    SATLOAD_ASSERT(ctx != nullptr);
    EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
    SATLOAD_ASSERT(cipher != nullptr);
    const int ok = EVP_CipherInit_ex(ctx, cipher, nullptr, cek.data(), nullptr, encrypt ? 1 : 0);
    EVP_CIPHER_free(cipher);  // the context keeps its own reference
    SATLOAD_ASSERT(ok == 1);
    SATLOAD_ASSERT(EVP_CIPHER_CTX_get_iv_length(ctx) == static_cast<int>(kNonceBytes));
    return ctx;
}

// RFC 8188 section 2.3: the record nonce is the base nonce XOR the big-endian 96-bit
// sequence number; a 64-bit index leaves the top four bytes untouched.
std::array<std::uint8_t, kNonceBytes> record_nonce(const std::array<std::uint8_t, kNonceBytes>& base,
                                                   std::uint64_t index) {
    std::array<std::uint8_t, kNonceBytes> nonce = base;
    for (std::size_t i = 0; i < 8; ++i) {
        nonce[kNonceBytes - 1 - i] ^= static_cast<std::uint8_t>(index >> (8 * i));
    }
    return nonce;
}

void free_context(void*& ctx) {
    EVP_CIPHER_CTX_free(cipher_ctx(ctx));  // also clears the key schedule
    ctx = nullptr;
}

}  // namespace

std::string Failure::message() const {
    const std::string r = std::to_string(record);
    switch (code) {
        case Error::malformed_header:
            return "malformed encryption header";
        case Error::authentication_failed:
            return "record " + r + " failed authentication (wrong key, or corrupted data)";
        case Error::bad_padding:
            return "record " + r + " has an invalid delimiter or padding";
        case Error::truncated:
            return "encrypted body is truncated at record " + r;
        case Error::trailing_data:
            return "unexpected data after the last record (record " + r + ")";
    }
    return "unknown decryption error";
}

// --- header -------------------------------------------------------------------------------

EceResult<Header> parse_header(ByteSpan data) {
    if (data.size() < kHeaderBaseBytes) return fail(Failure{Error::malformed_header, 0});
    Header header;
    std::copy_n(data.begin(), kSaltBytes, header.salt.begin());
    header.record_size = (std::uint32_t{data[16]} << 24) | (std::uint32_t{data[17]} << 16) |
                         (std::uint32_t{data[18]} << 8) | std::uint32_t{data[19]};
    const std::size_t key_id_bytes = data[20];
    if (!record_size_valid(header.record_size) || data.size() < kHeaderBaseBytes + key_id_bytes) {
        return fail(Failure{Error::malformed_header, 0});
    }
    header.key_id.assign(data.begin() + kHeaderBaseBytes,
                         data.begin() + static_cast<std::ptrdiff_t>(kHeaderBaseBytes + key_id_bytes));
    return header;
}

Bytes serialize_header(const Header& header) {
    SATLOAD_ASSERT(record_size_valid(header.record_size));
    SATLOAD_ASSERT(header.key_id.size() <= kMaxKeyIdBytes);
    Bytes out;
    out.reserve(header.size());
    out.insert(out.end(), header.salt.begin(), header.salt.end());
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>(header.record_size >> shift));
    }
    out.push_back(static_cast<std::uint8_t>(header.key_id.size()));
    out.insert(out.end(), header.key_id.begin(), header.key_id.end());
    return out;
}

// --- layout -------------------------------------------------------------------------------

std::uint64_t Layout::record_count(std::uint64_t plaintext_bytes) const {
    SATLOAD_ASSERT(record_size_valid(record_size));
    return plaintext_bytes / plaintext_per_record() + 1;
}

std::uint64_t Layout::ciphertext_size(std::uint64_t plaintext_bytes) const {
    std::uint64_t overhead = 0;
    std::uint64_t total = 0;
    // Sizes near 2^64 cannot be stored anyway; overflow here is a caller's mistake.
    SATLOAD_ASSERT(!__builtin_mul_overflow(record_count(plaintext_bytes), kRecordOverheadBytes,
                                           &overhead));
    SATLOAD_ASSERT(!__builtin_add_overflow(plaintext_bytes, overhead, &total));
    SATLOAD_ASSERT(!__builtin_add_overflow(total, header_bytes, &total));
    return total;
}

std::optional<std::uint64_t> Layout::plaintext_size(std::uint64_t ciphertext_bytes) const {
    SATLOAD_ASSERT(record_size_valid(record_size));
    if (ciphertext_bytes < header_bytes) return std::nullopt;
    const std::uint64_t body = ciphertext_bytes - header_bytes;
    const std::uint64_t full_records = body / record_size;
    const std::uint64_t last_record_bytes = body % record_size;
    // Our last record is never full (a full one would have been followed by a delimiter-only
    // record), and it is at least the overhead.
    if (last_record_bytes < kRecordOverheadBytes) return std::nullopt;
    return full_records * plaintext_per_record() + (last_record_bytes - kRecordOverheadBytes);
}

std::uint64_t Layout::record_offset(std::uint64_t index) const {
    std::uint64_t offset = 0;
    SATLOAD_ASSERT(!__builtin_mul_overflow(index, std::uint64_t{record_size}, &offset));
    SATLOAD_ASSERT(!__builtin_add_overflow(offset, header_bytes, &offset));
    return offset;
}

std::uint64_t Layout::record_ciphertext_bytes(std::uint64_t index,
                                              std::uint64_t plaintext_bytes) const {
    const std::uint64_t count = record_count(plaintext_bytes);
    SATLOAD_ASSERT(index < count);
    if (index + 1 < count) return record_size;
    return plaintext_bytes % plaintext_per_record() + kRecordOverheadBytes;
}

// --- encoder ------------------------------------------------------------------------------

Encoder::Encoder(const Key& ikm, const Header& header) : m_header(header) {
    m_ctx = make_context(ikm, m_header, m_cek, m_nonce, true);
}

Encoder::~Encoder() {
    free_context(m_ctx);
    secure_wipe(m_cek);
    secure_wipe(m_nonce);
}

std::size_t Encoder::encrypt_record(std::uint64_t index, ByteSpan plaintext, bool last,
                                    std::span<std::uint8_t> out) {
    const std::size_t n = plaintext.size();
    SATLOAD_ASSERT(last ? n <= plaintext_per_record() : n == plaintext_per_record());
    SATLOAD_ASSERT(out.size() >= n + kRecordOverheadBytes);
    EVP_CIPHER_CTX* ctx = cipher_ctx(m_ctx);
    const auto nonce = record_nonce(m_nonce, index);
    SATLOAD_ASSERT(EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data()) == 1);

    // Two updates (data, then the delimiter) instead of copying the data next to its
    // delimiter: GCM is a stream mode, so the ciphertext is the same.
    int len = 0;
    if (n > 0) {
        SATLOAD_ASSERT(EVP_EncryptUpdate(ctx, out.data(), &len, plaintext.data(),
                                         static_cast<int>(n)) == 1);
        SATLOAD_ASSERT(static_cast<std::size_t>(len) == n);
    }
    const std::uint8_t delimiter = last ? kDelimiterLast : kDelimiterMore;
    SATLOAD_ASSERT(EVP_EncryptUpdate(ctx, out.data() + n, &len, &delimiter, 1) == 1 && len == 1);
    SATLOAD_ASSERT(EVP_EncryptFinal_ex(ctx, out.data() + n + 1, &len) == 1 && len == 0);
    SATLOAD_ASSERT(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagBytes),
                                       out.data() + n + 1) == 1);
    return n + kRecordOverheadBytes;
}

// --- decoder ------------------------------------------------------------------------------

Decoder::Decoder(const Key& ikm, const Header& header) : m_header(header) {
    m_ctx = make_context(ikm, m_header, m_cek, m_nonce, false);
}

Decoder::~Decoder() {
    free_context(m_ctx);
    secure_wipe(m_cek);
    secure_wipe(m_nonce);
}

EceResult<Decoder::Record> Decoder::decrypt_record(std::uint64_t index, ByteSpan ciphertext,
                                                   std::span<std::uint8_t> out) {
    const std::size_t size = ciphertext.size();
    if (size < kRecordOverheadBytes) return fail(Failure{Error::truncated, index});
    if (size > m_header.record_size) return fail(Failure{Error::trailing_data, index});
    // The padded plaintext is one byte longer than `out` needs to be for a full record: its
    // last byte is decrypted into `tail`, and is the delimiter unless the record is padded.
    const std::size_t padded_bytes = size - kTagBytes;
    const std::size_t head_bytes = padded_bytes - 1;
    SATLOAD_ASSERT(out.size() >= head_bytes);

    EVP_CIPHER_CTX* ctx = cipher_ctx(m_ctx);
    const auto nonce = record_nonce(m_nonce, index);
    SATLOAD_ASSERT(EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data()) == 1);
    int len = 0;
    if (head_bytes > 0) {
        SATLOAD_ASSERT(EVP_DecryptUpdate(ctx, out.data(), &len, ciphertext.data(),
                                         static_cast<int>(head_bytes)) == 1);
    }
    std::uint8_t tail = 0;
    SATLOAD_ASSERT(EVP_DecryptUpdate(ctx, &tail, &len, ciphertext.data() + head_bytes, 1) == 1);
    std::array<std::uint8_t, kTagBytes> tag{};
    std::copy_n(ciphertext.begin() + static_cast<std::ptrdiff_t>(padded_bytes), kTagBytes,
                tag.begin());
    SATLOAD_ASSERT(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagBytes),
                                       tag.data()) == 1);
    std::uint8_t final_block[16];
    if (EVP_DecryptFinal_ex(ctx, final_block, &len) != 1) {
        // Never hand out plaintext that did not authenticate.
        secure_wipe(out.data(), head_bytes);
        return fail(Failure{Error::authentication_failed, index});
    }

    // RFC 8188 section 2: the delimiter is the last non-zero byte; zeros after it are padding.
    std::uint8_t delimiter = tail;
    std::size_t data_bytes = head_bytes;
    while (delimiter == 0 && data_bytes > 0) {
        --data_bytes;
        delimiter = out[data_bytes];
    }
    if (delimiter != kDelimiterMore && delimiter != kDelimiterLast) {
        return fail(Failure{Error::bad_padding, index});
    }
    const bool last = delimiter == kDelimiterLast;
    // Every record but the last is exactly record_size: a short record that says more
    // follow can only be the end of a cut body.
    if (!last && size < m_header.record_size) return fail(Failure{Error::truncated, index});
    return Record{data_bytes, last};
}

// --- whole-buffer helpers -----------------------------------------------------------------

Bytes encrypt(const Key& ikm, ByteSpan plaintext, const Header& header) {
    Encoder encoder(ikm, header);
    const Layout layout = Layout::of(header);
    const std::uint64_t count = layout.record_count(plaintext.size());
    Bytes out = serialize_header(header);
    const std::size_t header_bytes = out.size();
    out.resize(static_cast<std::size_t>(layout.ciphertext_size(plaintext.size())));
    std::size_t written = header_bytes;
    const std::size_t per_record = encoder.plaintext_per_record();
    for (std::uint64_t i = 0; i < count; ++i) {
        const bool last = i + 1 == count;
        const ByteSpan chunk = plaintext.first(last ? plaintext.size() : per_record);
        plaintext = plaintext.subspan(chunk.size());
        written += encoder.encrypt_record(i, chunk, last, std::span(out).subspan(written));
    }
    SATLOAD_ASSERT(written == out.size() && plaintext.empty());
    return out;
}

EceResult<Bytes> decrypt(const Key& ikm, ByteSpan body) {
    StreamDecoder decoder(ikm);
    Bytes out;
    out.reserve(body.size());
    if (auto r = decoder.push(body, out); !r) return fail(r.error());
    if (auto r = decoder.finish(out); !r) return fail(r.error());
    return out;
}

// --- streaming decoder --------------------------------------------------------------------

struct StreamDecoder::State {
    Key ikm{};
    Bytes header_bytes;          // the header as it arrives
    std::optional<Decoder> decoder;
    Bytes pending;               // an incomplete record
    std::uint64_t next_record = 0;
    bool last_seen = false;
    std::optional<Failure> failure;  // sticky: once failed, always failed

    ~State() { secure_wipe(ikm); }

    // Decrypts one whole record and appends its plaintext to `out`.
    EceResult<void> decrypt_one(ByteSpan record, Bytes& out) {
        const std::size_t old_size = out.size();
        out.resize(old_size + decoder->header().record_size - kRecordOverheadBytes);
        auto r = decoder->decrypt_record(next_record, record, std::span(out).subspan(old_size));
        if (!r) {
            out.resize(old_size);
            failure = r.error();
            return fail(r.error());
        }
        out.resize(old_size + r->plaintext_bytes);
        ++next_record;
        last_seen = r->last;
        return {};
    }

    // Consumes header bytes from `chunk`; creates the decoder once the header is complete.
    EceResult<void> take_header(ByteSpan& chunk) {
        const std::size_t need =
            header_bytes.size() < kHeaderBaseBytes ? kHeaderBaseBytes
                                                   : kHeaderBaseBytes + header_bytes[20];
        const std::size_t take = std::min(need - header_bytes.size(), chunk.size());
        header_bytes.insert(header_bytes.end(), chunk.begin(),
                            chunk.begin() + static_cast<std::ptrdiff_t>(take));
        chunk = chunk.subspan(take);
        if (header_bytes.size() < kHeaderBaseBytes) return {};
        if (header_bytes.size() < kHeaderBaseBytes + header_bytes[20]) return {};
        auto header = parse_header(header_bytes);
        if (!header) {
            failure = header.error();
            return fail(header.error());
        }
        decoder.emplace(ikm, *header);
        secure_wipe(ikm);  // the decoder holds the derived key now
        pending.reserve(header->record_size);
        return {};
    }
};

StreamDecoder::StreamDecoder(const Key& ikm) : m_state(new State) {
    m_state->ikm = ikm;
}

StreamDecoder::~StreamDecoder() {
    delete m_state;
}

EceResult<void> StreamDecoder::push(ByteSpan chunk, Bytes& out) {
    State& s = *m_state;
    if (s.failure) return fail(*s.failure);
    while (!chunk.empty()) {
        if (!s.decoder) {
            if (auto r = s.take_header(chunk); !r) return r;
            continue;
        }
        if (s.last_seen) {
            s.failure = Failure{Error::trailing_data, s.next_record};
            return fail(*s.failure);
        }
        const std::size_t record_size = s.decoder->header().record_size;
        if (s.pending.empty() && chunk.size() >= record_size) {
            // A whole record in the caller's buffer: decrypt it in place, no copy.
            if (auto r = s.decrypt_one(chunk.first(record_size), out); !r) return r;
            chunk = chunk.subspan(record_size);
            continue;
        }
        const std::size_t take = std::min(record_size - s.pending.size(), chunk.size());
        s.pending.insert(s.pending.end(), chunk.begin(),
                         chunk.begin() + static_cast<std::ptrdiff_t>(take));
        chunk = chunk.subspan(take);
        if (s.pending.size() == record_size) {
            auto r = s.decrypt_one(s.pending, out);
            s.pending.clear();
            if (!r) return r;
        }
    }
    return {};
}

EceResult<void> StreamDecoder::finish(Bytes& out) {
    State& s = *m_state;
    if (s.failure) return fail(*s.failure);
    if (!s.decoder) {
        // The input ended inside the header.
        s.failure = Failure{Error::malformed_header, 0};
        return fail(*s.failure);
    }
    if (s.last_seen) return {};
    if (s.pending.empty()) {
        // Ended on a record boundary without a last delimiter (or with no record at all).
        s.failure = Failure{Error::truncated, s.next_record};
        return fail(*s.failure);
    }
    // Only now is the short record known to be complete.
    auto r = s.decrypt_one(s.pending, out);
    s.pending.clear();
    if (!r) return r;
    SATLOAD_ASSERT(s.last_seen);  // a short record without the last delimiter fails above
    return {};
}

}  // namespace satload::crypto::ece
