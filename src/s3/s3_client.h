// A small blocking S3 client: the handful of object and multipart-upload calls the S3 blob
// store needs, signed with SigV4, over one keep-alive HTTP/1.1 connection (Boost.Beast) with
// explicit timeouts. Path-style addressing (http://host:port/bucket/key), as Ceph RGW and
// MinIO accept without DNS set-up. Not thread-safe: one client per thread or per stream.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/encoding.h"
#include "core/result.h"
#include "s3/sigv4.h"

namespace satload::s3 {

// Connecting (resolve + TCP connect) may take this long.
inline constexpr std::chrono::milliseconds kConnectTimeoutMs{5'000};
// Each read or write step of a request may take this long (a stalled server is cut off).
inline constexpr std::chrono::milliseconds kIoTimeoutMs{60'000};
// A request the service answered with a 5xx is sent this many times in all (idempotent
// requests only), pausing attempt * kServerErrorBackoffMs between tries.
inline constexpr std::size_t kServerErrorAttempts = 3;
inline constexpr std::chrono::milliseconds kServerErrorBackoffMs{100};
// XML answers and error documents larger than this are refused (listings are paged by S3
// at 1,000 entries, well below).
inline constexpr std::size_t kMaxXmlBodyBytes = std::size_t{4} << 20;
// Response headers larger than this are refused.
inline constexpr std::uint32_t kMaxResponseHeaderBytes = 64 * 1024;
// Listings follow at most this many continuation pages.
inline constexpr std::size_t kMaxListPages = 1'000;
// An endpoint URL without a port names this one (plain HTTP).
inline constexpr std::uint16_t kDefaultHttpPort = 80;
// S3's multipart rules: parts are numbered 1..10,000 and each but the last is at least 5 MiB.
inline constexpr int kMaxPartNumber = 10'000;
inline constexpr std::uint64_t kMinPartBytes = std::uint64_t{5} << 20;
// The largest object a single CopyObject may copy, and the largest part (copied or sent).
inline constexpr std::uint64_t kMaxCopyObjectBytes = std::uint64_t{5} << 30;
inline constexpr std::uint64_t kMaxPartSizeBytes = std::uint64_t{5} << 30;

enum class S3Error {
    not_found,        // NoSuchKey, or 404 without a body (HEAD)
    no_such_upload,   // NoSuchUpload: the multipart upload was completed or aborted
    no_such_bucket,   // NoSuchBucket
    access_denied,    // AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch, clock skew
    invalid_request,  // any other 4xx: InvalidPart, EntityTooSmall, InvalidArgument, ...
    invalid_range,    // 416 InvalidRange: the range starts past the object's end
    conflict,         // 409 (BucketAlreadyExists, OperationAborted, ...)
    server,           // 5xx: InternalError, ServiceUnavailable, SlowDown
    connect,          // the endpoint could not be resolved or connected to
    timeout,          // a step took longer than its timeout
    network,          // the connection failed mid-request
    protocol,         // an answer this client cannot read (malformed, too large, unexpected)
};

struct S3Failure {
    S3Error code;
    std::string message;  // for logs: operation, HTTP status, S3 code and message
    unsigned http_status = 0;
    std::string s3_code;  // the error document's <Code>, when there was one
};

template <class T>
using S3Result = Result<T, S3Failure>;

// Where the bucket lives. Path-style: every request goes to host:port/bucket/key.
struct S3Endpoint {
    std::string host;
    std::uint16_t port = 80;
    std::string region = "us-east-1";
    std::string bucket;
};

struct ObjectInfo {
    std::string key;
    std::uint64_t size_bytes = 0;
    std::string etag;
    std::string writer;  // the `writer` given to put_object (HEAD only; empty when none)
};

struct PartInfo {
    int part_number = 0;
    std::uint64_t size_bytes = 0;
    std::string etag;
};

struct MultipartUpload {
    std::string key;
    std::string upload_id;
    std::string initiated;  // ISO 8601, as S3 sent it
};

// The client's timeouts; tests shorten them.
struct S3Timeouts {
    std::chrono::milliseconds connect_ms = kConnectTimeoutMs;
    std::chrono::milliseconds io_ms = kIoTimeoutMs;
};

class S3Client {
public:
    S3Client(S3Endpoint endpoint, Credentials credentials, S3Timeouts timeouts = {});
    ~S3Client();
    S3Client(const S3Client&) = delete;
    S3Client& operator=(const S3Client&) = delete;

    [[nodiscard]] const S3Endpoint& endpoint() const;
    // How many TCP connections this client has opened (to show keep-alive reuse).
    [[nodiscard]] std::uint64_t connections_opened() const;

    // PUT /bucket: creates the bucket; an existing bucket of ours counts as success.
    S3Result<void> create_bucket();
    // HEAD /bucket: whether the bucket exists and these keys may use it (not_found if not).
    S3Result<void> head_bucket();

    // `writer`, when given, is stored with the object as user metadata (see ObjectInfo).
    S3Result<void> put_object(std::string_view key, ByteSpan body, std::string_view writer = {});
    // GET with Range: bytes=offset-(offset+out.size()-1), straight into `out`; returns the
    // number of bytes received (fewer only at the end of the object). An offset at or past the
    // end is invalid_range.
    S3Result<std::size_t> get_object_range(std::string_view key, std::uint64_t offset,
                                           std::span<std::uint8_t> out);
    // Streams the bytes [offset, offset + length) of an object with one ranged GET: returns
    // once the answer's header is read, and read_object_range() then receives the body. Any
    // other request made before the body is read to its end closes the connection first (the
    // rest is not drained). An offset at or past the end is invalid_range.
    S3Result<void> start_object_range(std::string_view key, std::uint64_t offset,
                                      std::uint64_t length);
    // Fills `out` from the started range (fewer bytes only where the object ends first); 0
    // once the range is read or when none is started.
    S3Result<std::size_t> read_object_range(std::span<std::uint8_t> out);
    // As read_object_range, but moves up to `max` bytes into `pipe_fd` (the write end of a
    // pipe with room for them) without copying them through user space: splice(2) from the
    // connection (plain TCP), after any bytes the header read had buffered. At least one byte
    // unless the range is read or none is started (0); waits up to the I/O timeout for it.
    S3Result<std::size_t> splice_object_range(int pipe_fd, std::size_t max);
    S3Result<ObjectInfo> head_object(std::string_view key);
    // Deleting a missing key succeeds (S3 answers 204 either way).
    S3Result<void> delete_object(std::string_view key);
    // Server-side copy within the bucket (objects up to kMaxCopyObjectBytes).
    S3Result<void> copy_object(std::string_view from_key, std::string_view to_key);
    // ListObjectsV2 of every key under `prefix`, following continuation pages.
    S3Result<std::vector<ObjectInfo>> list_objects(std::string_view prefix);

    S3Result<std::string> create_multipart_upload(std::string_view key);
    // Sends one part with an unsigned payload (streamed, not hashed first); returns its ETag.
    S3Result<std::string> upload_part(std::string_view key, std::string_view upload_id,
                                      int part_number, ByteSpan body);
    // UploadPart with the body sent as it becomes available: begin_upload_part sends the
    // request head declaring `length_bytes`, write_upload_part the next bytes (never more than
    // declared), and finish_upload_part, once all are sent, reads the answer and returns the
    // ETag. Any other request before that abandons the part: the connection is closed, and
    // S3 keeps nothing of a part whose body did not arrive whole. Not retried (the body is
    // gone): a caller that keeps the bytes sends them again with upload_part.
    S3Result<void> begin_upload_part(std::string_view key, std::string_view upload_id,
                                     int part_number, std::uint64_t length_bytes);
    S3Result<void> write_upload_part(ByteSpan data);
    S3Result<std::string> finish_upload_part();
    // UploadPartCopy: part `part_number` becomes the bytes [first_byte, last_byte] of
    // `from_key` (server-side); returns its ETag.
    S3Result<std::string> upload_part_copy(std::string_view key, std::string_view upload_id,
                                           int part_number, std::string_view from_key,
                                           std::uint64_t first_byte, std::uint64_t last_byte);
    S3Result<void> complete_multipart_upload(std::string_view key, std::string_view upload_id,
                                             std::span<const PartInfo> parts);
    S3Result<void> abort_multipart_upload(std::string_view key, std::string_view upload_id);
    S3Result<std::vector<MultipartUpload>> list_multipart_uploads(std::string_view prefix);
    S3Result<std::vector<PartInfo>> list_parts(std::string_view key, std::string_view upload_id);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// Maps an S3 error document's code and the HTTP status to the enum.
[[nodiscard]] S3Error classify_s3_error(unsigned http_status, std::string_view s3_code);

}  // namespace satload::s3
