// Little-endian integers and CompactSize lengths (see serialize.h).
#include "chain/serialize.h"

namespace satload::chain {

std::optional<std::uint8_t> ByteReader::u8() {
    if (remaining() < 1) return std::nullopt;
    return m_data[m_offset++];
}

std::optional<std::uint8_t> ByteReader::peek() const {
    if (remaining() < 1) return std::nullopt;
    return m_data[m_offset];
}

std::optional<std::uint32_t> ByteReader::u32() {
    if (remaining() < 4) return std::nullopt;
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | m_data[m_offset + static_cast<std::size_t>(i)];
    m_offset += 4;
    return v;
}

std::optional<std::uint64_t> ByteReader::u64() {
    if (remaining() < 8) return std::nullopt;
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | m_data[m_offset + static_cast<std::size_t>(i)];
    m_offset += 8;
    return v;
}

std::optional<ByteSpan> ByteReader::bytes(std::size_t n) {
    if (remaining() < n) return std::nullopt;
    const ByteSpan out = m_data.subspan(m_offset, n);
    m_offset += n;
    return out;
}

ByteReader::CompactSize ByteReader::compact_size() {
    CompactSize r;
    const std::size_t start = m_offset;
    const auto first = u8();
    if (!first) {
        r.error = CompactSizeError::truncated;
        return r;
    }
    std::uint64_t v = *first;
    std::uint64_t minimum = 0;
    if (*first == 0xfd) {
        if (remaining() < 2) {
            m_offset = start;
            r.error = CompactSizeError::truncated;
            return r;
        }
        v = static_cast<std::uint64_t>(m_data[m_offset]) |
            (static_cast<std::uint64_t>(m_data[m_offset + 1]) << 8);
        m_offset += 2;
        minimum = 0xfd;
    } else if (*first == 0xfe) {
        const auto w = u32();
        if (!w) {
            m_offset = start;
            r.error = CompactSizeError::truncated;
            return r;
        }
        v = *w;
        minimum = 0x10000;
    } else if (*first == 0xff) {
        const auto w = u64();
        if (!w) {
            m_offset = start;
            r.error = CompactSizeError::truncated;
            return r;
        }
        v = *w;
        minimum = 0x100000000ULL;
    }
    if (v < minimum) {
        r.error = CompactSizeError::non_canonical;
    } else if (v > kMaxCompactSize) {
        r.error = CompactSizeError::too_large;
    }
    r.value = v;
    return r;
}

void ByteWriter::u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) m_out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void ByteWriter::u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) m_out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void ByteWriter::compact_size(std::uint64_t v) {
    if (v < 0xfd) {
        u8(static_cast<std::uint8_t>(v));
    } else if (v <= 0xffff) {
        u8(0xfd);
        u8(static_cast<std::uint8_t>(v));
        u8(static_cast<std::uint8_t>(v >> 8));
    } else if (v <= 0xffffffffULL) {
        u8(0xfe);
        u32(static_cast<std::uint32_t>(v));
    } else {
        u8(0xff);
        u64(v);
    }
}

std::size_t compact_size_bytes(std::uint64_t n) {
    if (n < 0xfd) return 1;
    if (n <= 0xffff) return 3;
    if (n <= 0xffffffffULL) return 5;
    return 9;
}

}  // namespace satload::chain
