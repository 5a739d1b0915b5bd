// `satload serve`: opens the embedded stores and the ledger under the data directory, writes
// the admin token file, and runs the server.
#include <filesystem>
#include <fmt/format.h>
#include <unistd.h>

#include "core/encoding.h"
#include "crypto/primitives.h"
#include "files/clock.h"
#include "server/admin.h"
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
    // The ledger last among the stores: its writer thread is the one thing to stop cleanly.
    auto ledger = open_data_ledger(options.data_dir);
    if (!ledger) {
        fmt::print(stderr, "error: {}\n", ledger.error());
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
    const std::string url = fmt::format("{}://{}:{}", tls ? "https" : "http", host, server.port());

    // The admin token: written to admin.json (0600) for `satload admin`, kept here only as
    // its SHA-256. Written before "listening" is printed, so whoever waits for that line finds it.
    AdminFile admin_file{url, ""};
    {
        std::array<std::uint8_t, kAdminTokenBytes> token{};
        crypto::random_bytes(token);
        admin_file.token = base64url_encode(token);
        crypto::secure_wipe(token);
    }
    AdminContext admin{**ledger, **meta, fs::path(options.data_dir) / "blobs",
                       crypto::sha256(as_bytes(admin_file.token))};
    auto written = write_admin_file(options.data_dir, admin_file);
    crypto::secure_wipe(admin_file.token.data(), admin_file.token.size());
    if (!written) {
        fmt::print(stderr, "error: {}\n", written.error());
        return 1;
    }
    server.set_admin(&admin);

    fmt::print(stderr, "listening on {}\n", url);
    std::fflush(stderr);
    server.run();
    // A clean stop takes the token away; after a crash admin.json stays, and `satload admin`
    // finds nobody answering at its URL and works offline.
    const fs::path admin_path = fs::path(options.data_dir) / kAdminFileName;
    ::unlink(admin_path.c_str());
    ledger->reset();  // answers everything queued, stops the writer and the checkpointer
    fmt::print(stderr, "stopped\n");
    return 0;
}

}  // namespace satload::server
