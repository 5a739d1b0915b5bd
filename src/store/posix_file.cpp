// POSIX file helpers: EINTR and short-transfer loops, errno to StoreError.
#include "store/posix_file.h"

#include <cerrno>
#include <cstring>
#include <limits>
#include <string>
#include <unistd.h>

namespace satload::store {

UniqueFd::~UniqueFd() {
    // close() is not retried on EINTR: on Linux the descriptor is released either way.
    if (m_fd >= 0) ::close(m_fd);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = other.release();
    }
    return *this;
}

int UniqueFd::release() {
    const int fd = m_fd;
    m_fd = -1;
    return fd;
}

StoreFailure errno_failure(int err, std::string_view what) {
    StoreError code = StoreError::io;
    switch (err) {
    case ENOENT: code = StoreError::not_found; break;
    case EEXIST: code = StoreError::exists; break;
    case ENOSPC:
    case EDQUOT: code = StoreError::no_space; break;
    default: break;
    }
    std::string message(what);
    message += ": ";
    message += std::strerror(err);
    return StoreFailure{code, std::move(message)};
}

StoreResult<void> write_all_at(int fd, std::uint64_t offset, std::span<const std::uint8_t> data,
                               std::uint64_t& written_bytes) {
    written_bytes = 0;
    while (!data.empty()) {
        if (offset > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max()) - data.size()) {
            return fail(errno_failure(EFBIG, "write"));
        }
        const ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(errno_failure(errno, "write"));
        }
        // pwrite of a non-empty buffer to a regular file returns 0 only on a broken device.
        if (n == 0) return fail(errno_failure(EIO, "write"));
        const auto done = static_cast<std::size_t>(n);
        data = data.subspan(done);
        offset += done;
        written_bytes += done;
    }
    return {};
}

StoreResult<std::size_t> read_full_at(int fd, std::uint64_t offset, std::span<std::uint8_t> out) {
    std::size_t total = 0;
    while (total < out.size()) {
        if (offset + total > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max())) break;
        const ssize_t n = ::pread(fd, out.data() + total, out.size() - total,
                                  static_cast<off_t>(offset + total));
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(errno_failure(errno, "read"));
        }
        if (n == 0) break;  // end of file
        total += static_cast<std::size_t>(n);
    }
    return total;
}

StoreResult<void> fsync_fd(int fd, std::string_view what) {
    // fsync is not retried on failure: after a failed fsync the page cache may already have
    // dropped the dirty pages, so a retry could report success for lost data.
    if (::fsync(fd) != 0) return fail(errno_failure(errno, what));
    return {};
}

StoreResult<void> fdatasync_fd(int fd, std::string_view what) {
    if (::fdatasync(fd) != 0) return fail(errno_failure(errno, what));
    return {};
}

}  // namespace satload::store
