// The stores behind `satload serve`, chosen by --db and --blobs: the embedded default (SQLite
// files and a blob directory under --data) or the scale-out engines (PostgreSQL for metadata,
// accounts, payments, safety, the chain and the ledger; an S3 bucket for blobs), plus the
// server secrets every instance of a deployment must share.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "accounts/account_store.h"
#include "core/encoding.h"
#include "core/result.h"
#include "ledger/ledger.h"
#include "payments/payment_store.h"
#include "safety/safety_store.h"
#include "server/options.h"
#include "store/blob_store.h"
#include "store/meta_store.h"

namespace satload::store {
class PgDb;
class SqliteMetaStore;
}  // namespace satload::store

namespace satload::server {

struct Backends {
    std::shared_ptr<store::PgDb> pg;  // --db postgresql://…; null for the embedded SQLite
    std::unique_ptr<store::BlobStore> blobs;
    // The local blob directory (backup links its files); empty with --blobs s3://…
    std::filesystem::path local_blobs_root;
    std::unique_ptr<store::MetaStore> meta;
    store::SqliteMetaStore* sqlite_meta = nullptr;  // the same store when embedded (backup)
    std::unique_ptr<accounts::AccountStore> accounts;
    std::unique_ptr<payments::PaymentStore> payments;
    std::unique_ptr<safety::SafetyStore> safety;
    std::unique_ptr<ledger::Ledger> ledger;  // opened last: its writer is the thing to stop

    [[nodiscard]] bool embedded() const { return pg == nullptr && !local_blobs_root.empty(); }
};

// Opens every store `options` names; the error is one line for the operator.
[[nodiscard]] Result<Backends, std::string> open_backends(const ServerOptions& options);

// The data directory records where its server keeps its stores (--db and --blobs; 0600, as a
// database URL may carry a password), so that `satload admin` working offline opens the same.
inline constexpr std::string_view kBackendsFileName = "backends.json";
inline constexpr std::size_t kBackendsFileBytesMax = 16 * 1024;
[[nodiscard]] Result<void, std::string> write_backends_file(const ServerOptions& options);
// The data directory and its recorded --db and --blobs (empty when it has no backends file).
[[nodiscard]] Result<ServerOptions, std::string> read_backends_file(const std::filesystem::path& data_dir);
// The text of a backends file recording options' --db and --blobs: a JSON object {"db",
// "blobs"} and a newline. Refused when parse_backends_text could not give both back exactly: a
// URL with a byte outside printable ASCII (no URL has one), or text over kBackendsFileBytesMax.
[[nodiscard]] Result<std::string, std::string> format_backends_text(const ServerOptions& options);
// The --db and --blobs a backends file's text records (every other option at its default);
// the error completes "<file> is …". Pure, so that it can be fuzzed.
[[nodiscard]] Result<ServerOptions, std::string> parse_backends_text(std::string_view text);
// The stores of `data_dir` as its server last ran them (embedded when it never named others).
// Embedded, the ledger and metadata databases must exist already: nothing is created.
[[nodiscard]] Result<Backends, std::string> open_offline_backends(const std::filesystem::path& data_dir);

// A server secret of `size` random bytes, created once and the same on every start and every
// instance: in the database with --db (so all instances agree), else a 0600 file in the data
// directory. Wipe it after use.
[[nodiscard]] Result<Bytes, std::string> server_secret(const Backends& backends,
                                                       const std::filesystem::path& data_dir,
                                                       std::string_view name, std::size_t size);

}  // namespace satload::server
