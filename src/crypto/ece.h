// RFC 8188 "aes128gcm" encrypted content coding: header codec, per-record encryption and
// decryption (so any record, and so any byte range, can be handled alone), streaming helpers
// and the layout arithmetic that maps plaintext ranges to ciphertext ranges.
//
// satload's encoder always writes every record full (record_size - 17 plaintext bytes) except
// the last, and never pads, so the plaintext size follows from the ciphertext size.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/encoding.h"
#include "core/result.h"

namespace satload::crypto::ece {

inline constexpr std::size_t kSaltBytes = 16;
inline constexpr std::size_t kKeyBytes = 16;     // AES-128
inline constexpr std::size_t kNonceBytes = 12;
inline constexpr std::size_t kTagBytes = 16;
inline constexpr std::size_t kHeaderBaseBytes = 21;  // salt(16) + rs(4) + idlen(1)
// Smallest record that can carry a delimiter: tag + 1 byte (RFC 8188 section 2.1).
inline constexpr std::uint32_t kMinRecordSize = 18;
// Our own limit, so a hostile header cannot make a reader allocate gigabytes per record.
inline constexpr std::uint32_t kMaxRecordSize = 16u * 1024 * 1024;
inline constexpr std::uint32_t kDefaultRecordSize = 64u * 1024;
inline constexpr std::size_t kMaxKeyIdBytes = 255;
inline constexpr std::uint8_t kDelimiterMore = 0x01;
inline constexpr std::uint8_t kDelimiterLast = 0x02;

using Salt = std::array<std::uint8_t, kSaltBytes>;
using Key = std::array<std::uint8_t, kKeyBytes>;  // an input keying material (IKM)

enum class Error {
    malformed_header,       // fewer bytes than the header declares, or a record size out of range
    authentication_failed,  // a record's tag did not verify: flipped bit, wrong key, reordering
    bad_padding,            // a record decrypted but its delimiter/padding is invalid
    truncated,              // the body ended before a record with the last-record delimiter
    trailing_data,          // bytes after the last record
};

struct Failure {
    Error code;
    std::uint64_t record = 0;  // index of the record concerned (0-based); 0 for header errors
    [[nodiscard]] std::string message() const;
};

template <class T>
using EceResult = Result<T, Failure>;

struct Header {
    Salt salt{};
    std::uint32_t record_size = kDefaultRecordSize;
    Bytes key_id;
    [[nodiscard]] std::size_t size() const { return kHeaderBaseBytes + key_id.size(); }
};

// Parses the header at the start of `data`. Errors: malformed_header.
[[nodiscard]] EceResult<Header> parse_header(ByteSpan data);
[[nodiscard]] Bytes serialize_header(const Header& header);

// Ciphertext layout of a body written by satload's encoder (full records, no padding).
// It writes plaintext_bytes / plaintext_per_record() + 1 records: when the plaintext size is an
// exact multiple of plaintext_per_record() (0 included), the last record carries only the
// last delimiter (17 bytes of ciphertext). Other encoders (the npm http_ece package) end such
// a body with a full record instead; the decoders accept both, but Layout describes only ours.
struct Layout {
    std::size_t header_bytes = kHeaderBaseBytes;
    std::uint32_t record_size = kDefaultRecordSize;

    [[nodiscard]] static Layout of(const Header& header) {
        return Layout{header.size(), header.record_size};
    }

    [[nodiscard]] std::uint64_t plaintext_per_record() const { return record_size - 17u; }
    [[nodiscard]] std::uint64_t record_count(std::uint64_t plaintext_bytes) const;
    [[nodiscard]] std::uint64_t ciphertext_size(std::uint64_t plaintext_bytes) const;
    // Inverse of ciphertext_size; nullopt when no plaintext size maps to this size.
    [[nodiscard]] std::optional<std::uint64_t> plaintext_size(std::uint64_t ciphertext_bytes) const;
    // Byte offset of record `index` in the body.
    [[nodiscard]] std::uint64_t record_offset(std::uint64_t index) const;
    // Ciphertext bytes of record `index` (< record_count) in a body of `plaintext_bytes`.
    [[nodiscard]] std::uint64_t record_ciphertext_bytes(std::uint64_t index,
                                                        std::uint64_t plaintext_bytes) const;
};

// Encrypts records with the content-encryption key and nonce derived from (ikm, salt).
// Thread-compatible; each thread may own one Encoder for parallel encryption.
class Encoder {
public:
    Encoder(const Key& ikm, const Header& header);
    ~Encoder();
    Encoder(const Encoder&) = delete;
    Encoder& operator=(const Encoder&) = delete;

    [[nodiscard]] const Header& header() const { return m_header; }
    [[nodiscard]] std::size_t plaintext_per_record() const { return m_header.record_size - 17u; }
    // Encrypts record `index`. `plaintext` must be exactly plaintext_per_record() bytes unless
    // `last`, then at most that. Writes plaintext.size() + 17 bytes to `out`, which must be
    // at least that large; returns the count written. `out` may start at plaintext.data()
    // (in-place encryption).
    std::size_t encrypt_record(std::uint64_t index, ByteSpan plaintext, bool last,
                               std::span<std::uint8_t> out);

private:
    Header m_header;
    std::array<std::uint8_t, kKeyBytes> m_cek{};
    std::array<std::uint8_t, kNonceBytes> m_nonce{};
    void* m_ctx = nullptr;  // EVP_CIPHER_CTX, reused across records
};

class Decoder {
public:
    Decoder(const Key& ikm, const Header& header);
    ~Decoder();
    Decoder(const Decoder&) = delete;
    Decoder& operator=(const Decoder&) = delete;

    [[nodiscard]] const Header& header() const { return m_header; }
    // Decrypts record `index` (its whole ciphertext: record_size bytes, fewer for the last).
    // Writes the plaintext (without delimiter or padding) to `out` (record_size - 17 bytes
    // suffice) and returns its length and whether the record carried the last delimiter.
    // Errors: authentication_failed; bad_padding (no delimiter, or one other than 1 or 2);
    // truncated (fewer than 17 bytes, or a short record without the last delimiter, which
    // only a cut body has); trailing_data (more than record_size bytes). On error `out`
    // holds no unauthenticated plaintext. `out` may start at ciphertext.data() (in-place).
    struct Record {
        std::size_t plaintext_bytes = 0;
        bool last = false;
    };
    [[nodiscard]] EceResult<Record> decrypt_record(std::uint64_t index, ByteSpan ciphertext,
                                                   std::span<std::uint8_t> out);

private:
    Header m_header;
    std::array<std::uint8_t, kKeyBytes> m_cek{};
    std::array<std::uint8_t, kNonceBytes> m_nonce{};
    void* m_ctx = nullptr;
};

// Whole-buffer helpers (tests, metadata, small bodies).
[[nodiscard]] Bytes encrypt(const Key& ikm, ByteSpan plaintext, const Header& header);
[[nodiscard]] EceResult<Bytes> decrypt(const Key& ikm, ByteSpan body);

// Incremental decoder for a whole body arriving in chunks of any size: checks record order,
// the last delimiter, truncation and trailing data.
class StreamDecoder {
public:
    explicit StreamDecoder(const Key& ikm);
    ~StreamDecoder();
    StreamDecoder(const StreamDecoder&) = delete;
    StreamDecoder& operator=(const StreamDecoder&) = delete;
    // Appends decrypted plaintext to `out`.
    [[nodiscard]] EceResult<void> push(ByteSpan chunk, Bytes& out);
    // Call at end of input: decrypts a final record shorter than record_size (only the end
    // of input says it is complete) and appends its plaintext to `out`; truncated unless a
    // record with the last delimiter was seen.
    [[nodiscard]] EceResult<void> finish(Bytes& out);

private:
    struct State;
    State* m_state;
};

}  // namespace satload::crypto::ece
