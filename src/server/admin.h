// The operator's side of a data directory: its layout, the ledger opened beside the metadata,
// the admin token file, and the backup and restore that `satload admin` and the admin API share.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"
#include "crypto/primitives.h"
#include "ledger/audit.h"
#include "accounts/account_store.h"
#include "ledger/ledger.h"
#include "payments/paywall.h"
#include "payments/wallet_service.h"
#include "safety/safety_service.h"
#include "core/problem.h"
#include "server/exchange.h"
#include "server/options.h"
#include "store/sqlite_meta_store.h"

namespace satload::server {

class BlockingPool;

// What a data directory holds (beside logs and staging directories).
inline constexpr std::string_view kMetaFileName = "meta.sqlite";
// Payment attempt records waiting to be written to meta.sqlite (payments::BufferedPaymentStore).
inline constexpr std::string_view kPaymentRecordLogDir = "payment-records";
inline constexpr std::string_view kLedgerFileName = "ledger.sqlite";  // checkpoint: "<it>.head"
inline constexpr std::string_view kBlobsDirName = "blobs";
inline constexpr std::string_view kAdminFileName = "admin.json";

// The admin token: 256 random bits, base64url in admin.json.
inline constexpr std::size_t kAdminTokenBytes = 32;
// Largest admin.json we read; a real one is under 200 bytes.
inline constexpr std::size_t kAdminFileBytesMax = 4096;

// A backup directory: the manifest is written last, so a backup without one is incomplete.
inline constexpr std::string_view kBackupManifestName = "manifest.json";
inline constexpr std::string_view kBackupFormat = "satload-backup/1";
// Ledger::backup's names inside a backup.
inline constexpr std::string_view kBackupLedgerName = "ledger.db";
inline constexpr std::string_view kBackupLedgerHeadName = "ledger.db.head";

// How long the server's ledger gathers payments into one commit under load (see
// LedgerOptions::gather_wait): measured on the paid-download benchmark, 1 ms cut the
// syncs per payment.
inline constexpr std::chrono::microseconds kLedgerGatherWait{1000};
// Opens <data>/ledger.sqlite with its checkpoint and creates the system accounts (idempotent:
// `exists` is fine). The error is one line for the operator.
[[nodiscard]] Result<std::unique_ptr<ledger::Ledger>, std::string> open_data_ledger(
    const std::filesystem::path& data_dir);
// The checkpoint of a PostgreSQL ledger stays in the data directory (fmt pattern: schema).
inline constexpr std::string_view kPgLedgerCheckpointName = "ledger-pg-{}.head";
// Opens the ledger in PostgreSQL (`conninfo`, tables in `schema`), its checkpoint under
// `data_dir`, and creates the system accounts.
[[nodiscard]] Result<std::unique_ptr<ledger::Ledger>, std::string> open_pg_ledger(
    const std::string& conninfo, const std::string& schema, const std::filesystem::path& data_dir);

struct AdminFile {
    std::string url;    // the running server's base URL
    std::string token;  // secret: wipe after use
};

// Replaces <data>/<name> atomically with `text`: a temporary file created 0600, fsync,
// rename, fsync of the directory.
[[nodiscard]] Result<void, std::string> write_private_file(const std::filesystem::path& data_dir,
                                                           std::string_view name, std::string_view text);
// Replaces <data>/admin.json atomically (temporary file created 0600, fsync, rename, fsync of
// the directory).
[[nodiscard]] Result<void, std::string> write_admin_file(const std::filesystem::path& data_dir,
                                                         const AdminFile& file);
// nullopt when there is no admin.json; an error when it is unreadable or malformed.
[[nodiscard]] Result<std::optional<AdminFile>, std::string> read_admin_file(
    const std::filesystem::path& data_dir);

// What the admin API's handlers reach. Only the token's SHA-256 is kept.
struct AdminContext {
    ledger::Ledger& ledger;
    store::SqliteMetaStore* meta;          // null with --db: back up PostgreSQL with its own tools
    std::filesystem::path blobs_root;      // empty with --blobs s3://…
    crypto::Sha256Digest token_sha256;
    // For `admin credit`: set once accounts and wallets are open.
    accounts::AccountStore* accounts = nullptr;
    payments::WalletService* wallets = nullptr;
    // Trust and safety (reports, takedowns, freezes, the admin log): set once it is open.
    safety::SafetyService* safety = nullptr;
    // Held earnings and rights-holder redirects (settled when a report is resolved).
    payments::Paywall* paywall = nullptr;
    // Where held earnings are settled (the server's blocking pool, set with the context): a
    // settlement waits for every payment in flight, and an event loop must never wait for one,
    // since payments finish on the loops.
    BlockingPool* blocking = nullptr;
};

// The name the admin log records for actions taken with the admin token.
inline constexpr std::string_view kAdminActor = "operator";
// The header naming the operator behind an admin request (the CLI sends the local login name).
// Asserted by whoever holds the admin token, not authenticated separately: a label for the log.
inline constexpr std::string_view kAdminActorHeader = "Satload-Admin-Actor";

// Trust and safety over HTTP (safety_admin.cpp, reports.cpp). Each answers the request fully.
// The admin API's safety resources under /api/v1/admin/ (reports, takedown, dismiss, claim,
// restore, freeze, unfreeze, log, transparency); false, with nothing sent, when `rest` names none of them.
awaitable<bool> safety_admin_route(Exchange& ex, AdminContext& admin, std::span<const std::string_view> rest);
// Answers shared by the safety handlers (reports.cpp).
awaitable<void> send_safety_problem(Exchange& ex, Problem problem, std::string_view detail);
awaitable<void> send_safety_json(Exchange& ex, http::status status, std::string body);
awaitable<void> send_safety_failure(Exchange& ex, const safety::SafetyFailure& failure);
// POST /api/v1/reports: anyone's report of a link; `client_address` is what is rate-limited.
awaitable<void> post_report(Exchange& ex, safety::SafetyService& safety, const std::string& client_address);
// GET /api/v1/account/notices and POST /api/v1/account/notices/<id>/counter for `account`.
awaitable<void> account_notices(Exchange& ex, safety::SafetyService& safety, safety::AccountId account,
                                std::span<const std::string_view> rest);
// The 410 of a taken-down file or a suspended owner's file: true when it answered (the caller
// stops), false when the file is not blocked.
awaitable<bool> send_safety_refusal(Exchange& ex, const safety::SafetyService& safety, const std::string& file_id);
// The 403 of a frozen payer or a suspended uploader: true when it answered.
awaitable<bool> send_frozen_refusal(Exchange& ex, const safety::SafetyService& safety, safety::AccountId payer);
awaitable<bool> send_suspended_refusal(Exchange& ex, const safety::SafetyService& safety,
                                       safety::AccountId uploader);


// {"passed": bool, "checks": [{"name", "passed", "detail"}...], "entries", "accounts"}.
[[nodiscard]] std::string audit_json(const ledger::AuditReport& report);

enum class BackupError {
    target_not_empty,  // the target exists and is not an empty directory
    target_invalid,    // not an absolute path, or not a directory
    io,                // the file system refused (see message)
    ledger,            // the ledger could not be copied
    meta,              // the metadata database could not be copied
};
struct BackupFailure {
    BackupError code;
    std::string message;
};

// An online, consistent backup into `dir` (absent or empty): the metadata database first, then
// the blobs it can reference (hard links, else copies; complete blobs are immutable) and the
// partial uploads (copies), then the ledger and its checkpoint taken between two batches, and
// last the manifest. A file deleted while the backup ran is dropped from the copy's metadata.
// Returns the manifest's JSON.
[[nodiscard]] Result<std::string, BackupFailure> write_backup(const std::filesystem::path& dir,
                                                              ledger::Ledger& ledger,
                                                              store::SqliteMetaStore& meta,
                                                              const std::filesystem::path& blobs_root);

// Copies a complete backup into `data_dir` (absent or empty), durably. Offline only: the
// caller makes sure no server uses `data_dir`.
[[nodiscard]] Result<void, std::string> restore_backup(const std::filesystem::path& backup_dir,
                                                       const std::filesystem::path& data_dir);

}  // namespace satload::server
