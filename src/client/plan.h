// How a transfer is cut up: upload parts on record boundaries (so each part is produced by
// encrypting whole records) and download segments of whole records (so each decrypts alone).
#pragma once

#include <cstdint>
#include <vector>

#include "crypto/ece.h"

namespace satload::client {

// More parts than this buys nothing and costs connections on the server.
inline constexpr unsigned kMaxParallelParts = 16;
// A part smaller than this is not worth its own upload: small files go up in one.
inline constexpr std::uint64_t kDefaultMinPartBytes = 16ull << 20;

// A byte range of the ciphertext body [begin_bytes, end_bytes) holding records
// [first_record, end_record); the first range also holds the header.
struct BodyRange {
    std::uint64_t begin_bytes = 0;
    std::uint64_t end_bytes = 0;
    std::uint64_t first_record = 0;
    std::uint64_t end_record = 0;
    [[nodiscard]] std::uint64_t size_bytes() const { return end_bytes - begin_bytes; }
    friend bool operator==(const BodyRange&, const BodyRange&) = default;
};

// The body of a plaintext of `plaintext_bytes` in at most `max_parts` parts of at least
// `min_part_bytes` each (one part when the body is smaller than two of those), each holding a
// near-equal share of whole records. The parts cover the body exactly, in order.
[[nodiscard]] std::vector<BodyRange> plan_parts(const crypto::ece::Layout& layout,
                                                std::uint64_t plaintext_bytes, unsigned max_parts,
                                                std::uint64_t min_part_bytes);

// The records of the body in segments of `records_per_segment` records (the last may be
// shorter); ranges exclude the header, which the downloader reads on its own.
[[nodiscard]] std::vector<BodyRange> plan_segments(const crypto::ece::Layout& layout,
                                                   std::uint64_t plaintext_bytes,
                                                   std::uint64_t records_per_segment);

// The ciphertext range of records [first, end) of a body of `plaintext_bytes`.
[[nodiscard]] BodyRange record_range(const crypto::ece::Layout& layout,
                                     std::uint64_t plaintext_bytes, std::uint64_t first,
                                     std::uint64_t end);

}  // namespace satload::client
