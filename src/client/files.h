// Small POSIX file helpers the client needs: atomic private writes of state files, bounded
// reads, directory sync, advisory locks, and where the client keeps its state.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "client/error.h"

namespace satload::client {

// State files are tiny; anything larger is not ours.
inline constexpr std::size_t kMaxStateFileBytes = 1u << 20;

// SATLOAD_HOME, else $HOME/.config/satload.
[[nodiscard]] ClientResult<std::filesystem::path> satload_home();

// Creates `dir` and missing parents with mode 0700.
[[nodiscard]] ClientResult<void> make_private_dir(const std::filesystem::path& dir);

// Writes `content` to `path` atomically: a temporary file (mode 0600) beside it, fsync,
// rename, fsync of the directory.
[[nodiscard]] ClientResult<void> write_file_atomic(const std::filesystem::path& path,
                                                   std::string_view content);

// Reads a whole file of at most `max_bytes`; not_found when it does not exist.
[[nodiscard]] ClientResult<std::string> read_small_file(const std::filesystem::path& path,
                                                        std::size_t max_bytes);

[[nodiscard]] ClientResult<void> sync_directory(const std::filesystem::path& dir);

// An open file descriptor closed on destruction.
class FileHandle {
public:
    FileHandle() = default;
    explicit FileHandle(int fd) : m_fd(fd) {}
    ~FileHandle();
    FileHandle(FileHandle&& other) noexcept : m_fd(other.release()) {}
    FileHandle& operator=(FileHandle&& other) noexcept;
    FileHandle(const FileHandle&) = delete;
    FileHandle& operator=(const FileHandle&) = delete;
    [[nodiscard]] int get() const { return m_fd; }
    [[nodiscard]] explicit operator bool() const { return m_fd >= 0; }
    int release() {
        const int fd = m_fd;
        m_fd = -1;
        return fd;
    }

private:
    int m_fd = -1;
};

// Opens (creating, mode 0600) `path` and takes an exclusive flock on it without waiting; busy
// when another process holds it. The lock lasts as long as the handle.
[[nodiscard]] ClientResult<FileHandle> lock_file(const std::filesystem::path& path);

// "strerror" with the path, for file_io messages.
[[nodiscard]] std::string io_message(std::string_view what, const std::filesystem::path& path,
                                     int error_number);

}  // namespace satload::client
