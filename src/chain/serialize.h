// Bitcoin's wire encoding primitives: little-endian integers and CompactSize lengths, read from
// a bounded buffer (never past its end) and written to a byte vector. Readers refuse
// non-canonical CompactSize encodings, as Bitcoin Core does, so that everything parsed
// re-encodes to the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/encoding.h"

namespace satload::chain {

// The largest CompactSize Bitcoin Core's deserializer accepts (MAX_SIZE); our own limits on
// counts and lengths are far below it.
inline constexpr std::uint64_t kMaxCompactSize = 0x02000000;

class ByteReader {
public:
    explicit ByteReader(ByteSpan data) : m_data(data) {}

    [[nodiscard]] std::size_t remaining() const { return m_data.size() - m_offset; }
    [[nodiscard]] std::size_t offset() const { return m_offset; }
    [[nodiscard]] bool at_end() const { return remaining() == 0; }

    // Each returns nullopt (and consumes nothing) when the buffer is too short.
    [[nodiscard]] std::optional<std::uint8_t> u8();
    [[nodiscard]] std::optional<std::uint32_t> u32();
    [[nodiscard]] std::optional<std::uint64_t> u64();
    [[nodiscard]] std::optional<ByteSpan> bytes(std::size_t n);
    // The next byte without consuming it.
    [[nodiscard]] std::optional<std::uint8_t> peek() const;

    enum class CompactSizeError { truncated, non_canonical, too_large };
    struct CompactSize {
        std::uint64_t value = 0;
        std::optional<CompactSizeError> error;
    };
    // A CompactSize at most kMaxCompactSize, minimally encoded.
    [[nodiscard]] CompactSize compact_size();

private:
    ByteSpan m_data;
    std::size_t m_offset = 0;
};

class ByteWriter {
public:
    void u8(std::uint8_t v) { m_out.push_back(v); }
    void u32(std::uint32_t v);
    void u64(std::uint64_t v);
    void compact_size(std::uint64_t v);
    void bytes(ByteSpan b) { m_out.insert(m_out.end(), b.begin(), b.end()); }
    // A CompactSize length followed by the bytes.
    void var_bytes(ByteSpan b) {
        compact_size(b.size());
        bytes(b);
    }

    [[nodiscard]] const Bytes& data() const { return m_out; }
    [[nodiscard]] Bytes take() { return std::move(m_out); }

private:
    Bytes m_out;
};

// Bytes compact_size(n) writes.
[[nodiscard]] std::size_t compact_size_bytes(std::uint64_t n);

}  // namespace satload::chain
