// Produces any byte range of a file's RFC 8188 body on demand by reading the plaintext records
// it covers and encrypting them, so an upload never holds more than one chunk in memory and a
// resumed upload regenerates exactly the bytes it sent before (encryption is deterministic
// for a given key, salt and record index).
#pragma once

#include <cstdint>
#include <span>

#include "client/error.h"
#include "crypto/ece.h"

namespace satload::client {

// Plaintext read from the file in one pread, in whole records.
inline constexpr std::size_t kReadBatchBytes = 4u << 20;

class CiphertextReader {
public:
    // `fd` stays owned by the caller and is only used with pread, so several readers (one per
    // thread) may share it.
    CiphertextReader(int fd, std::uint64_t plaintext_bytes, const crypto::ece::Key& content_ikm,
                     const crypto::ece::Header& header);

    [[nodiscard]] std::uint64_t body_bytes() const { return m_body_bytes; }
    [[nodiscard]] const crypto::ece::Layout& layout() const { return m_layout; }

    // Fills `out` with body bytes starting at `offset`; the range must lie inside the body.
    // Fails with file_changed when the file is shorter than it was, file_io on read errors.
    [[nodiscard]] ClientResult<void> read(std::uint64_t offset, std::span<std::uint8_t> out);

private:
    int m_fd;
    std::uint64_t m_plaintext_bytes;
    crypto::ece::Encoder m_encoder;
    crypto::ece::Layout m_layout;
    std::uint64_t m_records;
    std::uint64_t m_body_bytes;
    Bytes m_header_bytes;
    Bytes m_plaintext;  // one batch of records
    Bytes m_record;     // one encrypted record, for ranges that start or end inside one
};

}  // namespace satload::client
