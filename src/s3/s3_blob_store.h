// BlobStore over an S3 bucket (Ceph RGW, MinIO, AWS S3). A partial upload is an S3 multipart
// upload plus small "tail" objects that make synced bytes durable before they fill a part.
// One created for its file id (create_partial_for) is uploaded at `blobs/<file_id>`, and
// commit completes it there; any other at `partials/<upload_id>/data`, and commit completes
// it and copies it to `blobs/<file_id>`. See s3_blob_store.cpp for the durability scheme.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "s3/s3_client.h"
#include "store/blob_store.h"

namespace satload::s3 {

// Parts are this large unless configured otherwise: above S3's 5 MiB minimum, and 10,000
// parts of it hold 80 GiB.
inline constexpr std::uint64_t kDefaultPartBytes = std::uint64_t{8} << 20;
// A part larger than this is refused at configuration (each appender holds one in memory).
inline constexpr std::uint64_t kMaxPartBytes = std::uint64_t{64} << 20;
// A digest reads the stored bytes with one GET, hashing them in blocks of this size.
inline constexpr std::size_t kS3ReadBlockBytes = std::size_t{4} << 20;
// A blob reader given no range (will_read) and read sequentially fetches ahead, its window
// doubling from the caller's piece size up to this: each GET costs RGW a request of its own
// (~1-2 ms), so a download's 512 KiB pieces would cost one GET each; held per reader.
inline constexpr std::size_t kS3ReadAheadBytes = std::size_t{4} << 20;
// Idle connections kept for store-level calls; more concurrent calls open more, then close them.
inline constexpr std::size_t kMaxIdleClients = 16;

// Running digests of partials kept for a commit without read-back (see DigestBook); past this
// many (uploads begun here but finished through another instance) all are dropped.
inline constexpr std::size_t kMaxRunningDigests = 10'000;

// An appender told a long body is coming streams parts of up to this many bytes (a whole
// number of parts of part_size_bytes), none of them kept in memory: RGW spends ~8 ms on each
// part (a 256 MiB multipart upload with curl: 0.85-0.93 s in 8 MiB parts, 0.67-0.69 s in
// 64 MiB parts, 0.65-0.68 s as one part). A body cut short loses what the unfinished one
// held: at most this much.
inline constexpr std::uint64_t kDefaultLongPartBytes = std::uint64_t{64} << 20;

// Blobs larger than a single CopyObject allows are copied in parts of this size.
inline constexpr std::uint64_t kDefaultCopyPartBytes = std::uint64_t{1} << 30;

struct S3StoreConfig {
    S3Endpoint endpoint;
    std::uint64_t part_size_bytes = kDefaultPartBytes;
    // At most this long a streamed part (see kDefaultLongPartBytes); tests lower it.
    std::uint64_t long_part_bytes = kDefaultLongPartBytes;
    // Commit copies blobs up to this size with one CopyObject, larger ones part by part
    // (UploadPartCopy) in copy_part_bytes; tests lower both to reach the second path.
    std::uint64_t single_copy_max_bytes = kMaxCopyObjectBytes;
    std::uint64_t copy_part_bytes = kDefaultCopyPartBytes;
};

// Parses `s3://BUCKET?endpoint=http://HOST:PORT&region=REGION` (region defaults to
// us-east-1; only http endpoints for now). The message says what is wrong.
[[nodiscard]] store::StoreResult<S3StoreConfig> parse_s3_url(std::string_view url);

class DigestBook;
struct PartialObjects;

class S3BlobStore final : public store::BlobStore {
public:
    // Reads the keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
    static store::StoreResult<std::unique_ptr<S3BlobStore>> open_url(std::string_view url);
    // Uses the bucket if it exists, creates it when missing.
    static store::StoreResult<std::unique_ptr<S3BlobStore>> open(S3StoreConfig config,
                                                                 Credentials credentials);

    store::StoreResult<void> create_partial(std::string_view upload_id) override;
    // The multipart upload goes straight to blobs/<file_id>, with a marker object
    // partials/<upload_id>/blob-<file_id> naming it, so the commit completes the upload in
    // place and copies nothing. Refused (exists) when a blob with that id exists.
    store::StoreResult<void> create_partial_for(std::string_view upload_id,
                                                std::string_view file_id) override;
    store::StoreResult<std::unique_ptr<store::BlobAppender>> open_append(
        std::string_view upload_id, std::uint64_t durable_offset) override;
    // Opening one lists the multipart upload, the pieces and the parts (three requests) and
    // connects twice.
    [[nodiscard]] bool appenders_worth_keeping() const override { return true; }
    // Seals the partial first: the parts of an unfinished multipart upload cannot be read, so
    // the upload is completed into its data key (partials/<id>/data, or blobs/<file_id> for a
    // partial created for its file id: the blob then exists before the commit) and read from
    // there. After that the
    // partial takes no more appends (open_append is not_found) but commits and removes as
    // before; the caller (tus concatenation) reads only complete, locked partials.
    store::StoreResult<std::unique_ptr<store::BlobReader>> open_partial(
        std::string_view upload_id) override;
    // Aborts the upload and deletes the pieces, the data object and the marker; a partial
    // created for its file id and sealed (by open_partial or an unfinished commit) takes its
    // blob with it, which no file names (see the file comment).
    store::StoreResult<void> remove_partial(std::string_view upload_id) override;
    // Completes in place (a partial created for file_id) or completes and copies; resumes a
    // commit cut short; not_found once a commit finished (nothing of the partial is left).
    store::StoreResult<store::BlobDigest> commit_partial(std::string_view upload_id,
                                                         std::string_view file_id) override;

    store::StoreResult<std::unique_ptr<store::BlobReader>> open_blob(
        std::string_view file_id) override;
    store::StoreResult<void> remove_blob(std::string_view file_id) override;
    store::StoreResult<store::BlobDigest> digest_blob(std::string_view file_id) override;

    // Aborts the multipart uploads under partials/ and blobs/ begun before `initiated_before`,
    // deleting a partial's pieces and marker with it: uploads abandoned by clients (those
    // created for their file id are under blobs/), or left by a crash between two steps
    // (create, commit, a large blob's copy).
    // Returns how many uploads were aborted.
    store::StoreResult<std::size_t> sweep_abandoned(
        std::chrono::system_clock::time_point initiated_before) override;

    [[nodiscard]] const S3StoreConfig& config() const { return m_config; }

private:
    // A pooled client for one store-level call, given back (with its kept-alive connection)
    // when the lease ends, so concurrent calls neither wait for each other nor reconnect.
    class ClientLease {
    public:
        ClientLease(S3BlobStore& store, std::unique_ptr<S3Client> client)
            : m_store(store), m_client(std::move(client)) {}
        ~ClientLease() { m_store.give_back(std::move(m_client)); }
        ClientLease(const ClientLease&) = delete;
        ClientLease& operator=(const ClientLease&) = delete;
        S3Client& operator*() { return *m_client; }
        S3Client* operator->() { return m_client.get(); }

    private:
        S3BlobStore& m_store;
        std::unique_ptr<S3Client> m_client;
    };

    S3BlobStore(S3StoreConfig config, Credentials credentials);
    // A client with its own connection for one appender or reader.
    [[nodiscard]] std::unique_ptr<S3Client> new_client() const;
    [[nodiscard]] ClientLease lease();
    // Completes the partial's multipart upload into its data key (partials/<id>/data, or
    // blobs/<file_id> for a partial created for one), its last range's pieces as the final
    // part, and deletes the pieces; returns the size. Idempotent. `objects` is the listing of
    // partials/<id>/. With `last_writer`, also gives the writer token of the last piece (empty
    // when none).
    store::StoreResult<std::uint64_t> seal(S3Client& client, std::string_view upload_id,
                                           const PartialObjects& objects,
                                           std::string* last_writer = nullptr);
    // Server-side copy of a completed object: one CopyObject, or part by part when large.
    store::StoreResult<void> copy_blob(S3Client& client, const std::string& from,
                                       const std::string& to);
    void give_back(std::unique_ptr<S3Client> client);

    S3StoreConfig m_config;
    Credentials m_credentials;
    std::shared_ptr<DigestBook> m_digests;  // shared with the appenders
    std::mutex m_mutex;  // guards m_idle
    std::vector<std::unique_ptr<S3Client>> m_idle;
};

}  // namespace satload::s3
