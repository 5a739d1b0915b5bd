// `satload serve`: opens the embedded stores under the data directory and runs the server.
#include <filesystem>
#include <fmt/format.h>

#include "crypto/primitives.h"
#include "files/clock.h"
#include "server/server.h"
#include "store/local_blob_store.h"
#include "store/sqlite_meta_store.h"

namespace satload::server {

int run_server(const ServerOptions& options) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(options.data_dir, ec);
    if (ec) {
        fmt::print(stderr, "error: cannot create data directory {}: {}\n", options.data_dir, ec.message());
        return 1;
    }
    fs::permissions(options.data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    auto blobs = store::LocalBlobStore::open(fs::path(options.data_dir) / "blobs");
    if (!blobs) {
        fmt::print(stderr, "error: cannot open blob store: {}\n", blobs.error().message);
        return 1;
    }
    auto meta = store::SqliteMetaStore::open(fs::path(options.data_dir) / "meta.sqlite");
    if (!meta) {
        fmt::print(stderr, "error: cannot open metadata store: {}\n", meta.error().message);
        return 1;
    }
    files::SystemClock clock;
    files::UploadLimits limits;
    limits.max_upload_bytes = options.max_upload_bytes;
    limits.upload_expiry_s = options.upload_expiry.count();
    files::UploadService uploads(**blobs, **meta, clock, crypto::random_bytes, limits);
    files::FileService files(**blobs, **meta);
    if (const std::size_t recovered = uploads.recover(); recovered > 0) {
        fmt::print(stderr, "completed {} upload(s) interrupted by a crash\n", recovered);
    }

    Server server(options, uploads, files);
    if (auto error = server.start()) {
        fmt::print(stderr, "error: {}\n", *error);
        return 1;
    }
    const bool tls = !options.tls_cert_file.empty();
    std::string host = options.listen.substr(0, options.listen.rfind(':'));
    if (host.empty()) host = "0.0.0.0";
    fmt::print(stderr, "listening on {}://{}:{}\n", tls ? "https" : "http", host, server.port());
    std::fflush(stderr);
    server.run();
    fmt::print(stderr, "stopped\n");
    return 0;
}

}  // namespace satload::server
