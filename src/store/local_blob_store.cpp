// LocalBlobStore: ciphertext blobs in a directory tree, made durable with fsync and rename.
#include "store/local_blob_store.h"

#include "core/checksum.h"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "core/check.h"
#include "core/encoding.h"
#include "core/ids.h"
#include "crypto/primitives.h"

namespace satload::store {
namespace {

constexpr const char* kPartialDirName = "partial";
constexpr const char* kBlobsDirName = "blobs";
constexpr const char* kTmpDirName = "tmp";
// Blobs are spread over subdirectories named by this many leading id characters.
constexpr std::size_t kShardChars = 2;
constexpr mode_t kDirMode = 0700;
constexpr mode_t kFileMode = 0600;

// Upload ids are write capabilities, so no message ever contains one.
StoreFailure invalid_upload_id() {
    return StoreFailure{StoreError::not_found, "not a valid upload id"};
}
StoreFailure invalid_file_id() {
    return StoreFailure{StoreError::not_found, "not a valid file id"};
}

StoreResult<UniqueFd> open_dir_at(int parent_fd, const char* name, std::string_view what) {
    const int fd = ::openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return fail(errno_failure(errno, what));
    return UniqueFd(fd);
}

// Creates `name` below parent if missing; returns whether it was created, so the caller knows
// the parent directory needs an fsync to make the new entry durable.
StoreResult<bool> make_dir_at(int parent_fd, const char* name, std::string_view what) {
    if (::mkdirat(parent_fd, name, kDirMode) == 0) return true;
    if (errno == EEXIST) return false;
    return fail(errno_failure(errno, what));
}

StoreResult<std::uint64_t> file_size(int fd, std::string_view what) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return fail(errno_failure(errno, what));
    return static_cast<std::uint64_t>(st.st_size);
}

// SHA-256, XXH3-128 and size of everything in the file, read once from offset 0 in blocks.
StoreResult<BlobDigest> digest_fd(int fd) {
    crypto::Sha256 hasher;
    Xxh3Checksum checksum;
    std::vector<std::uint8_t> block(kBlobReadBlockBytes);
    std::uint64_t offset = 0;
    for (;;) {
        auto n = read_full_at(fd, offset, block);
        if (!n) return fail(n.error());
        if (*n == 0) break;
        hasher.update(ByteSpan(block.data(), *n));
        checksum.update(ByteSpan(block.data(), *n));
        offset += *n;
    }
    const crypto::Sha256Digest digest = hasher.finish();
    return BlobDigest{hex_encode(digest), offset, checksum.finish_hex()};
}

class LocalBlobAppender final : public BlobAppender {
public:
    LocalBlobAppender(UniqueFd fd, std::uint64_t size_bytes)
        : m_fd(std::move(fd)), m_size_bytes(size_bytes) {}

    StoreResult<void> write(std::span<const std::uint8_t> data) override {
        if (m_failed) return fail(poisoned());
        std::uint64_t written = 0;
        auto r = write_all_at(m_fd.get(), m_size_bytes, data, written);
        // Start writing these pages back now, without waiting, so the disk works while the
        // network delivers the rest and the fdatasync before the acknowledgment is short.
        // A hint only: its failure changes nothing (sync() reports real errors).
        if (written > 0) {
            (void)::sync_file_range(m_fd.get(), static_cast<off_t>(m_size_bytes),
                                    static_cast<off_t>(written), SYNC_FILE_RANGE_WRITE);
        }
        // Bytes that reached the file before an error are genuine upload bytes: count them,
        // so a later sync() acknowledges exactly what is on disk.
        m_size_bytes += written;
        return r;
    }

    StoreResult<std::uint64_t> sync() override {
        if (m_failed) return fail(poisoned());
        if (auto r = fdatasync_fd(m_fd.get(), "fdatasync partial upload"); !r) {
            // After a failed fdatasync the kernel may have dropped the dirty pages and a
            // second call can succeed without them: never report this file durable again.
            m_failed = true;
            return fail(r.error());
        }
        return m_size_bytes;
    }

    [[nodiscard]] std::uint64_t size() const override { return m_size_bytes; }

private:
    static StoreFailure poisoned() {
        return StoreFailure{StoreError::io, "partial upload unusable after a failed sync"};
    }

    UniqueFd m_fd;
    std::uint64_t m_size_bytes;
    bool m_failed = false;
};

class LocalBlobReader final : public BlobReader {
public:
    LocalBlobReader(UniqueFd fd, std::uint64_t size_bytes)
        : m_fd(std::move(fd)), m_size_bytes(size_bytes) {}

    [[nodiscard]] std::uint64_t size() const override { return m_size_bytes; }

    StoreResult<std::size_t> read_at(std::uint64_t offset, std::span<std::uint8_t> out) override {
        if (offset >= m_size_bytes || out.empty()) return std::size_t{0};
        const std::uint64_t left = m_size_bytes - offset;
        if (left < out.size()) out = out.first(static_cast<std::size_t>(left));
        auto n = read_full_at(m_fd.get(), offset, out);
        if (!n) return n;
        // The size was taken at open; a shorter file means someone truncated a stored blob.
        if (*n == 0) return fail(StoreFailure{StoreError::corrupt, "blob shorter than its size"});
        return n;
    }

    [[nodiscard]] int native_fd() const override { return m_fd.get(); }

private:
    UniqueFd m_fd;
    std::uint64_t m_size_bytes;
};

StoreResult<std::unique_ptr<BlobReader>> reader_for(int fd, std::string_view what) {
    UniqueFd owned(fd);
    auto size = file_size(owned.get(), what);
    if (!size) return fail(size.error());
    return std::unique_ptr<BlobReader>(std::make_unique<LocalBlobReader>(std::move(owned), *size));
}

// Renames without replacing an existing target. RENAME_NOREPLACE makes the check atomic; on a
// filesystem without it, fall back to check-then-rename (ids are random, so a clash is a bug).
int rename_no_replace(int from_dir, const char* from, int to_dir, const char* to) {
    if (::renameat2(from_dir, from, to_dir, to, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return -1;
    if (::faccessat(to_dir, to, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
        errno = EEXIST;
        return -1;
    }
    return ::renameat(from_dir, from, to_dir, to);
}

}  // namespace

LocalBlobStore::LocalBlobStore(std::filesystem::path root, UniqueFd partial_dir,
                               UniqueFd blobs_dir)
    : m_root(std::move(root)),
      m_partial_dir(std::move(partial_dir)),
      m_blobs_dir(std::move(blobs_dir)) {}

StoreResult<std::unique_ptr<LocalBlobStore>> LocalBlobStore::open(std::filesystem::path root) {
    std::error_code ec;
    std::filesystem::create_directories(root, ec);
    if (ec) return fail(StoreFailure{StoreError::io, "create blob root: " + ec.message()});
    auto root_dir = open_dir_at(AT_FDCWD, root.c_str(), "open blob root");
    if (!root_dir) return fail(root_dir.error());

    bool created_any = false;
    for (const char* name : {kPartialDirName, kBlobsDirName, kTmpDirName}) {
        auto created = make_dir_at(root_dir->get(), name, "create blob store directory");
        if (!created) return fail(created.error());
        created_any = created_any || *created;
    }
    if (created_any) {
        if (auto r = fsync_fd(root_dir->get(), "fsync blob root"); !r) return fail(r.error());
    }
    auto partial_dir = open_dir_at(root_dir->get(), kPartialDirName, "open partial/");
    if (!partial_dir) return fail(partial_dir.error());
    auto blobs_dir = open_dir_at(root_dir->get(), kBlobsDirName, "open blobs/");
    if (!blobs_dir) return fail(blobs_dir.error());
    return std::unique_ptr<LocalBlobStore>(
        new LocalBlobStore(std::move(root), std::move(*partial_dir), std::move(*blobs_dir)));
}

StoreResult<void> LocalBlobStore::create_partial(std::string_view upload_id) {
    if (!is_upload_id(upload_id)) return fail(invalid_upload_id());
    const std::string name(upload_id);
    const int fd = ::openat(m_partial_dir.get(), name.c_str(),
                            O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode);
    if (fd < 0) return fail(errno_failure(errno, "create partial upload"));
    UniqueFd owned(fd);
    // The new directory entry must survive a crash once the upload's creation is acknowledged.
    return fsync_fd(m_partial_dir.get(), "fsync partial/");
}

StoreResult<std::unique_ptr<BlobAppender>> LocalBlobStore::open_append(
    std::string_view upload_id, std::uint64_t durable_offset) {
    if (!is_upload_id(upload_id)) return fail(invalid_upload_id());
    const std::string name(upload_id);
    const int fd = ::openat(m_partial_dir.get(), name.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return fail(errno_failure(errno, "open partial upload"));
    UniqueFd owned(fd);
    auto size = file_size(owned.get(), "stat partial upload");
    if (!size) return fail(size.error());
    if (*size < durable_offset) {
        // Bytes that were acknowledged as synced are missing: the disk lost data.
        return fail(StoreFailure{StoreError::corrupt,
                                 "partial upload shorter than its durable offset"});
    }
    if (*size > durable_offset) {
        // A crash (or a failed request) left bytes that were never acknowledged; drop them so
        // the client's resumed PATCH lands at the offset the server reported. No sync needed:
        // until the next sync the durable offset, not the file size, is the truth.
        if (::ftruncate(owned.get(), static_cast<off_t>(durable_offset)) != 0) {
            return fail(errno_failure(errno, "truncate partial upload"));
        }
    }
    return std::unique_ptr<BlobAppender>(
        std::make_unique<LocalBlobAppender>(std::move(owned), durable_offset));
}

StoreResult<std::unique_ptr<BlobReader>> LocalBlobStore::open_partial(std::string_view upload_id) {
    if (!is_upload_id(upload_id)) return fail(invalid_upload_id());
    const std::string name(upload_id);
    const int fd = ::openat(m_partial_dir.get(), name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(errno_failure(errno, "open partial upload"));
    return reader_for(fd, "stat partial upload");
}

StoreResult<void> LocalBlobStore::remove_partial(std::string_view upload_id) {
    if (!is_upload_id(upload_id)) return fail(invalid_upload_id());
    const std::string name(upload_id);
    if (::unlinkat(m_partial_dir.get(), name.c_str(), 0) != 0) {
        return fail(errno_failure(errno, "remove partial upload"));
    }
    return fsync_fd(m_partial_dir.get(), "fsync partial/");
}

StoreResult<UniqueFd> LocalBlobStore::open_shard(std::string_view file_id, bool create) {
    SATLOAD_ASSERT(is_file_id(file_id));
    const std::string shard(file_id.substr(0, kShardChars));
    if (create) {
        auto created = make_dir_at(m_blobs_dir.get(), shard.c_str(), "create blob shard");
        if (!created) return fail(created.error());
        if (*created) {
            if (auto r = fsync_fd(m_blobs_dir.get(), "fsync blobs/"); !r) return fail(r.error());
        }
    }
    return open_dir_at(m_blobs_dir.get(), shard.c_str(), "open blob shard");
}

StoreResult<BlobDigest> LocalBlobStore::commit_partial(std::string_view upload_id,
                                                       std::string_view file_id) {
    if (!is_upload_id(upload_id)) return fail(invalid_upload_id());
    if (!is_file_id(file_id)) return fail(invalid_file_id());
    const std::string from(upload_id);
    const std::string to(file_id);

    const int fd = ::openat(m_partial_dir.get(), from.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(errno_failure(errno, "open partial upload"));
    UniqueFd data(fd);
    // Data first: after the rename the blob must never be visible with missing bytes.
    if (auto r = fsync_fd(data.get(), "fsync partial upload"); !r) return fail(r.error());
    auto digest = digest_fd(data.get());
    if (!digest) return fail(digest.error());

    auto shard = open_shard(file_id, true);
    if (!shard) return fail(shard.error());
    if (rename_no_replace(m_partial_dir.get(), from.c_str(), shard->get(), to.c_str()) != 0) {
        return fail(errno_failure(errno, "rename partial upload into blobs/"));
    }
    // Both directory entries changed: the new name must be durable, and the old one gone, or a
    // crash could resurrect the partial beside its blob.
    if (auto r = fsync_fd(shard->get(), "fsync blob shard"); !r) return fail(r.error());
    if (auto r = fsync_fd(m_partial_dir.get(), "fsync partial/"); !r) return fail(r.error());
    return digest;
}

StoreResult<std::unique_ptr<BlobReader>> LocalBlobStore::open_blob(std::string_view file_id) {
    if (!is_file_id(file_id)) return fail(invalid_file_id());
    // "<shard>/<id>" relative to blobs/ in one call: every download opens its blob, and opening
    // the shard directory first doubled the system calls of a small download. A file id is
    // checked above to be plain id characters, so the path cannot climb out.
    const std::string name = std::string(file_id.substr(0, kShardChars)) + "/" + std::string(file_id);
    const int fd = ::openat(m_blobs_dir.get(), name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(errno_failure(errno, "open blob"));
    return reader_for(fd, "stat blob");
}

StoreResult<void> LocalBlobStore::remove_blob(std::string_view file_id) {
    if (!is_file_id(file_id)) return fail(invalid_file_id());
    auto shard = open_shard(file_id, false);
    if (!shard) return fail(shard.error());
    const std::string name(file_id);
    if (::unlinkat(shard->get(), name.c_str(), 0) != 0) {
        return fail(errno_failure(errno, "remove blob"));
    }
    return fsync_fd(shard->get(), "fsync blob shard");
}

StoreResult<BlobDigest> LocalBlobStore::digest_blob(std::string_view file_id) {
    if (!is_file_id(file_id)) return fail(invalid_file_id());
    auto shard = open_shard(file_id, false);
    if (!shard) return fail(shard.error());
    const std::string name(file_id);
    const int fd = ::openat(shard->get(), name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(errno_failure(errno, "open blob"));
    UniqueFd data(fd);
    return digest_fd(data.get());
}

}  // namespace satload::store
