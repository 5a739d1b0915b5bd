// CiphertextReader: record arithmetic from ece::Layout, plaintext by pread, one Encoder.
#include "client/ciphertext_reader.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/check.h"

namespace satload::client {

CiphertextReader::CiphertextReader(int fd, std::uint64_t plaintext_bytes,
                                   const crypto::ece::Key& content_ikm,
                                   const crypto::ece::Header& header)
    : m_fd(fd),
      m_plaintext_bytes(plaintext_bytes),
      m_encoder(content_ikm, header),
      m_layout{header.size(), header.record_size},
      m_records(m_layout.record_count(plaintext_bytes)),
      m_body_bytes(m_layout.ciphertext_size(plaintext_bytes)),
      m_header_bytes(crypto::ece::serialize_header(header)),
      m_record(header.record_size) {
    const std::size_t per_record = m_layout.plaintext_per_record();
    m_plaintext.resize(std::max<std::size_t>(1, kReadBatchBytes / per_record) * per_record);
}

ClientResult<void> CiphertextReader::read(std::uint64_t offset, std::span<std::uint8_t> out) {
    SATLOAD_ASSERT(offset <= m_body_bytes && out.size() <= m_body_bytes - offset);
    std::size_t done = 0;
    // The header.
    if (offset < m_header_bytes.size() && !out.empty()) {
        const std::size_t n = std::min<std::size_t>(out.size(), m_header_bytes.size() - offset);
        std::memcpy(out.data(), m_header_bytes.data() + offset, n);
        done = n;
    }
    const std::uint64_t per_record = m_layout.plaintext_per_record();
    const std::size_t batch_records = m_plaintext.size() / per_record;
    while (done < out.size()) {
        const std::uint64_t pos = offset + done;
        const std::uint64_t index = (pos - m_layout.header_bytes) / m_layout.record_size;
        SATLOAD_ASSERT(index < m_records);
        // Read a batch of plaintext records starting at `index`.
        const std::uint64_t batch_end = std::min<std::uint64_t>(m_records, index + batch_records);
        const std::uint64_t plain_begin = index * per_record;
        const std::uint64_t plain_end = std::min(m_plaintext_bytes, batch_end * per_record);
        const std::size_t want = static_cast<std::size_t>(plain_end - plain_begin);
        std::size_t got = 0;
        while (got < want) {
            const ssize_t n = ::pread(m_fd, m_plaintext.data() + got, want - got,
                                      static_cast<off_t>(plain_begin + got));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                return client_error(ErrorCode::file_io,
                                    std::string("cannot read the file: ") + std::strerror(errno));
            }
            if (n == 0) {
                return client_error(ErrorCode::file_changed,
                                    "the file became shorter while it was being uploaded");
            }
            got += static_cast<std::size_t>(n);
        }
        for (std::uint64_t i = index; i < batch_end && done < out.size(); ++i) {
            const std::uint64_t record_begin = m_layout.record_offset(i);
            const bool last = i + 1 == m_records;
            const std::uint64_t record_end = last ? m_body_bytes : m_layout.record_offset(i + 1);
            const std::size_t plain_offset = static_cast<std::size_t>((i - index) * per_record);
            const std::size_t plain_len = static_cast<std::size_t>(
                std::min<std::uint64_t>(per_record, m_plaintext_bytes - i * per_record));
            const ByteSpan plain(m_plaintext.data() + plain_offset, plain_len);
            const std::uint64_t here = offset + done;
            const std::size_t record_len = static_cast<std::size_t>(record_end - record_begin);
            if (here == record_begin && out.size() - done >= record_len) {
                // The whole record lands in `out`: encrypt in place, no copy.
                const std::size_t n =
                    m_encoder.encrypt_record(i, plain, last, out.subspan(done, record_len));
                SATLOAD_ASSERT(n == record_len);
                done += n;
            } else {
                const std::size_t n = m_encoder.encrypt_record(i, plain, last, m_record);
                SATLOAD_ASSERT(n == record_len);
                const std::size_t skip = static_cast<std::size_t>(here - record_begin);
                const std::size_t take = std::min(record_len - skip, out.size() - done);
                std::memcpy(out.data() + done, m_record.data() + skip, take);
                done += take;
            }
        }
    }
    return {};
}

}  // namespace satload::client
