// Reading and crash-safe replacement of the checkpoint file.
#include "ledger/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>

namespace satload::ledger {
namespace {

constexpr std::string_view kMagic = "satload-ledger-checkpoint 1\n";

StoreFailure io_failure(std::string_view what, const std::filesystem::path& path) {
    return StoreFailure{StoreError::io,
                        std::string(what) + " " + path.string() + ": " + std::strerror(errno)};
}

StoreResult<void> write_all(int fd, std::string_view data, const std::filesystem::path& path) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(io_failure("write", path));
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

}  // namespace

std::filesystem::path checkpoint_path_for(const std::filesystem::path& db_file) {
    std::filesystem::path p = db_file;
    p += ".head";
    return p;
}

std::string format_checkpoint(const JournalHead& head) {
    std::string text(kMagic);
    text += "count " + std::to_string(head.count) + "\n";
    text += "hash " + hex_encode(head.hash) + "\n";
    return text;
}

std::optional<JournalHead> parse_checkpoint(std::string_view text) {
    if (text.size() > kCheckpointBytesMax) return std::nullopt;
    std::string_view rest = text;
    if (!rest.starts_with(kMagic)) return std::nullopt;
    rest.remove_prefix(kMagic.size());
    constexpr std::string_view kCount = "count ";
    constexpr std::string_view kHash = "hash ";
    if (!rest.starts_with(kCount)) return std::nullopt;
    rest.remove_prefix(kCount.size());
    const std::size_t nl = rest.find('\n');
    if (nl == std::string_view::npos || nl == 0) return std::nullopt;
    JournalHead head;
    const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + nl, head.count);
    if (ec != std::errc() || ptr != rest.data() + nl || head.count < 0) return std::nullopt;
    rest.remove_prefix(nl + 1);
    if (!rest.starts_with(kHash)) return std::nullopt;
    rest.remove_prefix(kHash.size());
    if (rest.size() != 2 * head.hash.size() + 1 || rest.back() != '\n') return std::nullopt;
    const auto hash = hex_decode(rest.substr(0, 2 * head.hash.size()));
    if (!hash) return std::nullopt;
    std::copy(hash->begin(), hash->end(), head.hash.begin());
    return head;
}

StoreResult<void> write_checkpoint(const std::filesystem::path& file, const JournalHead& head) {
    const std::string text = format_checkpoint(head);

    std::filesystem::path temp = file;
    temp += ".tmp";
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return fail(io_failure("open", temp));
    auto written = write_all(fd, text, temp);
    if (written && ::fdatasync(fd) != 0) written = fail(io_failure("fdatasync", temp));
    ::close(fd);
    if (!written) return written;
    if (::rename(temp.c_str(), file.c_str()) != 0) return fail(io_failure("rename", temp));
    const std::filesystem::path dir = file.has_parent_path() ? file.parent_path() : ".";
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return fail(io_failure("open", dir));
    const int rc = ::fsync(dfd);
    ::close(dfd);
    if (rc != 0) return fail(io_failure("fsync", dir));
    return {};
}

StoreResult<std::optional<JournalHead>> read_checkpoint(const std::filesystem::path& file) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return std::optional<JournalHead>();
        return fail(io_failure("open", file));
    }
    std::string text(kCheckpointBytesMax + 1, '\0');
    std::size_t size = 0;
    while (size < text.size()) {
        const ssize_t n = ::read(fd, text.data() + size, text.size() - size);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            ::close(fd);
            return fail(io_failure("read", file));
        }
        if (n == 0) break;
        size += static_cast<std::size_t>(n);
    }
    ::close(fd);
    text.resize(size);
    const auto head = parse_checkpoint(text);
    if (!head) return fail(StoreFailure{StoreError::corrupt, file.string() + " is not a ledger checkpoint"});
    return head;
}

}  // namespace satload::ledger
