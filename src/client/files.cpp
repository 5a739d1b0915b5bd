// POSIX helpers; errors are turned into ClientResult, never exceptions.
#include "client/files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "crypto/primitives.h"

namespace satload::client {

namespace fs = std::filesystem;

std::string io_message(std::string_view what, const fs::path& path, int error_number) {
    return std::string(what) + " " + path.string() + ": " + std::strerror(error_number);
}

FileHandle::~FileHandle() {
    if (m_fd >= 0) ::close(m_fd);
}

FileHandle& FileHandle::operator=(FileHandle&& other) noexcept {
    if (this != &other) {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = other.release();
    }
    return *this;
}

ClientResult<fs::path> satload_home() {
    if (const char* home = std::getenv("SATLOAD_HOME"); home != nullptr && *home != '\0') {
        return fs::path(home);
    }
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
        return fs::path(home) / ".config" / "satload";
    }
    return client_error(ErrorCode::file_io, "neither SATLOAD_HOME nor HOME is set");
}

ClientResult<void> make_private_dir(const fs::path& dir) {
    if (dir.empty()) return {};
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            return client_error(ErrorCode::file_io, dir.string() + " is not a directory");
        }
        return {};
    }
    if (dir.has_parent_path() && dir.parent_path() != dir) {
        if (auto r = make_private_dir(dir.parent_path()); !r) return r;
    }
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        return client_error(ErrorCode::file_io, io_message("cannot create", dir, errno));
    }
    return {};
}

ClientResult<void> sync_directory(const fs::path& dir) {
    const fs::path d = dir.empty() ? fs::path(".") : dir;
    FileHandle fd(::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd || ::fsync(fd.get()) != 0) {
        return client_error(ErrorCode::file_io, io_message("cannot sync", d, errno));
    }
    return {};
}

ClientResult<void> write_file_atomic(const fs::path& path, std::string_view content) {
    std::string tmp_name = path.filename().string() + ".tmp.XXXXXX";
    fs::path tmp = path.parent_path() / tmp_name;
    std::string tmp_text = tmp.string();
    FileHandle fd(::mkstemp(tmp_text.data()));  // mkstemp creates with mode 0600
    if (!fd) return client_error(ErrorCode::file_io, io_message("cannot create", tmp_text, errno));
    const auto fail = [&](std::string_view what) {
        const int e = errno;
        ::unlink(tmp_text.c_str());
        return client_error(ErrorCode::file_io, io_message(what, path, e));
    };
    std::size_t written = 0;
    while (written < content.size()) {
        const ssize_t n = ::write(fd.get(), content.data() + written, content.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail("cannot write");
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) return fail("cannot sync");
    fd = FileHandle();
    if (::rename(tmp_text.c_str(), path.c_str()) != 0) return fail("cannot replace");
    return sync_directory(path.parent_path());
}

ClientResult<std::string> read_small_file(const fs::path& path, std::size_t max_bytes) {
    FileHandle fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return client_error(ErrorCode::not_found, path.string() + " does not exist");
        return client_error(ErrorCode::file_io, io_message("cannot open", path, errno));
    }
    std::string out;
    char buf[4096];
    while (true) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return client_error(ErrorCode::file_io, io_message("cannot read", path, errno));
        if (n == 0) break;
        if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
            crypto::secure_wipe(out.data(), out.size());
            return client_error(ErrorCode::state, path.string() + " is too large");
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    crypto::secure_wipe(buf, sizeof buf);
    return out;
}

ClientResult<FileHandle> lock_file(const fs::path& path) {
    FileHandle fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd) return client_error(ErrorCode::file_io, io_message("cannot open", path, errno));
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            return client_error(ErrorCode::busy,
                                "another satload process is working on " + path.string());
        }
        return client_error(ErrorCode::file_io, io_message("cannot lock", path, errno));
    }
    return fd;
}

}  // namespace satload::client
