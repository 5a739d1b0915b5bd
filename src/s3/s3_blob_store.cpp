// S3BlobStore: partial uploads as S3 multipart uploads, made durable at every sync.
//
// Durability scheme. A partial upload <id> is, in the bucket:
//   partials/<id>/data                 an S3 multipart upload (the partial's data key); part
//                                      k (1-based) starts at byte (k-1)*P for the configured
//                                      part size P and holds one P-byte slot, or several (a
//                                      long part, streamed when the caller announced a long
//                                      body; the numbers of the slots inside it stay unused)
//   partials/<id>/tail-<offset>        small objects ("pieces") holding bytes synced before
//                                      they filled a part: [offset, offset + object size)
//   blobs/<file id>                    the data key instead, for a partial created for its
//                                      file id (create_partial_for, see below)
//   partials/<id>/blob-<file id>       an empty marker naming that file id
// S3 forbids parts below 5 MiB except the last, and the parts of an unfinished upload cannot
// be read back, so bytes that do not yet fill a part are made durable as pieces: sync() PUTs
// the bytes written since the previous sync as one piece (an empty piece when a part upload
// ended exactly at the synced offset) and only then returns. A piece never straddles a part
// boundary, the pieces of one part's range form a chain from its start, and the durable
// offset is the largest piece end (0 when there is none) once the last sync succeeded: a
// sync PUTs its piece while S3 may still be storing the part before it, so after a failed
// sync (or a crash during one) a piece can end past a part that was never stored, until a
// reopen at the acknowledged offset deletes it. Sealing therefore runs only on a partial
// whose last sync succeeded up to its full length. The appender holds the current
// part's bytes in one buffer of P bytes (never a second copy) and streams them to the part's
// UploadPart as they arrive (declared P bytes long); when the buffer fills, it starts over
// and the next part streams on a second connection while S3 stores the full one, whose
// answer is read when the next part fills or at the next sync (a sync returns only once every
// part before it is confirmed; its piece is PUT while S3 still stores that part, and counts only
// once the part is confirmed too). A sync before then abandons the streamed part (S3 keeps
// nothing of an incomplete body) and the next write streams it again from the buffer; a
// failed stream is replaced by an UploadPart from the buffer.
//   Reopening at an acknowledged offset D reads the pieces of D's part range back into the
// buffer, and normalizes the bucket to exactly D: pieces of earlier ranges (covered by parts)
// and pieces past D (written by a sync whose acknowledgment the caller lost) are deleted, a
// piece across D is rewritten to end at D. Parts past D need no deleting: they are replaced
// when re-uploaded and never named at completion. While appending, a sync deletes pieces of
// ranges before the previous acknowledgment's range: the caller can lose at most the latest
// acknowledgment, so no offset it may reopen at needs them.
//   Sealing uploads the last range's pieces as the final part (the one part S3 lets be
// short), completes the multipart upload at its data key and deletes the pieces. Commit
// seals, copies the data object server-side to blobs/<file_id> (CopyObject, or UploadPartCopy
// ranges above 5 GiB; no byte passes through satload; on RGW a CopyObject of 256 MiB took
// 40-85 ms), takes the digest its appenders computed in this process (DigestBook) or else
// hashes the stored blob read back with one GET, and deletes the partial's objects.
// open_partial seals too, to read the bytes back (tus concatenation). Sealing is idempotent:
// a commit that crashed after completing resumes from the data object, and one that stopped
// after the copy (S3 unreachable, the server stopped) resumes at the digest. A commit that
// finished (nothing of the partial is left) answers not_found, as a local store's does.
//   A partial created for its file id (create_partial_for; every upload but the parts of a
// concatenation) has its multipart upload at blobs/<file id> itself, and an empty marker
// partials/<id>/blob-<file id> that names it; its pieces are as above. Its commit completes
// the upload in place and copies nothing: a server-side copy is slower per gigabyte on AWS
// than on RGW, and it runs inside the PATCH that completes the upload. The marker is created
// after the multipart upload (an upload under blobs/ that no marker names is a crash's
// leftover, which sweep_abandoned aborts; that sweep also finds a partial's pieces through its
// marker) and deleted last, after the pieces, once the commit is done. While it exists, the
// blob (once sealed there) is the partial's and no file's: the upload service deletes an
// upload's record before its partial, so a commit still running elsewhere cannot record the
// file once the partial's removal has begun. Removing the partial therefore deletes a sealed
// blob, and a commit resumes from one. An empty partial is sealed as an empty object PUT at
// the key, then its upload aborted; a commit finds an abort that did not happen and does it.
// All instances sharing a bucket must run a version that knows these markers: an older one
// does not find a partial created for its file id.
#include "s3/s3_blob_store.h"

#include <boost/url/parse.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "core/check.h"
#include "core/ids.h"
#include "crypto/primitives.h"

namespace satload::s3 {

using store::StoreError;
using store::StoreFailure;
using store::StoreResult;

namespace {

constexpr std::string_view kPartialsPrefix = "partials/";
constexpr std::string_view kBlobsPrefix = "blobs/";
constexpr std::string_view kDataName = "/data";
constexpr std::string_view kTailName = "/tail-";
// partials/<id>/blob-<file id>: the partial was created for that file id (create_partial_for),
// and its multipart upload is at blobs/<file id> instead of partials/<id>/data.
constexpr std::string_view kTargetName = "/blob-";
// Piece offsets are zero-padded to this many digits so keys sort like their offsets.
constexpr int kOffsetDigits = 20;
// S3 bucket names are 3 to 63 characters.
constexpr std::size_t kMinBucketChars = 3;
constexpr std::size_t kMaxBucketChars = 63;
constexpr std::string_view kDefaultRegion = "us-east-1";
// Random bytes of an appender's token (DigestBook).
constexpr std::size_t kWriterTokenBytes = 16;

std::string data_key(std::string_view id) {
    return std::string(kPartialsPrefix) + std::string(id) + std::string(kDataName);
}
std::string tail_prefix(std::string_view id) {
    return std::string(kPartialsPrefix) + std::string(id) + std::string(kTailName);
}
std::string tail_key(std::string_view id, std::uint64_t offset) {
    char digits[kOffsetDigits + 1] = {};
    std::snprintf(digits, sizeof(digits), "%020llu", static_cast<unsigned long long>(offset));
    return tail_prefix(id) + digits;
}
std::string blob_key(std::string_view file_id) {
    return std::string(kBlobsPrefix) + std::string(file_id);
}
std::string partial_prefix(std::string_view id) {
    return std::string(kPartialsPrefix) + std::string(id) + "/";
}
std::string target_key(std::string_view id, std::string_view file_id) {
    return std::string(kPartialsPrefix) + std::string(id) + std::string(kTargetName) +
           std::string(file_id);
}

// Upload ids are write capabilities: messages never contain one.
StoreFailure invalid_upload_id() {
    return StoreFailure{StoreError::not_found, "not a valid upload id"};
}
StoreFailure invalid_file_id() {
    return StoreFailure{StoreError::not_found, "not a valid file id"};
}
StoreFailure no_partial() { return StoreFailure{StoreError::not_found, "no such partial upload"}; }

StoreFailure to_store(const S3Failure& f) {
    const bool missing = f.code == S3Error::not_found || f.code == S3Error::no_such_upload;
    return StoreFailure{missing ? StoreError::not_found : StoreError::io, "s3: " + f.message};
}

template <class T>
StoreResult<T> lift(S3Result<T> r) {
    if (!r) return fail(to_store(r.error()));
    if constexpr (std::is_void_v<T>) {
        return {};
    } else {
        return std::move(*r);
    }
}

struct Piece {
    std::uint64_t offset = 0;
    std::uint64_t size_bytes = 0;
    [[nodiscard]] std::uint64_t end() const { return offset + size_bytes; }
};

}  // namespace

// What lies under partials/<id>/: the pieces, sorted by offset, and the file id the partial was
// created for (create_partial_for), if any. One listing. Outside the anonymous namespace only
// because S3BlobStore::seal names it (declared in the header); defined here with Piece.
struct PartialObjects {
    std::vector<Piece> pieces;
    std::optional<std::string> target;  // the file id whose key holds the multipart upload
    bool has_data = false;              // partials/<id>/data is listed (a sealed plain partial)
    // The key of the partial's multipart upload, and of its data once sealed.
    [[nodiscard]] std::string data(std::string_view id) const {
        return target ? blob_key(*target) : data_key(id);
    }
    [[nodiscard]] bool empty() const { return pieces.empty() && !target && !has_data; }
};

namespace {

StoreResult<PartialObjects> list_partial(S3Client& client, std::string_view id) {
    const std::string prefix = partial_prefix(id);
    auto objects = client.list_objects(prefix);
    if (!objects) return fail(to_store(objects.error()));
    const auto unexpected = [] {
        return StoreFailure{StoreError::corrupt, "s3: unexpected object under a partial upload"};
    };
    const std::string_view tail = kTailName.substr(1);
    const std::string_view target = kTargetName.substr(1);
    PartialObjects found;
    for (const auto& object : *objects) {
        const std::string_view name = std::string_view(object.key).substr(prefix.size());
        if (name == kDataName.substr(1)) {
            found.has_data = true;
        } else if (name.starts_with(target)) {
            const std::string_view file_id = name.substr(target.size());
            if (!is_file_id(file_id) || found.target) return fail(unexpected());
            found.target = std::string(file_id);
        } else if (name.starts_with(tail)) {
            const std::string_view digits = name.substr(tail.size());
            if (digits.size() != static_cast<std::size_t>(kOffsetDigits) ||
                !std::all_of(digits.begin(), digits.end(),
                             [](char c) { return c >= '0' && c <= '9'; })) {
                return fail(unexpected());
            }
            found.pieces.push_back(
                Piece{std::strtoull(std::string(digits).c_str(), nullptr, 10), object.size_bytes});
        } else {
            return fail(unexpected());
        }
    }
    std::sort(found.pieces.begin(), found.pieces.end(),
              [](const Piece& a, const Piece& b) { return a.offset < b.offset; });
    return found;
}

std::uint64_t durable_end(const std::vector<Piece>& pieces) {
    std::uint64_t end = 0;
    for (const auto& p : pieces) end = std::max(end, p.end());
    return end;
}

// The S3 multipart upload id at `key` (a partial's data key); not_found when there is none.
StoreResult<std::string> find_upload(S3Client& client, const std::string& key) {
    auto uploads = client.list_multipart_uploads(key);
    if (!uploads) return fail(to_store(uploads.error()));
    std::vector<std::string> ids;
    for (const auto& u : *uploads) {
        if (u.key == key) ids.push_back(u.upload_id);
    }
    if (ids.empty()) return fail(no_partial());
    if (ids.size() > 1) {
        return fail(
            StoreFailure{StoreError::corrupt, "s3: several multipart uploads for one partial"});
    }
    return ids.front();
}

// Reads the whole object range [offset, offset + out.size()) into out.
StoreResult<void> read_exact(S3Client& client, const std::string& key, std::uint64_t offset,
                             std::span<std::uint8_t> out) {
    std::size_t done = 0;
    while (done < out.size()) {
        auto n = client.get_object_range(key, offset + done, out.subspan(done));
        if (!n) return fail(to_store(n.error()));
        if (*n == 0)
            return fail(StoreFailure{StoreError::corrupt, "s3: object shorter than listed"});
        done += *n;
    }
    return {};
}

// Appends the bytes [from, to) of a part range, held by the chain of pieces, to `out`.
StoreResult<void> read_pieces(S3Client& client, std::string_view id,
                              const std::vector<Piece>& pieces, std::uint64_t from,
                              std::uint64_t to, Bytes& out) {
    std::uint64_t at = from;
    while (at < to) {
        auto it = std::find_if(pieces.begin(), pieces.end(),
                               [at](const Piece& p) { return p.offset == at && p.size_bytes > 0; });
        if (it == pieces.end()) {
            return fail(StoreFailure{StoreError::corrupt,
                                     "s3: synced bytes of a partial upload are missing"});
        }
        const std::uint64_t take = std::min(it->size_bytes, to - at);
        const std::size_t before = out.size();
        out.resize(before + static_cast<std::size_t>(take));
        if (auto r = read_exact(client, tail_key(id, at), 0, std::span(out).subspan(before)); !r)
            return r;
        at += take;
    }
    return {};
}

// The parts that tile the first `count` slots of part_bytes each: part k (1-based) starts at
// slot k - 1 and is a whole number of slots long (a streamed part spans several slots; the
// part numbers of the slots inside it stay unused), so the tiling follows each part's size
// to the next part's number. Parts that do not lie on the tiling (left by a writer whose
// acknowledgment was lost) are never named. Corrupt when a slot has no part or a part is not
// a whole number of slots or passes the count.
StoreResult<std::vector<PartInfo>> full_parts(S3Client& client, const std::string& key,
                                              const std::string& s3_upload_id, std::uint64_t count,
                                              std::uint64_t part_bytes) {
    std::vector<PartInfo> parts;
    if (count == 0) return parts;
    auto listed = client.list_parts(key, s3_upload_id);
    if (!listed) return fail(to_store(listed.error()));
    std::map<std::uint64_t, const PartInfo*> by_number;
    for (const auto& p : *listed) {
        if (p.part_number >= 1) by_number.emplace(static_cast<std::uint64_t>(p.part_number), &p);
    }
    const auto corrupt = [] {
        return StoreFailure{StoreError::corrupt, "s3: a part of a partial upload is missing"};
    };
    std::uint64_t slot = 0;
    while (slot < count) {
        const auto it = by_number.find(slot + 1);
        if (it == by_number.end()) return fail(corrupt());
        const PartInfo& part = *it->second;
        const std::uint64_t slots = part.size_bytes / part_bytes;
        if (slots == 0 || part.size_bytes % part_bytes != 0 || slots > count - slot) return fail(corrupt());
        parts.push_back(part);
        slot += slots;
    }
    return parts;
}

// SHA-256 and size of a stored object, read once in ranged GETs. No XXH3: it is the fast check
// of full reads, and S3 reads are checked by the store itself (S3BlobReader::checked_by_store);
// files without one fall back to SHA-256 wherever their bytes are read unchecked.
StoreResult<store::BlobDigest> digest_object(S3Client& client, const std::string& key) {
    auto info = client.head_object(key);
    if (!info) return fail(to_store(info.error()));
    crypto::Sha256 hasher;
    Bytes block(static_cast<std::size_t>(
        std::clamp<std::uint64_t>(info->size_bytes, 1, kS3ReadBlockBytes)));
    std::uint64_t offset = 0;
    // One GET for the whole object: RGW serves a long range far faster than many short ones.
    if (info->size_bytes > 0) {
        if (auto r = client.start_object_range(key, 0, info->size_bytes); !r)
            return fail(to_store(r.error()));
    }
    while (offset < info->size_bytes) {
        const std::size_t want = static_cast<std::size_t>(
            std::min<std::uint64_t>(block.size(), info->size_bytes - offset));
        auto n = client.read_object_range(std::span(block).first(want));
        if (!n) return fail(to_store(n.error()));
        if (*n == 0)
            return fail(StoreFailure{StoreError::corrupt, "s3: blob shorter than its size"});
        hasher.update(ByteSpan(block.data(), *n));
        offset += *n;
    }
    const crypto::Sha256Digest digest = hasher.finish();
    return store::BlobDigest{hex_encode(digest), offset, {}};
}

// Deletes what lies under partials/<id>/: every piece, the data object of a plain partial,
// then the target marker (last: while it exists, the partial's bytes are its file's blob
// key, which this never deletes). The first failure is reported.
StoreResult<void> delete_partial_objects(S3Client& client, std::string_view id,
                                         const PartialObjects& objects) {
    for (const auto& p : objects.pieces) {
        if (auto r = client.delete_object(tail_key(id, p.offset)); !r) {
            return fail(to_store(r.error()));
        }
    }
    if (objects.target) return lift(client.delete_object(target_key(id, *objects.target)));
    return lift(client.delete_object(data_key(id)));
}

// "2026-11-28T20:46:57.356Z" -> time point (fractions dropped); nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> parse_iso8601(const std::string& text) {
    std::tm tm{};
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &year, &month, &day, &hour, &minute,
                    &second) != 6) {
        return std::nullopt;
    }
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    const std::time_t t = ::timegm(&tm);
    if (t == static_cast<std::time_t>(-1)) return std::nullopt;
    return std::chrono::system_clock::from_time_t(t);
}

}  // namespace

// SHA-256 of a partial's first `size_bytes` bytes, as its appender wrote them (no XXH3: see
// digest_object).
struct RunningDigest {
    crypto::Sha256 sha256;
    std::uint64_t size_bytes = 0;
    std::string writer;  // the token of the appender that published it

    void update(ByteSpan data) {
        sha256.update(data);
        size_bytes += data.size();
    }
    [[nodiscard]] std::unique_ptr<RunningDigest> clone() const {
        auto copy = std::make_unique<RunningDigest>();
        copy->sha256.assign(sha256);
        copy->size_bytes = size_bytes;
        copy->writer = writer;
        return copy;
    }
};

// The digests of partials' durable bytes, kept in memory so that a commit in this process need
// not read the blob back (a GET of every byte: ~0.2 s for 256 MiB on RGW). An appender hashes
// what it writes and, at each sync, publishes the digest of exactly the durable bytes, with
// the random token it also stores on that sync's piece (user metadata). An appender opened
// here at another offset than the digest's drops it and hashes nothing. A commit uses a
// digest only when it is of the sealed size and the last piece carries its token: the bytes
// are then the ones its appender wrote. Any other writer since (another instance resuming
// after a lost acknowledgment, even one that ended where this one did) left the last piece
// with its own token, and the commit reads the blob back.
class DigestBook {
public:
    // The digest an appender opened at `durable_offset` continues: a fresh one at 0, a copy of
    // the published one when it ends there, else none (and the stale one is dropped).
    std::unique_ptr<RunningDigest> continue_at(const std::string& id, std::uint64_t durable_offset) {
        const std::lock_guard lock(m_mutex);
        const auto it = m_digests.find(id);
        if (it != m_digests.end() && it->second->size_bytes == durable_offset) return it->second->clone();
        if (it != m_digests.end()) m_digests.erase(it);
        if (durable_offset == 0) return std::make_unique<RunningDigest>();
        return nullptr;
    }
    void publish(const std::string& id, const RunningDigest& digest) {
        auto copy = digest.clone();
        const std::lock_guard lock(m_mutex);
        if (m_digests.size() >= kMaxRunningDigests && !m_digests.contains(id)) m_digests.clear();
        m_digests[id] = std::move(copy);
    }
    // Whether a digest of the partial is kept.
    bool has(const std::string& id) {
        const std::lock_guard lock(m_mutex);
        return m_digests.contains(id);
    }
    // The digest of a partial sealed at `size_bytes` whose last piece was written by `writer`,
    // when the one kept matches both; forgets the partial either way.
    std::optional<store::BlobDigest> take(const std::string& id, std::uint64_t size_bytes,
                                          const std::string& writer) {
        std::unique_ptr<RunningDigest> digest;
        {
            const std::lock_guard lock(m_mutex);
            const auto it = m_digests.find(id);
            if (it == m_digests.end()) return std::nullopt;
            digest = std::move(it->second);
            m_digests.erase(it);
        }
        if (digest->size_bytes != size_bytes || writer.empty() || digest->writer != writer) {
            return std::nullopt;
        }
        return store::BlobDigest{hex_encode(digest->sha256.finish()), size_bytes, {}};
    }
    void forget(const std::string& id) {
        const std::lock_guard lock(m_mutex);
        m_digests.erase(id);
    }

private:
    std::mutex m_mutex;
    std::map<std::string, std::unique_ptr<RunningDigest>> m_digests;
};

namespace {

class S3BlobAppender final : public store::BlobAppender {
public:
    // `client` and `second` are two connections: a full part's answer is read on one while
    // the next part streams on the other.
    S3BlobAppender(std::unique_ptr<S3Client> client, std::unique_ptr<S3Client> second,
                   std::string id, std::string key, std::string s3_upload_id,
                   std::uint64_t part_bytes, std::uint64_t long_part_bytes, std::uint64_t durable,
                   Bytes slot_bytes, std::set<std::uint64_t> pieces,
                   std::shared_ptr<DigestBook> digests)
        : m_clients{std::move(client), std::move(second)},
          m_id(std::move(id)),
          m_data_key(std::move(key)),
          m_s3_upload_id(std::move(s3_upload_id)),
          m_part_bytes(part_bytes),
          m_long_part_limit(long_part_bytes),
          m_slot_start(durable / part_bytes * part_bytes),
          m_durable(durable),
          m_buffer(std::move(slot_bytes)),
          m_pieces(std::move(pieces)),
          m_digests(std::move(digests)),
          m_digest(m_digests->continue_at(m_id, durable)) {
        SATLOAD_ASSERT(m_slot_start + m_buffer.size() == durable);
        std::array<std::uint8_t, kWriterTokenBytes> token{};
        crypto::random_bytes(token);
        m_writer = hex_encode(token);
        m_buffer.reserve(static_cast<std::size_t>(m_part_bytes));
        m_hashed = m_buffer.size();  // the synced bytes read back: the continued digest has them
    }

    ~S3BlobAppender() override { finish_hashing(); }  // hash_behind's thread reads the buffer

    void will_write(std::uint64_t bytes) override { m_expected = bytes; }

    StoreResult<void> write(std::span<const std::uint8_t> data) override {
        if (m_failed || m_long_broken) return fail(poisoned());
        while (!data.empty()) {
            finish_hashing();  // the buffer's bytes and the digest are this thread's again
            if (!m_long_part && !m_part_streaming) begin_long_part();
            if (m_long_part) {
                if (auto r = write_long_part(data); !r) return r;
                continue;
            }
            const std::size_t room = static_cast<std::size_t>(m_part_bytes) - m_buffer.size();
            const std::size_t take = std::min(room, data.size());
            const std::size_t before = m_buffer.size();
            m_buffer.insert(m_buffer.end(), data.begin(),
                            data.begin() + static_cast<std::ptrdiff_t>(take));
            stream_part(before);
            // Hashed later, from the buffer (hash_buffer).
            counted(data, take);
            if (m_buffer.size() == m_part_bytes) {
                if (auto r = upload_full_part(); !r) return r;
            }
        }
        return {};
    }

    StoreResult<std::uint64_t> sync() override {
        if (m_failed) return fail(poisoned());
        if (m_long_part) return sync_cut_long_part();
        m_expected = 0;
        const std::uint64_t end = size();
        if (end == m_durable) {
            // Nothing written since: a part awaited or a slot being hashed means a slot filled,
            // which moved the end past the durable offset.
            SATLOAD_ASSERT(!m_pending && !m_hashing.valid() && m_hashed == m_buffer.size());
            return m_durable;
        }
        // The piece's PUT and the deletions below go on this connection while S3 still stores
        // the full part awaited on the other (a PATCH of whole 8 MiB slots ends that way: an
        // empty piece marks the end, and an older piece goes), so their round trips overlap
        // the part's instead of following it. Writing the piece before the part is confirmed
        // is safe: the offset is acknowledged only when both succeeded, and a reopen at an
        // earlier acknowledged offset deletes pieces past it (see the file comment). The first
        // request on this connection abandons the part being streamed on it, if any (S3 keeps
        // nothing of it); the next write streams that part again from its first byte.
        m_part_streaming = false;
        const std::uint64_t previous = m_durable;
        // Pieces of ranges before the previous acknowledgment's range are covered by parts
        // confirmed by that acknowledgment's sync.
        const std::uint64_t keep_from = previous / m_part_bytes * m_part_bytes;
        while (!m_pieces.empty() && *m_pieces.begin() < keep_from) {
            // Best effort: a leftover piece below the durable offset changes nothing.
            (void)client().delete_object(tail_key(m_id, *m_pieces.begin()));
            m_pieces.erase(m_pieces.begin());
        }
        const std::uint64_t piece_start = std::max(m_durable, m_slot_start);
        const auto from = static_cast<std::size_t>(piece_start - m_slot_start);
        if (auto r = client().put_object(tail_key(m_id, piece_start),
                                          ByteSpan(m_buffer).subspan(from), m_writer);
            !r) {
            m_failed = true;
            return fail(to_store(r.error()));
        }
        m_pieces.insert(piece_start);
        if (auto r = settle_pending(); !r) return fail(r.error());
        // A full slot's bytes were hashed on a thread of their own meanwhile (hash_behind).
        hash_buffer();
        m_durable = end;
        if (m_digest) {
            m_digest->writer = m_writer;
            m_digests->publish(m_id, *m_digest);
        }
        return m_durable;
    }

    [[nodiscard]] std::uint64_t size() const override {
        return m_slot_start + (m_long_part ? m_long_sent : m_buffer.size());
    }

private:
    static StoreFailure poisoned() {
        return StoreFailure{StoreError::io, "s3: partial upload appender unusable after a failure"};
    }

    // The first `take` bytes of `data` went on to S3 in a long part, not kept: hashed, counted
    // against what the caller announced, and dropped from `data`.
    void written(std::span<const std::uint8_t>& data, std::size_t take) {
        if (m_digest) m_digest->update(data.first(take));
        counted(data, take);
    }
    // The first `take` bytes of `data` went on to S3 and into the buffer: counted against what
    // the caller announced and dropped from `data`; hash_buffer hashes them later.
    void counted(std::span<const std::uint8_t>& data, std::size_t take) {
        m_expected -= std::min<std::uint64_t>(m_expected, take);
        data = data.subspan(take);
    }

    // Hashes the buffer's bytes not hashed yet. A slot's bytes are hashed once the slot is full
    // or synced, not as they arrive: by then its last byte has gone to S3, so the hashing runs
    // while S3 finishes storing the part (on this machine's two cores, beside the client,
    // satload and RGW, hashing during the transfer slowed the transfer itself).
    void hash_buffer() {
        finish_hashing();
        if (m_digest && m_hashed < m_buffer.size()) {
            m_digest->update(ByteSpan(m_buffer).subspan(m_hashed));
        }
        m_hashed = m_buffer.size();
    }

    // Hashes the full slot's bytes not hashed yet on a thread of its own, so that the hashing
    // runs while this one goes on: at the end of a PATCH of whole slots, the sync's requests
    // and the wait for S3's answer to the part (~7 ms of SHA-256 for 8 MiB on this machine,
    // beside ~8 ms of RGW finishing the part). The bytes stay where they are until
    // finish_hashing: write() waits for it before the buffer takes a new byte, and everything
    // that reads or drops the digest waits too. (upload_full_part clears the vector right
    // after: that only moves its end; the bytes and the storage stay until the next insert.)
    void hash_behind() {
        finish_hashing();
        if (m_digest && m_hashed < m_buffer.size()) {
            const ByteSpan rest = ByteSpan(m_buffer).subspan(m_hashed);
            try {
                m_hashing = std::async(std::launch::async,
                                       [digest = m_digest.get(), rest] { digest->update(rest); });
            } catch (...) {
                m_digest->update(rest);  // no thread (or no memory for one): here, as before
            }
        }
        m_hashed = m_buffer.size();
    }

    void finish_hashing() {
        if (m_hashing.valid()) m_hashing.get();
    }

    // A long part: when the caller announced (will_write) at least two slots' worth of bytes
    // before its next sync, the part starting at this slot is one UploadPart of as many whole
    // slots as those bytes fill, up to the configured long part size (see
    // kDefaultLongPartBytes), and its bytes go to S3 as they arrive without being kept: memory
    // stays one slot. The part numbers of the slots it covers stay unused (see full_parts).
    // What the buffer held (the slot's synced bytes, read back from its pieces) goes first.
    // Not keeping the bytes means a failed stream cannot be sent again: the appender becomes
    // unusable and the caller resumes from its durable offset; and a sync before the part is
    // whole (the body was cut short) keeps only what the parts S3 confirmed hold.
    void begin_long_part() {
        if (m_stream_broken) return;
        hash_buffer();  // the long part's bytes are hashed as they go, after the buffer's
        const std::uint64_t slots = std::min<std::uint64_t>(
            (m_buffer.size() + m_expected) / m_part_bytes, std::max<std::uint64_t>(1, m_long_part_limit / m_part_bytes));
        if (slots < 2) return;
        const std::uint64_t part_number = m_slot_start / m_part_bytes + 1;
        if (part_number + slots - 1 > static_cast<std::uint64_t>(kMaxPartNumber)) return;
        const std::uint64_t length = slots * m_part_bytes;
        if (!client().begin_upload_part(m_data_key, m_s3_upload_id, static_cast<int>(part_number),
                                        length)) {
            m_stream_broken = true;  // the slot's part goes from the buffer, as without a hint
            return;
        }
        if (!m_buffer.empty() && !client().write_upload_part(m_buffer)) {
            m_stream_broken = true;  // nothing new was sent: the buffer still holds the slot
            return;
        }
        m_long_part = true;
        m_long_sent = m_buffer.size();
        m_long_bytes = length;
    }

    StoreResult<void> write_long_part(std::span<const std::uint8_t>& data) {
        const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(data.size(), m_long_bytes - m_long_sent));
        if (auto r = client().write_upload_part(data.first(take)); !r) {
            // The part's bytes are gone with its stream: no more writes, but a sync still keeps
            // what the confirmed parts hold (sync_cut_long_part), as after a body cut short.
            m_long_broken = true;
            return fail(to_store(r.error()));
        }
        m_long_sent += take;
        written(data, take);
        if (m_long_sent < m_long_bytes) return {};
        // Whole: its answer is read when the next part fills or at the next sync, as a slot's.
        if (auto r = settle_pending(); !r) return r;
        m_pending = true;
        m_current ^= 1U;
        m_slot_start += m_long_bytes;
        m_buffer.clear();
        m_hashed = 0;
        m_long_part = false;
        m_long_sent = 0;
        m_long_bytes = 0;
        return {};
    }

    // A sync while a long part is unfinished (the body was cut short, or the part's stream
    // broke): its bytes are gone with its stream. What the
    // confirmed parts hold stays: the durable offset moves to the long part's start (an empty
    // piece there), or stays where it was when that is later (the slot's own pieces). The
    // appender is unusable after: the caller resumes from the offset returned.
    StoreResult<std::uint64_t> sync_cut_long_part() {
        m_long_part = false;
        m_failed = true;
        finish_hashing();
        m_digest.reset();  // it covers bytes past the durable offset
        // Any request on this connection abandons the part; the other one's answer comes first.
        if (auto r = settle_pending(); !r) return fail(r.error());
        if (m_slot_start > m_durable) {
            if (auto r = client().put_object(tail_key(m_id, m_slot_start), {}, m_writer); !r) {
                return fail(to_store(r.error()));
            }
            m_pieces.insert(m_slot_start);
            m_durable = m_slot_start;
        }
        return m_durable;
    }

    // Sends the part's bytes from `from` on to S3 as they arrive, so that the part's upload
    // overlaps their receipt; begins the part's UploadPart when none is under way, with every
    // byte the buffer holds. A failure only stops the streaming of this part: when it fills,
    // it is sent from the buffer as before.
    void stream_part(std::size_t from) {
        if (m_stream_broken) return;
        const std::uint64_t part_number = m_slot_start / m_part_bytes + 1;
        if (part_number > static_cast<std::uint64_t>(kMaxPartNumber)) return;  // reported when full
        if (!m_part_streaming) {
            if (!client().begin_upload_part(m_data_key, m_s3_upload_id,
                                            static_cast<int>(part_number), m_part_bytes)) {
                m_stream_broken = true;
                return;
            }
            m_part_streaming = true;
            from = 0;
        }
        if (!client().write_upload_part(ByteSpan(m_buffer).subspan(from))) {
            m_part_streaming = false;
            m_stream_broken = true;
        }
    }

    StoreResult<void> upload_full_part() {
        const std::uint64_t part_number = m_slot_start / m_part_bytes + 1;
        if (part_number > static_cast<std::uint64_t>(kMaxPartNumber)) {
            m_failed = true;
            return fail(
                StoreFailure{StoreError::no_space, "s3: the upload exceeds S3's 10,000 parts"});
        }
        // The previous part's answer first: at most one part is ever awaited.
        if (auto r = settle_pending(); !r) return r;
        if (m_part_streaming) {
            // Its answer is read when the next part fills, or at the next sync: meanwhile the
            // next part streams on the other connection, and S3 stores this one. Its bytes are
            // all sent: they are hashed meanwhile too.
            hash_behind();
            m_part_streaming = false;
            m_pending = true;
            m_current ^= 1U;
        } else {
            // Streaming failed (a kept-alive connection the service had closed, an error
            // answer): the buffer still holds the whole part.
            hash_buffer();
            auto etag = client().upload_part(m_data_key, m_s3_upload_id,
                                             static_cast<int>(part_number), m_buffer);
            if (!etag) {
                m_failed = true;
                return fail(to_store(etag.error()));
            }
        }
        m_slot_start += m_part_bytes;
        m_buffer.clear();
        m_hashed = 0;
        m_stream_broken = false;
        return {};
    }

    // The connection parts stream on now; the other may hold the previous part's answer.
    S3Client& client() { return *m_clients[m_current]; }

    // Reads the answer of the part streamed before the current one, if it is still awaited.
    // Its bytes have left the buffer: a failure makes the appender unusable (the caller
    // resumes from its durable offset).
    StoreResult<void> settle_pending() {
        if (!m_pending) return {};
        m_pending = false;
        auto etag = m_clients[m_current ^ 1U]->finish_upload_part();
        if (!etag) {
            m_failed = true;
            return fail(to_store(etag.error()));
        }
        return {};
    }

    std::array<std::unique_ptr<S3Client>, 2> m_clients;
    unsigned m_current = 0;  // index into m_clients
    bool m_pending = false;  // the other connection's part answer is not read yet
    std::string m_id;
    std::string m_data_key;  // where the multipart upload is: partials/<id>/data or blobs/<file id>
    std::string m_s3_upload_id;
    std::uint64_t m_part_bytes;
    std::uint64_t m_long_part_limit;  // the longest part streamed when told a long body is coming
    std::uint64_t m_slot_start;  // offset of m_buffer's first byte: a multiple of the part size
    std::uint64_t m_durable;     // the offset the last sync (or the open) made durable
    Bytes m_buffer;              // the current part's bytes, at most one part
    std::size_t m_hashed = 0;    // of m_buffer, the bytes m_digest covers (hash_buffer)
    std::set<std::uint64_t> m_pieces;  // offsets of the pieces known to exist
    bool m_failed = false;
    std::shared_ptr<DigestBook> m_digests;
    std::unique_ptr<RunningDigest> m_digest;  // of [0, size()); none when not known from 0
    std::future<void> m_hashing;              // hash_behind's thread, until finish_hashing
    std::string m_writer;                     // this appender's token on its pieces
    bool m_part_streaming = false;  // the current part's UploadPart is under way, fed by write()
    bool m_stream_broken = false;   // streaming failed: the current part goes from the buffer
    std::uint64_t m_expected = 0;   // bytes the caller announced before its next sync, still to come
    bool m_long_part = false;       // a long part streams: its bytes are not kept in the buffer
    bool m_long_broken = false;     // its stream failed: writes are refused, a sync keeps the parts before it
    std::uint64_t m_long_sent = 0;  // of the long part, bytes sent (the buffer's first)
    std::uint64_t m_long_bytes = 0; // the long part's declared length, a whole number of slots
};

class S3BlobReader final : public store::BlobReader {
public:
    S3BlobReader(std::unique_ptr<S3Client> client, std::string key, std::uint64_t size_bytes)
        : m_client(std::move(client)), m_key(std::move(key)), m_size_bytes(size_bytes) {}

    [[nodiscard]] std::uint64_t size() const override { return m_size_bytes; }

    // S3 services check what they store (Ceph: BlueStore's checksum of every block read;
    // AWS: end-to-end checksums): re-hashing every byte cost 12% of a download's CPU.
    [[nodiscard]] bool checked_by_store() const override { return true; }

    void will_read(std::uint64_t offset, std::uint64_t length) override {
        m_plan_start = std::min(offset, m_size_bytes);
        m_plan_end = m_plan_start + std::min(length, m_size_bytes - m_plan_start);
        m_stream_at.reset();
    }

    StoreResult<std::size_t> read_at(std::uint64_t offset, std::span<std::uint8_t> out) override {
        if (offset >= m_size_bytes || out.empty()) return std::size_t{0};
        const std::uint64_t left = m_size_bytes - offset;
        if (left < out.size()) out = out.first(static_cast<std::size_t>(left));
        // Inside the announced range: one GET for the rest of it, read straight into `out`.
        if (offset >= m_plan_start && offset < m_plan_end) return stream(offset, out);
        if (offset < m_window_start || offset >= m_window_start + m_window_bytes) {
            // A read where the previous one ended doubles the read-ahead; any other starts over.
            m_ahead_bytes = offset == m_next ? std::min(std::max(2 * m_ahead_bytes, out.size()),
                                                        kS3ReadAheadBytes)
                                             : out.size();
            if (m_ahead_bytes <= out.size()) {
                auto n = fetch(offset, out);
                if (n) m_next = offset + *n;
                return n;
            }
            const auto want =
                static_cast<std::size_t>(std::min<std::uint64_t>(m_ahead_bytes, left));
            if (m_window.size() < want) m_window.resize(want);
            m_window_bytes = 0;
            auto n = fetch(offset, std::span(m_window).first(want));
            if (!n) return n;
            m_window_start = offset;
            m_window_bytes = *n;
        }
        const auto at = static_cast<std::size_t>(offset - m_window_start);
        const std::size_t n = std::min(out.size(), m_window_bytes - at);
        std::copy_n(m_window.begin() + static_cast<std::ptrdiff_t>(at), n, out.begin());
        m_next = offset + n;
        return n;
    }

    // The connection to S3 is plain TCP: its bytes can go to a pipe without a copy.
    [[nodiscard]] bool can_splice() const override { return true; }

    StoreResult<std::size_t> splice_at(std::uint64_t offset, int pipe_fd, std::size_t max) override {
        if (offset >= m_size_bytes || max == 0) return std::size_t{0};
        if (offset < m_plan_start || offset >= m_plan_end) {
            return fail(StoreFailure{StoreError::io, "s3: splice outside the announced range"});
        }
        return stream(offset, static_cast<std::size_t>(std::min<std::uint64_t>(max, m_plan_end - offset)),
                      [&](std::size_t want) { return m_client->splice_object_range(pipe_fd, want); });
    }

private:
    StoreResult<std::size_t> stream(std::uint64_t offset, std::span<std::uint8_t> out) {
        return stream(offset, out.size(),
                      [&](std::size_t want) { return m_client->read_object_range(out.first(want)); });
    }

    // The next bytes of the one GET for the announced range, `take(want)` receiving them (into
    // memory or a pipe); a read elsewhere starts the GET again from there.
    template <class Take>
    StoreResult<std::size_t> stream(std::uint64_t offset, std::size_t max, Take&& take) {
        if (m_stream_at != offset) {
            m_stream_at.reset();
            if (auto r = m_client->start_object_range(m_key, offset, m_plan_end - offset); !r)
                return fail(to_store(r.error()));
            m_stream_at = offset;
        }
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(max, m_plan_end - offset));
        auto n = take(want);
        if (!n) {
            m_stream_at.reset();
            return fail(to_store(n.error()));
        }
        if (*n == 0) {
            m_stream_at.reset();
            return fail(StoreFailure{StoreError::corrupt, "s3: blob shorter than its size"});
        }
        *m_stream_at += *n;
        return *n;
    }

    StoreResult<std::size_t> fetch(std::uint64_t offset, std::span<std::uint8_t> out) {
        auto n = m_client->get_object_range(m_key, offset, out);
        if (!n) return fail(to_store(n.error()));
        if (*n == 0)
            return fail(StoreFailure{StoreError::corrupt, "s3: blob shorter than its size"});
        return *n;
    }

    std::unique_ptr<S3Client> m_client;
    std::string m_key;
    std::uint64_t m_size_bytes;
    Bytes m_window;                   // read-ahead bytes [m_window_start, + m_window_bytes)
    std::uint64_t m_window_start = 0;
    std::size_t m_window_bytes = 0;
    std::uint64_t m_next = 0;         // where the previous read ended
    std::size_t m_ahead_bytes = 0;    // the current read-ahead size
    std::uint64_t m_plan_start = 0;   // the range announced by will_read()
    std::uint64_t m_plan_end = 0;
    std::optional<std::uint64_t> m_stream_at;  // where the open ranged GET's body stands
};

bool valid_bucket_name(std::string_view name) {
    if (name.size() < kMinBucketChars || name.size() > kMaxBucketChars) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    });
}

StoreFailure bad_url(std::string_view why) {
    return StoreFailure{StoreError::io, "blob store URL: " + std::string(why)};
}

}  // namespace

StoreResult<S3StoreConfig> parse_s3_url(std::string_view url) {
    // Letters, digits and `extra`: what a host name or a region is made of, with no byte that a
    // Host header, the resolver or a SigV4 credential scope would read otherwise.
    const auto made_of = [](std::string_view s, std::string_view extra) {
        return !s.empty() && std::all_of(s.begin(), s.end(), [extra](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   extra.find(c) != std::string_view::npos;
        });
    };
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) return fail(bad_url("not a URL"));
    if (parsed->scheme() != "s3") return fail(bad_url("the scheme must be s3"));
    S3StoreConfig config;
    config.endpoint.bucket = parsed->host();
    if (!valid_bucket_name(config.endpoint.bucket)) {
        return fail(bad_url("the bucket name must be 3-63 of a-z 0-9 . -"));
    }
    // Nothing is dropped unread: keys or a port beside the bucket belong elsewhere.
    if (parsed->has_userinfo() || parsed->has_port() || parsed->has_fragment()) {
        return fail(
            bad_url("s3://BUCKET takes no user, port or fragment (keys come from "
                    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"));
    }
    if (!parsed->path().empty() && parsed->path() != "/")
        return fail(bad_url("no path after the bucket"));
    config.endpoint.region = std::string(kDefaultRegion);
    std::string endpoint;
    bool seen_endpoint = false;
    bool seen_region = false;
    for (auto param : parsed->params()) {
        if (param.key == "endpoint" || param.key == "region") {
            bool& seen = param.key == "endpoint" ? seen_endpoint : seen_region;
            if (seen) return fail(bad_url(std::string(param.key) + " is given more than once"));
            seen = true;
        }
        if (param.key == "endpoint") {
            endpoint = param.value;
        } else if (param.key == "region") {
            if (!made_of(param.value, "._-"))
                return fail(bad_url("the region must be of A-Z a-z 0-9 . _ -"));
            config.endpoint.region = param.value;
        } else {
            return fail(bad_url("unknown parameter " + std::string(param.key)));
        }
    }
    if (endpoint.empty()) return fail(bad_url("endpoint=http://HOST:PORT is required"));
    auto ep = boost::urls::parse_uri(endpoint);
    if (!ep) return fail(bad_url("the endpoint is not a URL"));
    if (ep->scheme() != "http") return fail(bad_url("only http endpoints are supported"));
    if (ep->host().empty()) return fail(bad_url("the endpoint has no host"));
    if (!made_of(ep->host(), ".-")) {
        return fail(bad_url("the endpoint host must be a DNS name or an IPv4 address"));
    }
    if (ep->has_userinfo() || ep->has_query() || ep->has_fragment()) {
        return fail(bad_url("the endpoint takes no user, query or fragment"));
    }
    if (!ep->path().empty() && ep->path() != "/") return fail(bad_url("the endpoint has a path"));
    config.endpoint.host = ep->host();
    config.endpoint.port = kDefaultHttpPort;
    if (ep->has_port()) {
        // port_number() would wrap 65616 into 80: the digits (the grammar makes them digits)
        // are read here, refusing anything over 16 bits.
        const auto digits = ep->port();
        std::uint32_t port = 0;
        for (const char c : digits) {
            port = port * 10 + static_cast<std::uint32_t>(c - '0');
            if (port > UINT16_MAX) return fail(bad_url("bad endpoint port"));
        }
        if (port == 0) return fail(bad_url("bad endpoint port"));
        config.endpoint.port = static_cast<std::uint16_t>(port);
    }
    return config;
}

S3BlobStore::S3BlobStore(S3StoreConfig config, Credentials credentials)
    : m_config(std::move(config)),
      m_credentials(std::move(credentials)),
      m_digests(std::make_shared<DigestBook>()) {}

std::unique_ptr<S3Client> S3BlobStore::new_client() const {
    return std::make_unique<S3Client>(m_config.endpoint, m_credentials);
}

S3BlobStore::ClientLease S3BlobStore::lease() {
    {
        std::lock_guard lock(m_mutex);
        if (!m_idle.empty()) {
            auto client = std::move(m_idle.back());
            m_idle.pop_back();
            return ClientLease(*this, std::move(client));
        }
    }
    return ClientLease(*this, new_client());
}

void S3BlobStore::give_back(std::unique_ptr<S3Client> client) {
    std::lock_guard lock(m_mutex);
    if (m_idle.size() < kMaxIdleClients) m_idle.push_back(std::move(client));
}

StoreResult<std::unique_ptr<S3BlobStore>> S3BlobStore::open_url(std::string_view url) {
    auto config = parse_s3_url(url);
    if (!config) return fail(config.error());
    const char* id = std::getenv("AWS_ACCESS_KEY_ID");
    const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
    if (id == nullptr || *id == '\0' || secret == nullptr || *secret == '\0') {
        return fail(
            StoreFailure{StoreError::io, "s3: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"});
    }
    return open(std::move(*config), Credentials(id, secret));
}

StoreResult<std::unique_ptr<S3BlobStore>> S3BlobStore::open(S3StoreConfig config,
                                                            Credentials credentials) {
    if (config.part_size_bytes < kMinPartBytes || config.part_size_bytes > kMaxPartBytes) {
        return fail(StoreFailure{StoreError::io, "s3: the part size must be 5 to 64 MiB"});
    }
    if (config.long_part_bytes < config.part_size_bytes || config.long_part_bytes > kMaxPartSizeBytes) {
        return fail(StoreFailure{StoreError::io, "s3: long parts must be one part to 5 GiB"});
    }
    if (config.copy_part_bytes < kMinPartBytes || config.copy_part_bytes > kMaxPartSizeBytes ||
        config.single_copy_max_bytes > kMaxCopyObjectBytes) {
        return fail(StoreFailure{StoreError::io, "s3: copy parts must be 5 MiB to 5 GiB"});
    }
    std::unique_ptr<S3BlobStore> store(new S3BlobStore(std::move(config), std::move(credentials)));
    // An existing bucket is used as it is (the keys may not be allowed to create one); a
    // missing one is created.
    auto client = store->lease();
    auto bucket = client->head_bucket();
    if (!bucket && bucket.error().code != S3Error::not_found) return fail(to_store(bucket.error()));
    if (!bucket) {
        if (auto r = client->create_bucket(); !r) return fail(to_store(r.error()));
    }
    return store;
}

StoreResult<void> S3BlobStore::create_partial(std::string_view upload_id) {
    if (!is_upload_id(upload_id)) return fail(invalid_upload_id());
    auto client = lease();
    auto objects = list_partial(*client, upload_id);
    if (!objects) return fail(objects.error());
    auto existing = find_upload(*client, data_key(upload_id));
    if (!existing && existing.error().code != StoreError::not_found) return fail(existing.error());
    if (existing || !objects->empty()) {
        return fail(StoreFailure{StoreError::exists, "partial upload exists"});
    }
    return lift(client->create_multipart_upload(data_key(upload_id)).map([](auto&&) {}));
}

StoreResult<void> S3BlobStore::create_partial_for(std::string_view upload_id,
                                                  std::string_view file_id) {
    if (!is_upload_id(upload_id)) return fail(invalid_upload_id());
    if (!is_file_id(file_id)) return fail(invalid_file_id());
    auto client = lease();
    auto objects = list_partial(*client, upload_id);
    if (!objects) return fail(objects.error());
    if (!objects->empty()) return fail(StoreFailure{StoreError::exists, "partial upload exists"});
    // Never over a blob: completing the upload would replace it.
    const std::string blob = blob_key(file_id);
    auto taken = client->head_object(blob);
    if (taken) return fail(StoreFailure{StoreError::exists, "a blob with this file id exists"});
    if (taken.error().code != S3Error::not_found) return fail(to_store(taken.error()));
    // The upload first: a crash before the marker leaves an upload under blobs/ that nothing
    // names, which sweep_abandoned aborts in time like a large commit's stray copy (nobody
    // else knows the upload id yet: the caller records it once this returns).
    auto upload = client->create_multipart_upload(blob);
    if (!upload) return fail(to_store(upload.error()));
    if (auto r = client->put_object(target_key(upload_id, file_id), {}); !r) {
        (void)client->abort_multipart_upload(blob, *upload);
        return fail(to_store(r.error()));
    }
    return {};
}

StoreResult<std::unique_ptr<store::BlobAppender>> S3BlobStore::open_append(
    std::string_view upload_id, std::uint64_t durable_offset) {
    if (!is_upload_id(upload_id)) return fail(invalid_upload_id());
    auto client = new_client();
    auto objects = list_partial(*client, upload_id);
    if (!objects) return fail(objects.error());
    std::string key = objects->data(upload_id);
    auto s3_id = find_upload(*client, key);
    if (!s3_id) return fail(s3_id.error());
    const std::vector<Piece>& pieces = objects->pieces;
    if (durable_end(pieces) < durable_offset) {
        return fail(
            StoreFailure{StoreError::corrupt, "partial upload shorter than its durable offset"});
    }
    const std::uint64_t part = m_config.part_size_bytes;
    const std::uint64_t slot_start = durable_offset / part * part;
    if (auto parts = full_parts(*client, key, *s3_id, slot_start / part, part); !parts) {
        return fail(parts.error());
    }
    Bytes slot_bytes;
    slot_bytes.reserve(static_cast<std::size_t>(part));
    if (auto r = read_pieces(*client, upload_id, pieces, slot_start, durable_offset, slot_bytes);
        !r) {
        return fail(r.error());
    }
    // Normalize the bucket to exactly durable_offset (see the file comment).
    std::set<std::uint64_t> kept;
    bool ends_at_durable = durable_offset == 0;
    for (const auto& p : pieces) {
        const std::string piece_key = tail_key(upload_id, p.offset);
        if (p.offset >= slot_start && p.end() <= durable_offset) {
            kept.insert(p.offset);
            ends_at_durable = ends_at_durable || p.end() == durable_offset;
        } else if (p.offset >= slot_start && p.offset < durable_offset) {
            const auto from = static_cast<std::size_t>(p.offset - slot_start);
            if (auto r = client->put_object(piece_key, ByteSpan(slot_bytes).subspan(from)); !r) {
                return fail(to_store(r.error()));
            }
            kept.insert(p.offset);
            ends_at_durable = true;
        } else if (auto r = client->delete_object(piece_key); !r) {
            return fail(to_store(r.error()));
        }
    }
    if (!ends_at_durable) {
        if (auto r = client->put_object(tail_key(upload_id, durable_offset), {}); !r) {
            return fail(to_store(r.error()));
        }
        kept.insert(durable_offset);
    }
    return std::unique_ptr<store::BlobAppender>(std::make_unique<S3BlobAppender>(
        std::move(client), new_client(), std::string(upload_id), std::move(key), std::move(*s3_id),
        part, m_config.long_part_bytes, durable_offset, std::move(slot_bytes), std::move(kept),
        m_digests));
}

StoreResult<std::unique_ptr<store::BlobReader>> S3BlobStore::open_partial(
    std::string_view upload_id) {
    if (!is_upload_id(upload_id)) return fail(invalid_upload_id());
    auto client = new_client();
    auto objects = list_partial(*client, upload_id);
    if (!objects) return fail(objects.error());
    auto size = seal(*client, upload_id, *objects);
    if (!size) return fail(size.error());
    return std::unique_ptr<store::BlobReader>(
        std::make_unique<S3BlobReader>(std::move(client), objects->data(upload_id), *size));
}

StoreResult<void> S3BlobStore::remove_partial(std::string_view upload_id) {
    if (!is_upload_id(upload_id)) return fail(invalid_upload_id());
    m_digests->forget(std::string(upload_id));
    auto client = lease();
    auto objects = list_partial(*client, upload_id);
    if (!objects) return fail(objects.error());
    const std::string key = objects->data(upload_id);
    auto uploads = client->list_multipart_uploads(key);
    if (!uploads) return fail(to_store(uploads.error()));
    bool found = !objects->empty();
    for (const auto& u : *uploads) {
        if (u.key != key) continue;
        found = true;
        if (auto r = client->abort_multipart_upload(key, u.upload_id); !r) {
            if (r.error().code != S3Error::no_such_upload) return fail(to_store(r.error()));
        }
    }
    if (!found) return fail(no_partial());
    if (objects->target) {
        // Sealed at its file's key by a commit that never finished (the marker goes only once
        // one has): no file names the blob, whose bytes are this partial's.
        if (auto r = client->delete_object(key); !r) return fail(to_store(r.error()));
    }
    return delete_partial_objects(*client, upload_id, *objects);
}

StoreResult<void> S3BlobStore::copy_blob(S3Client& client, const std::string& from,
                                         const std::string& to) {
    auto info = client.head_object(from);
    if (!info) return fail(to_store(info.error()));
    if (info->size_bytes <= m_config.single_copy_max_bytes)
        return lift(client.copy_object(from, to));
    // Too large for one CopyObject: a multipart upload of server-side ranged copies.
    const std::uint64_t step = m_config.copy_part_bytes;
    if ((info->size_bytes + step - 1) / step > static_cast<std::uint64_t>(kMaxPartNumber)) {
        return fail(
            StoreFailure{StoreError::no_space, "s3: the blob needs more than 10,000 copy parts"});
    }
    auto upload = client.create_multipart_upload(to);
    if (!upload) return fail(to_store(upload.error()));
    std::vector<PartInfo> parts;
    for (std::uint64_t first = 0; first < info->size_bytes; first += step) {
        const std::uint64_t last = std::min(first + step, info->size_bytes) - 1;
        const auto number = static_cast<int>(parts.size() + 1);
        auto etag = client.upload_part_copy(to, *upload, number, from, first, last);
        if (!etag) {
            (void)client.abort_multipart_upload(to, *upload);
            return fail(to_store(etag.error()));
        }
        parts.push_back(PartInfo{number, last - first + 1, *etag});
    }
    if (auto r = client.complete_multipart_upload(to, *upload, parts); !r) {
        (void)client.abort_multipart_upload(to, *upload);
        return fail(to_store(r.error()));
    }
    return {};
}

StoreResult<std::uint64_t> S3BlobStore::seal(S3Client& client, std::string_view upload_id,
                                             const PartialObjects& objects,
                                             std::string* last_writer) {
    const std::string data = objects.data(upload_id);
    const std::vector<Piece>& pieces = objects.pieces;
    if (last_writer != nullptr) {
        // Before the pieces are deleted: whose sync wrote the last of them.
        const auto last =
            std::max_element(pieces.begin(), pieces.end(),
                             [](const Piece& a, const Piece& b) { return a.end() < b.end(); });
        if (last != pieces.end()) {
            auto info = client.head_object(tail_key(upload_id, last->offset));
            if (!info) return fail(to_store(info.error()));
            *last_writer = info->writer;
        }
    }
    auto s3_id = find_upload(client, data);
    if (!s3_id && s3_id.error().code != StoreError::not_found) return fail(s3_id.error());
    if (!s3_id) {
        // Sealed before (open_partial, or a commit that crashed after completing), or none.
        auto head = client.head_object(data);
        if (!head)
            return fail(head.error().code == S3Error::not_found ? no_partial()
                                                                : to_store(head.error()));
        return head->size_bytes;
    }
    const std::uint64_t part = m_config.part_size_bytes;
    const std::uint64_t end = durable_end(pieces);
    const std::uint64_t full = end / part;
    auto parts = full_parts(client, data, *s3_id, full, part);
    if (!parts) return fail(parts.error());
    if (end > full * part) {
        // The last range's pieces become the final part, the one S3 allows to be short.
        Bytes last;
        last.reserve(static_cast<std::size_t>(end - full * part));
        if (auto r = read_pieces(client, upload_id, pieces, full * part, end, last); !r) {
            return fail(r.error());
        }
        auto etag = client.upload_part(data, *s3_id, static_cast<int>(full + 1), last);
        if (!etag) return fail(to_store(etag.error()));
        parts->push_back(PartInfo{static_cast<int>(full + 1), last.size(), *etag});
    }
    if (parts->empty()) {
        // S3 completes no upload without parts: an empty partial is a plain empty object.
        if (auto r = client.put_object(data, {}); !r) return fail(to_store(r.error()));
        if (auto r = client.abort_multipart_upload(data, *s3_id); !r)
            return fail(to_store(r.error()));
    } else if (auto r = client.complete_multipart_upload(data, *s3_id, *parts); !r) {
        return fail(to_store(r.error()));
    }
    // The pieces' bytes now live in the data object.
    for (const auto& p : pieces) {
        if (auto r = client.delete_object(tail_key(upload_id, p.offset)); !r)
            return fail(to_store(r.error()));
    }
    return end;
}

StoreResult<store::BlobDigest> S3BlobStore::commit_partial(std::string_view upload_id,
                                                           std::string_view file_id) {
    if (!is_upload_id(upload_id)) return fail(invalid_upload_id());
    if (!is_file_id(file_id)) return fail(invalid_file_id());
    auto leased = lease();
    S3Client& client = *leased;
    const std::string blob = blob_key(file_id);
    auto objects = list_partial(client, upload_id);
    if (!objects) return fail(objects.error());
    if (objects->target && *objects->target != file_id) {
        return fail(
            StoreFailure{StoreError::exists, "the partial was created for another file id"});
    }
    // Where the partial's bytes are: its own data object, or already the blob's key.
    const std::string data = objects->data(upload_id);

    std::uint64_t size = 0;
    std::string last_writer;
    auto existing = client.head_object(blob);
    if (!existing && existing.error().code != S3Error::not_found)
        return fail(to_store(existing.error()));
    if (existing) {
        // A commit cut short after its copy (S3 unreachable or the server stopped before the
        // clean-up) left the blob beside this partial's sealed data object, or a partial
        // created for the blob's key was sealed there: S3 confirmed it (an object appears only
        // whole), so the commit resumes at the digest. Any other partial naming an existing
        // blob (unsealed, or of another size) is refused, and a commit that finished (nothing
        // of the partial is left) is not_found, as for a local store.
        auto pending = find_upload(client, data);
        if (!pending && pending.error().code != StoreError::not_found) return fail(pending.error());
        if (pending && objects->target && existing->size_bytes == 0 &&
            durable_end(objects->pieces) == 0) {
            // An empty partial sealed at its file's key: the empty object is PUT, then the
            // upload aborted (S3 completes none without parts); the abort did not happen.
            if (auto r = client.abort_multipart_upload(data, *pending); !r) {
                if (r.error().code != S3Error::no_such_upload) return fail(to_store(r.error()));
            }
            pending = fail(no_partial());
        }
        if (pending)
            return fail(StoreFailure{StoreError::exists, "a blob with this file id exists"});
        if (objects->empty()) return fail(no_partial());  // a commit that finished
        if (!objects->target) {
            // A plain partial: its sealed data object must be what was copied.
            auto head = client.head_object(data);
            if (!head && head.error().code != S3Error::not_found)
                return fail(to_store(head.error()));
            if (!head || head->size_bytes != existing->size_bytes) {
                return fail(StoreFailure{StoreError::exists, "a blob with this file id exists"});
            }
        }
        size = existing->size_bytes;
    } else {
        // A kept digest is used only when its own appender wrote the last piece (DigestBook).
        const bool digest_kept = m_digests->has(std::string(upload_id));
        auto sealed = seal(client, upload_id, *objects, digest_kept ? &last_writer : nullptr);
        if (!sealed) return fail(sealed.error());
        size = *sealed;
        if (data != blob) {
            if (auto r = copy_blob(client, data, blob); !r) return fail(r.error());
        }
    }
    // The digest of the bytes as this process sent them when it has one of the whole blob
    // (S3 confirmed each part, and the blob's size is checked), else the blob read back.
    StoreResult<store::BlobDigest> digest = fail(StoreFailure{StoreError::not_found, ""});
    if (auto known = m_digests->take(std::string(upload_id), size, last_writer)) {
        auto info = client.head_object(blob);
        if (!info) return fail(to_store(info.error()));
        known->size_bytes = info->size_bytes;
        digest = std::move(*known);
    } else {
        digest = digest_object(client, blob);
    }
    if (!digest) return fail(digest.error());
    if (digest->size_bytes != size) {
        return fail(StoreFailure{StoreError::corrupt,
                                 "s3: the stored blob's size differs from the upload's"});
    }
    // The data object (or the marker), and pieces a crash during sealing may have left.
    auto leftover = list_partial(client, upload_id);
    if (!leftover) return fail(leftover.error());
    if (auto r = delete_partial_objects(client, upload_id, *leftover); !r) return fail(r.error());
    return digest;
}

StoreResult<std::unique_ptr<store::BlobReader>> S3BlobStore::open_blob(std::string_view file_id) {
    if (!is_file_id(file_id)) return fail(invalid_file_id());
    auto client = new_client();
    const std::string key = blob_key(file_id);
    auto info = client->head_object(key);
    if (!info) return fail(to_store(info.error()));
    return std::unique_ptr<store::BlobReader>(
        std::make_unique<S3BlobReader>(std::move(client), key, info->size_bytes));
}

StoreResult<void> S3BlobStore::remove_blob(std::string_view file_id) {
    if (!is_file_id(file_id)) return fail(invalid_file_id());
    auto client = lease();
    const std::string key = blob_key(file_id);
    // DELETE answers 204 for a missing key too: HEAD first so a missing blob is not_found.
    if (auto info = client->head_object(key); !info) return fail(to_store(info.error()));
    return lift(client->delete_object(key));
}

StoreResult<store::BlobDigest> S3BlobStore::digest_blob(std::string_view file_id) {
    if (!is_file_id(file_id)) return fail(invalid_file_id());
    auto client = lease();
    return digest_object(*client, blob_key(file_id));
}

StoreResult<std::size_t> S3BlobStore::sweep_abandoned(
    std::chrono::system_clock::time_point initiated_before) {
    auto client = lease();
    std::size_t aborted = 0;
    // Partials created for a file id, by that file id: their uploads are under blobs/ (listed
    // once, when the first upload there is aborted).
    std::optional<std::map<std::string, std::string, std::less<>>> partial_of_file;
    // Partial uploads (plain ones under partials/, those created for a file id under blobs/),
    // and the multipart copies of large commits (a crash can leave one).
    for (std::string_view prefix : {kPartialsPrefix, kBlobsPrefix}) {
        auto uploads = client->list_multipart_uploads(prefix);
        if (!uploads) return fail(to_store(uploads.error()));
        for (const auto& u : *uploads) {
            auto initiated = parse_iso8601(u.initiated);
            if (!initiated)
                return fail(StoreFailure{StoreError::io, "s3: unreadable Initiated time"});
            if (*initiated >= initiated_before) continue;
            if (auto r = client->abort_multipart_upload(u.key, u.upload_id); !r) {
                if (r.error().code != S3Error::no_such_upload) return fail(to_store(r.error()));
            }
            ++aborted;
            // The partial's pieces (and marker) go too: partials/<id>/data, or blobs/<file id>
            // with a marker naming it.
            const std::string_view key = u.key;
            std::string id;
            if (prefix == kPartialsPrefix) {
                if (key.size() <= prefix.size() + kDataName.size() ||
                    key.substr(key.size() - kDataName.size()) != kDataName) {
                    continue;
                }
                id = std::string(
                    key.substr(prefix.size(), key.size() - prefix.size() - kDataName.size()));
            } else {
                if (!partial_of_file) {
                    auto markers = client->list_objects(kPartialsPrefix);
                    if (!markers) return fail(to_store(markers.error()));
                    partial_of_file.emplace();
                    for (const auto& m : *markers) {
                        const std::string_view name =
                            std::string_view(m.key).substr(kPartialsPrefix.size());
                        const auto at = name.find(kTargetName);
                        if (at == std::string_view::npos) continue;
                        partial_of_file->emplace(std::string(name.substr(at + kTargetName.size())),
                                                 std::string(name.substr(0, at)));
                    }
                }
                const auto it = partial_of_file->find(key.substr(prefix.size()));
                if (it == partial_of_file->end()) continue;
                id = it->second;
            }
            if (!is_upload_id(id)) continue;
            m_digests->forget(id);
            auto objects = list_partial(*client, id);
            if (!objects) return fail(objects.error());
            if (auto r = delete_partial_objects(*client, id, *objects); !r) return fail(r.error());
        }
    }
    return aborted;
}

}  // namespace satload::s3
