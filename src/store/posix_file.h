// POSIX file helpers for the local blob store: an owning file descriptor, and reads, writes
// and syncs that retry EINTR and short transfers and report failures as StoreFailure.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "store/blob_store.h"

namespace satload::store {

// Owns one file descriptor and closes it on destruction; move-only.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : m_fd(fd) {}
    ~UniqueFd();
    UniqueFd(UniqueFd&& other) noexcept : m_fd(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept;
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    [[nodiscard]] int get() const { return m_fd; }
    [[nodiscard]] bool valid() const { return m_fd >= 0; }
    int release();

private:
    int m_fd = -1;
};

// Maps an errno value to a failure: ENOENT is not_found, EEXIST is exists, ENOSPC and EDQUOT
// are no_space, anything else is io. `what` names the operation for the log.
[[nodiscard]] StoreFailure errno_failure(int err, std::string_view what);

// Writes all of `data` at `offset`, looping over short writes and EINTR. On failure
// `written_bytes` tells how much did reach the file, so the caller can account for it.
StoreResult<void> write_all_at(int fd, std::uint64_t offset, std::span<const std::uint8_t> data,
                               std::uint64_t& written_bytes);

// Reads up to out.size() bytes at offset, looping over short reads and EINTR until the buffer
// is full or the end of the file; returns the count.
StoreResult<std::size_t> read_full_at(int fd, std::uint64_t offset, std::span<std::uint8_t> out);

StoreResult<void> fsync_fd(int fd, std::string_view what);
StoreResult<void> fdatasync_fd(int fd, std::string_view what);

}  // namespace satload::store
