// Blob storage for ciphertext: partial uploads that grow by appends, and complete blobs that
// are immutable and addressed by file id. Implementations: LocalBlobStore (a directory);
// later S3BlobStore. Domain services depend on this interface only.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"

namespace satload::store {

enum class StoreError {
    not_found,       // no such partial upload or blob
    exists,          // create of an id that already exists
    offset_mismatch, // append at an offset other than the partial's current size
    io,              // the operating system refused (see message)
    no_space,        // ENOSPC / EDQUOT
    corrupt,         // a digest did not match
};

struct StoreFailure {
    StoreError code;
    std::string message;  // for logs; never contains secrets (there are none in ciphertext)
};

template <class T>
using StoreResult = Result<T, StoreFailure>;

// Appends to one partial upload. Bytes written are not durable until sync() returns.
class BlobAppender {
public:
    virtual ~BlobAppender() = default;
    virtual StoreResult<void> write(std::span<const std::uint8_t> data) = 0;
    // Makes everything written so far durable (fdatasync) and returns the durable size (less
    // only after will_write promised bytes that did not all arrive; see there).
    virtual StoreResult<std::uint64_t> sync() = 0;
    // Size including bytes written but not yet synced.
    [[nodiscard]] virtual std::uint64_t size() const = 0;
    // A hint: the caller will write `bytes` more bytes before its next sync (a request's
    // declared body length). A store that uploads in parts may then send a larger part; if
    // fewer arrive (the body was cut short), its sync may return less than size(): the offset
    // the caller can resume from, everything before which is durable. Stores ignore it by
    // default.
    virtual void will_write(std::uint64_t bytes) { (void)bytes; }
};

// Reads a complete blob. Thread-compatible: one reader per request.
class BlobReader {
public:
    virtual ~BlobReader() = default;
    [[nodiscard]] virtual std::uint64_t size() const = 0;
    // Reads up to out.size() bytes at offset; returns the count (0 only at end of blob).
    virtual StoreResult<std::size_t> read_at(std::uint64_t offset, std::span<std::uint8_t> out) = 0;
    // For zero-copy serving (sendfile) by a local server; -1 when not backed by a file.
    [[nodiscard]] virtual int native_fd() const { return -1; }
    // Whether the store checks the bytes it returns itself (an object store's own checksums
    // on every read), so a full read need not be hashed again here; the scrub still does.
    [[nodiscard]] virtual bool checked_by_store() const { return false; }
    // A hint: the next reads are [offset, offset + length) in order, in pieces. A store that
    // reads over the network asks for the whole range at once instead of piece by piece.
    virtual void will_read(std::uint64_t offset, std::uint64_t length) {
        (void)offset;
        (void)length;
    }
    // Whether splice_at works: the store can move the bytes from its connection into a pipe
    // inside the kernel (splice(2)), so a server passes them to its client without copying
    // them through user space.
    [[nodiscard]] virtual bool can_splice() const { return false; }
    // Moves up to `max` bytes of the blob at `offset` into `pipe_fd`, the write end of a pipe
    // with room for them (the caller empties it between calls); the count, 0 only at the end
    // of the blob. Only where can_splice(); only inside a range announced with will_read.
    virtual StoreResult<std::size_t> splice_at(std::uint64_t offset, int pipe_fd, std::size_t max) {
        (void)offset;
        (void)pipe_fd;
        (void)max;
        return fail(StoreFailure{StoreError::io, "this store cannot splice"});
    }
};

struct BlobDigest {
    std::string sha256_hex;  // of the whole stored blob
    std::uint64_t size_bytes = 0;
    std::string xxh3_hex;    // XXH3-128 of the blob: the fast check of full reads
};

class BlobStore {
public:
    virtual ~BlobStore() = default;

    // Partial uploads are keyed by upload id and live apart from complete blobs.
    virtual StoreResult<void> create_partial(std::string_view upload_id) = 0;
    // A partial whose commit will name it `file_id` (commit_partial with another id may
    // fail). A store may then write it where the blob will be, so the commit moves no bytes:
    // an object store's server-side copy takes seconds per gigabyte, inside the request that
    // completes the upload. By default a plain partial.
    virtual StoreResult<void> create_partial_for(std::string_view upload_id,
                                                 std::string_view file_id) {
        (void)file_id;
        return create_partial(upload_id);
    }
    // Opens for appending at `offset`, which must equal the partial's current size after
    // truncating anything past `durable_offset` (bytes a crash may have left unacknowledged).
    virtual StoreResult<std::unique_ptr<BlobAppender>> open_append(std::string_view upload_id,
                                                                   std::uint64_t durable_offset) = 0;
    // Whether opening an appender costs enough that a caller should keep one between its
    // writes to the same partial (an object store: listings and connections, ~4 ms on RGW),
    // as long as nobody else appended meanwhile. A kept appender after a sync is as one opened
    // at the offset it returned.
    [[nodiscard]] virtual bool appenders_worth_keeping() const { return false; }
    // Reads from a partial upload (used to concatenate parts).
    virtual StoreResult<std::unique_ptr<BlobReader>> open_partial(std::string_view upload_id) = 0;
    // Removes the partial; for one created for its file id and already sealed, a store may
    // remove that blob too (no file names it: callers delete the upload's record first).
    virtual StoreResult<void> remove_partial(std::string_view upload_id) = 0;
    // Makes the partial an immutable blob named file_id, crash-safely (fsync file, rename,
    // fsync directory), and returns its digest computed over the stored bytes. not_found
    // when nothing of the partial is left: a commit that finished (the blob is then in place).
    virtual StoreResult<BlobDigest> commit_partial(std::string_view upload_id,
                                                   std::string_view file_id) = 0;

    virtual StoreResult<std::unique_ptr<BlobReader>> open_blob(std::string_view file_id) = 0;
    virtual StoreResult<void> remove_blob(std::string_view file_id) = 0;
    // Recomputes a complete blob's digest (for full-read checks and the scrub).
    virtual StoreResult<BlobDigest> digest_blob(std::string_view file_id) = 0;
    // Removes what a crash between two steps can leave that no upload record names: for an
    // object store, multipart uploads begun before `begun_before` (a partial's, or a large
    // commit's copy) with their pieces. The caller picks a cut-off older than any live
    // upload. Returns how many it removed; a local store has nothing of the kind (its
    // partials are files its records name, removed when they expire).
    virtual StoreResult<std::size_t> sweep_abandoned(
        std::chrono::system_clock::time_point begun_before) {
        (void)begun_before;
        return std::size_t{0};
    }
};

}  // namespace satload::store
