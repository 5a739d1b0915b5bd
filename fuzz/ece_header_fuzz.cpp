// Fuzzes the RFC 8188 header parser and the layout arithmetic: no crash; an accepted header
// is within limits and serializes back to the bytes it was parsed from; plaintext_size and
// ciphertext_size stay exact inverses for the parsed record size.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "crypto/ece.h"

namespace ece = satload::crypto::ece;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const satload::ByteSpan input(data, size);
    const auto header = ece::parse_header(input);
    if (!header) {
        if (header.error().code != ece::Error::malformed_header) std::abort();
        return 0;
    }
    if (header->record_size < ece::kMinRecordSize || header->record_size > ece::kMaxRecordSize) {
        std::abort();
    }
    if (header->size() > size || header->key_id.size() != data[20]) std::abort();
    const satload::Bytes again = ece::serialize_header(*header);
    if (!std::equal(again.begin(), again.end(), data, data + header->size())) std::abort();

    const ece::Layout layout = ece::Layout::of(*header);
    // Whatever the input's length, a size that maps to a plaintext size maps back to itself.
    if (const auto p = layout.plaintext_size(size)) {
        if (layout.ciphertext_size(*p) != size) std::abort();
    }
    // And a plaintext size taken from the input (bounded so the ciphertext fits 64 bits)
    // maps forward and back to itself, record by record.
    std::uint64_t p = 0;
    for (std::size_t i = header->size(); i < size && i < header->size() + 5; ++i) {
        p = (p << 8) | data[i];
    }
    const std::uint64_t c = layout.ciphertext_size(p);
    if (layout.plaintext_size(c) != p) std::abort();
    const std::uint64_t count = layout.record_count(p);
    const std::uint64_t last = layout.record_ciphertext_bytes(count - 1, p);
    if (last < 17 || last >= header->record_size) std::abort();
    if (layout.record_offset(count - 1) + last != c) std::abort();
    return 0;
}
