// Part and segment planning: pure arithmetic over crypto::ece::Layout.
#include "client/plan.h"

#include <algorithm>

#include "core/check.h"

namespace satload::client {

BodyRange record_range(const crypto::ece::Layout& layout, std::uint64_t plaintext_bytes,
                       std::uint64_t first, std::uint64_t end) {
    const std::uint64_t records = layout.record_count(plaintext_bytes);
    SATLOAD_ASSERT(first < end && end <= records);
    BodyRange range;
    range.first_record = first;
    range.end_record = end;
    range.begin_bytes = layout.record_offset(first);
    range.end_bytes =
        end == records ? layout.ciphertext_size(plaintext_bytes) : layout.record_offset(end);
    return range;
}

std::vector<BodyRange> plan_parts(const crypto::ece::Layout& layout, std::uint64_t plaintext_bytes,
                                  unsigned max_parts, std::uint64_t min_part_bytes) {
    SATLOAD_ASSERT(max_parts >= 1 && max_parts <= kMaxParallelParts);
    SATLOAD_ASSERT(min_part_bytes > 0);
    const std::uint64_t records = layout.record_count(plaintext_bytes);
    const std::uint64_t total = layout.ciphertext_size(plaintext_bytes);
    const std::uint64_t by_size = std::max<std::uint64_t>(1, total / min_part_bytes);
    const std::uint64_t parts = std::min<std::uint64_t>({by_size, max_parts, records});
    std::vector<BodyRange> out;
    out.reserve(parts);
    for (std::uint64_t k = 0; k < parts; ++k) {
        // Spread the remainder over the first parts: sizes differ by at most one record.
        const std::uint64_t first = k * records / parts;
        const std::uint64_t end = (k + 1) * records / parts;
        BodyRange range = record_range(layout, plaintext_bytes, first, end);
        if (k == 0) range.begin_bytes = 0;  // the header travels with the first part
        out.push_back(range);
    }
    return out;
}

std::vector<BodyRange> plan_segments(const crypto::ece::Layout& layout,
                                     std::uint64_t plaintext_bytes,
                                     std::uint64_t records_per_segment) {
    SATLOAD_ASSERT(records_per_segment > 0);
    const std::uint64_t records = layout.record_count(plaintext_bytes);
    std::vector<BodyRange> out;
    out.reserve((records + records_per_segment - 1) / records_per_segment);
    for (std::uint64_t first = 0; first < records; first += records_per_segment) {
        out.push_back(record_range(layout, plaintext_bytes, first,
                                   std::min(records, first + records_per_segment)));
    }
    return out;
}

}  // namespace satload::client
