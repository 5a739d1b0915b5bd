// Opening the stores `satload serve` runs on: SQLite and a blob directory under --data, or
// PostgreSQL (--db) and an S3 bucket (--blobs), in any combination.
#include "server/backends.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>

#include <boost/json.hpp>

#include "accounts/cached_account_store.h"
#include "accounts/pg_account_store.h"
#include "accounts/sqlite_account_store.h"
#include "crypto/primitives.h"
#include "payments/buffered_payment_store.h"
#include "payments/pg_payment_store.h"
#include "payments/sqlite_payment_store.h"
#include "s3/s3_blob_store.h"
#include "safety/pg_safety_store.h"
#include "safety/sqlite_safety_store.h"
#include "server/admin.h"
#include "store/local_blob_store.h"
#include "store/pg_db.h"
#include "store/pg_meta_store.h"
#include "store/sqlite_meta_store.h"

namespace satload::server {
namespace fs = std::filesystem;

namespace {

// The server's own table in PostgreSQL: its shared secrets.
constexpr std::array<std::string_view, 1> kServerSteps{
    "CREATE TABLE server_secrets (name TEXT PRIMARY KEY, value BYTEA NOT NULL)",
};

template <class Store, class Opened>
Result<std::unique_ptr<Store>, std::string> take(Opened opened, std::string_view what) {
    if (!opened) return fail(fmt::format("cannot open the {}: {}", what, opened.error().message));
    return std::unique_ptr<Store>(std::move(*opened));
}

Result<void, std::string> open_blobs(const ServerOptions& options, Backends& b) {
    if (options.blobs_url.empty()) {
        b.local_blobs_root = fs::path(options.data_dir) / kBlobsDirName;
        auto local = take<store::BlobStore>(store::LocalBlobStore::open(b.local_blobs_root), "blob store");
        if (!local) return fail(local.error());
        b.blobs = std::move(*local);
        return {};
    }
    if (!options.blobs_url.starts_with("s3://")) {
        return fail(std::string("--blobs takes an s3://BUCKET?endpoint=…&region=… URL (keys in "
                                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); without it blobs stay under --data"));
    }
    auto s3 = take<store::BlobStore>(s3::S3BlobStore::open_url(options.blobs_url), "S3 blob store");
    if (!s3) return fail(s3.error());
    b.blobs = std::move(*s3);
    return {};
}

Result<void, std::string> open_sqlite(const ServerOptions& options, Backends& b) {
    const fs::path meta_file = fs::path(options.data_dir) / kMetaFileName;
    auto meta = store::SqliteMetaStore::open(meta_file);
    if (!meta) return fail("cannot open the metadata store: " + meta.error().message);
    b.sqlite_meta = meta->get();
    b.meta = std::move(*meta);
    // Accounts, payments and safety share meta.sqlite (their own tables).
    auto accounts = take<accounts::AccountStore>(accounts::SqliteAccountStore::open(meta_file), "account store");
    if (!accounts) return fail(accounts.error());
    // One server owns the data directory: the reads every request makes are kept in memory.
    b.accounts = std::make_unique<accounts::CachedAccountStore>(std::move(*accounts));
    auto payments = take<payments::PaymentStore>(payments::SqlitePaymentStore::open(meta_file), "payment store");
    if (!payments) return fail(payments.error());
    // One server: its attempt records are written behind, in batches, logged meanwhile.
    auto buffered = payments::BufferedPaymentStore::open(std::move(*payments),
                                                         fs::path(options.data_dir) / kPaymentRecordLogDir);
    if (!buffered) return fail("cannot open the payment store: " + buffered.error().message);
    b.payments = std::move(*buffered);
    auto safety = take<safety::SafetyStore>(safety::SqliteSafetyStore::open(meta_file), "safety store");
    if (!safety) return fail(safety.error());
    b.safety = std::move(*safety);
    auto ledger = open_data_ledger(options.data_dir);
    if (!ledger) return fail(ledger.error());
    b.ledger = std::move(*ledger);
    return {};
}

Result<void, std::string> open_pg(const ServerOptions& options, Backends& b) {
    auto db = store::PgDb::open(options.db_url);
    if (!db) return fail("cannot open the database: " + db.error().message);
    b.pg = *db;
    if (auto m = b.pg->migrate("server", kServerSteps); !m) {
        return fail("cannot migrate the server's tables: " + m.error().message);
    }
    auto meta = take<store::MetaStore>(store::PgMetaStore::open(b.pg), "metadata store");
    if (!meta) return fail(meta.error());
    b.meta = std::move(*meta);
    auto accounts = take<accounts::AccountStore>(accounts::PgAccountStore::open(b.pg), "account store");
    if (!accounts) return fail(accounts.error());
    b.accounts = std::move(*accounts);
    auto payments = take<payments::PaymentStore>(payments::PgPaymentStore::open(b.pg), "payment store");
    if (!payments) return fail(payments.error());
    b.payments = std::move(*payments);
    auto safety = take<safety::SafetyStore>(safety::PgSafetyStore::open(b.pg), "safety store");
    if (!safety) return fail(safety.error());
    b.safety = std::move(*safety);
    auto ledger = open_pg_ledger(b.pg->conninfo(), b.pg->schema(), options.data_dir);
    if (!ledger) return fail(ledger.error());
    b.ledger = std::move(*ledger);
    return {};
}

}  // namespace

Result<Backends, std::string> open_backends(const ServerOptions& options) {
    Backends b;
    if (auto r = open_blobs(options, b); !r) return fail(r.error());
    if (!options.db_url.empty() && !store::is_pg_url(options.db_url)) {
        return fail(std::string("--db takes a postgresql://USER@HOST:PORT/DATABASE URL (with an optional "
                                "schema=NAME parameter); without it metadata stays in SQLite under --data"));
    }
    auto opened = options.db_url.empty() ? open_sqlite(options, b) : open_pg(options, b);
    if (!opened) return fail(opened.error());
    return b;
}

Result<std::string, std::string> format_backends_text(const ServerOptions& options) {
    const auto is_url_text = [](std::string_view url) {
        return std::all_of(url.begin(), url.end(), [](char c) { return c >= ' ' && c <= '~'; });
    };
    if (!is_url_text(options.db_url) || !is_url_text(options.blobs_url)) {
        return fail(fmt::format("the --db and --blobs URLs recorded in {} must be printable ASCII",
                                kBackendsFileName));
    }
    boost::json::object body;
    body["db"] = options.db_url;
    body["blobs"] = options.blobs_url;
    std::string text = boost::json::serialize(body) + "\n";
    if (text.size() > kBackendsFileBytesMax) {
        crypto::secure_wipe(text.data(), text.size());
        return fail(
            fmt::format("the --db and --blobs URLs are too long to record in {} (at most {} bytes)",
                        kBackendsFileName, kBackendsFileBytesMax));
    }
    return text;
}

Result<void, std::string> write_backends_file(const ServerOptions& options) {
    auto text = format_backends_text(options);
    if (!text) return fail(text.error());
    auto written = write_private_file(options.data_dir, kBackendsFileName, *text);
    crypto::secure_wipe(text->data(), text->size());
    return written;
}

Result<ServerOptions, std::string> parse_backends_text(std::string_view text) {
    boost::system::error_code parse_error;
    const boost::json::value v = text.size() <= kBackendsFileBytesMax
                                     ? boost::json::parse(text, parse_error)
                                     : boost::json::value();
    const auto* db = v.is_object() ? v.as_object().if_contains("db") : nullptr;
    const auto* blobs = v.is_object() ? v.as_object().if_contains("blobs") : nullptr;
    if (parse_error || !db || !db->is_string() || !blobs || !blobs->is_string()) {
        return fail(std::string("not a backends file (want {\"db\", \"blobs\"})"));
    }
    ServerOptions options;
    options.db_url = std::string(db->as_string());
    options.blobs_url = std::string(blobs->as_string());
    return options;
}

Result<ServerOptions, std::string> read_backends_file(const fs::path& data_dir) {
    ServerOptions options;
    options.data_dir = data_dir.string();
    const fs::path path = data_dir / kBackendsFileName;
    std::error_code ec;
    if (fs::exists(path, ec)) {
        std::string text;
        {
            std::ifstream in(path, std::ios::binary);
            text.assign(std::istreambuf_iterator<char>(in), {});
            if (!in.good() && !in.eof()) return fail("cannot read " + path.string());
        }
        auto recorded = parse_backends_text(text);
        crypto::secure_wipe(text.data(), text.size());
        if (!recorded) return fail(path.string() + " is " + recorded.error());
        options.db_url = std::move(recorded->db_url);
        options.blobs_url = std::move(recorded->blobs_url);
    }
    return options;
}

Result<Backends, std::string> open_offline_backends(const fs::path& data_dir) {
    auto read = read_backends_file(data_dir);
    if (!read) return fail(read.error());
    const ServerOptions& options = *read;
    std::error_code ec;
    if (options.db_url.empty() &&
        (!fs::is_regular_file(data_dir / kLedgerFileName, ec) || !fs::is_regular_file(data_dir / kMetaFileName, ec))) {
        return fail(data_dir.string() + " is not a satload data directory (no ledger or metadata database)");
    }
    return open_backends(options);
}

Result<Bytes, std::string> server_secret(const Backends& backends, const fs::path& data_dir, std::string_view name,
                                         std::size_t size) {
    Bytes fresh(size);
    crypto::random_bytes(fresh);
    if (backends.pg) {
        // The first instance's insert wins; every instance reads the winner.
        auto stored = backends.pg->transact("read the server secret", [&](pqxx::work& w) -> Result<Bytes, store::StoreFailure> {
            w.exec_params("INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                          std::string(name), pqxx::binarystring(fresh.data(), fresh.size()));
            const auto row = w.exec_params1("SELECT value FROM server_secrets WHERE name = $1", std::string(name));
            const pqxx::binarystring value(row[0]);
            if (value.size() != size) {
                return fail(store::StoreFailure{store::StoreError::corrupt, "it has the wrong length"});
            }
            return Bytes(value.data(), value.data() + value.size());
        });
        crypto::secure_wipe(fresh.data(), fresh.size());
        if (!stored) return fail(fmt::format("the server secret {} in the database: {}", name, stored.error().message));
        return std::move(*stored);
    }
    const std::string path = (data_dir / name).string();
    Bytes secret(size);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        crypto::secure_wipe(fresh.data(), fresh.size());
        const ssize_t n = ::read(fd, secret.data(), secret.size());
        ::close(fd);
        if (n != static_cast<ssize_t>(secret.size())) {
            return fail("the server secret " + path + " is unreadable or truncated");
        }
        return secret;
    }
    secret.swap(fresh);
    const std::string tmp = path + ".tmp";
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return fail("cannot create " + tmp);
    const bool ok = ::write(fd, secret.data(), secret.size()) == static_cast<ssize_t>(secret.size()) &&
                    ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) return fail("cannot write " + path);
    return secret;
}

}  // namespace satload::server
