// `satload serve`: opens the stores (embedded under the data directory, or PostgreSQL and S3), writes
// the admin token file, and runs the server.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <stop_token>
#include <thread>

#include "accounts/account_service.h"
#include "accounts/pg_login_throttle.h"
#include "core/encoding.h"
#include "crypto/primitives.h"
#include "files/clock.h"
#include "files/link_controls.h"
#include "files/pg_rate_limiter.h"
#include "server/admin.h"
#include "server/backends.h"
#include "server/onchain_api.h"
#include "server/server.h"
#include "server/wallet_context.h"
#include "safety/safety_service.h"

namespace satload::server {
namespace {

// Server secrets, each created once and read on every start (server_secret): the one behind
// fake salts (which must not change, or a salt lookup would reveal who exists) and the
// paywall's (invoices, preimages and macaroons; a new one voids every grant).
constexpr std::string_view kSaltSecretFileName = "account_salt.key";
constexpr std::string_view kPaywallSecretFileName = "paywall.key";

}  // namespace

int run_server(const ServerOptions& options) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(options.data_dir, ec);
    if (ec) {
        fmt::print(stderr, "error: cannot create data directory {}: {}\n", options.data_dir, ec.message());
        return 1;
    }
    fs::permissions(options.data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    auto backends = open_backends(options);
    if (!backends) {
        fmt::print(stderr, "error: {}\n", backends.error());
        return 1;
    }
    if (auto written = write_backends_file(options); !written) {
        fmt::print(stderr, "error: {}\n", written.error());
        return 1;
    }
    store::BlobStore& blobs = *backends->blobs;
    store::MetaStore& meta = *backends->meta;
    std::unique_ptr<ledger::Ledger>& ledger = backends->ledger;
    files::SystemClock clock;
    files::UploadLimits limits;
    limits.max_upload_bytes = options.max_upload_bytes;
    limits.upload_expiry_s = options.upload_expiry.count();
    limits.anonymous_max_upload_bytes = options.anonymous_max_upload_bytes;
    limits.anonymous_file_lifetime_s = options.anonymous_file_lifetime.count();
    // Several instances on one database count anonymous creations together.
    if (backends->pg) {
        auto shared = files::PgRateLimiter::open(backends->pg, clock, files::kAnonymousCreationRateScope,
                                                 limits.anonymous_rate);
        if (!shared) {
            fmt::print(stderr, "error: cannot open the anonymous upload rate limit: {}\n", shared.error().message);
            return 1;
        }
        limits.shared_anonymous_rate = std::move(*shared);
    }
    files::UploadService uploads(blobs, meta, clock, crypto::random_bytes, limits);
    files::FileService files(blobs, meta, clock);
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
    AdminContext admin{*ledger, backends->sqlite_meta, backends->local_blobs_root,
                       crypto::sha256(as_bytes(admin_file.token))};
    auto written = write_admin_file(options.data_dir, admin_file);
    crypto::secure_wipe(admin_file.token.data(), admin_file.token.size());
    if (!written) {
        fmt::print(stderr, "error: {}\n", written.error());
        return 1;
    }
    server.set_admin(&admin);

    // The fake-salt secret must stay the same across restarts and instances, or a salt lookup
    // would reveal who exists.
    accounts::AccountStore& account_store = *backends->accounts;
    auto salt_secret = server_secret(*backends, options.data_dir, kSaltSecretFileName, accounts::kFakeSaltSecretBytes);
    if (!salt_secret) {
        fmt::print(stderr, "error: {}\n", salt_secret.error());
        return 1;
    }
    accounts::AccountServiceOptions account_options;
    account_options.fake_salt_secret = std::move(*salt_secret);
    account_options.default_quota_bytes = options.default_quota_bytes;
    // Several instances on one database count login failures together.
    if (backends->pg) {
        if (auto shared = accounts::share_login_throttles(backends->pg, clock, account_options); !shared) {
            fmt::print(stderr, "error: cannot open the login throttles: {}\n", shared.error().message);
            return 1;
        }
    }
    accounts::AccountService account_service(account_store, clock, std::move(account_options));
    AccountContext account_context{account_service, meta, blobs};
    server.set_accounts(&account_context);
    admin.accounts = &account_store;

    // Wallets and paid downloads.
    auto paywall_secret = server_secret(*backends, options.data_dir, kPaywallSecretFileName, payments::kPaywallSecretBytes);
    if (!paywall_secret) {
        fmt::print(stderr, "error: {}\n", paywall_secret.error());
        return 1;
    }
    payments::WalletService wallets(*ledger);
    admin.wallets = &wallets;
    payments::PaywallOptions paywall_options;
    paywall_options.split = options.split;
    paywall_options.grant_lifetime_s = options.grant_lifetime.count();
    paywall_options.location = options.public_url.empty() ? url : options.public_url;
    paywall_options.clock_s = [&clock] { return clock.now_s(); };
    // Embedded SQLite answers without a network wait: payments may run on the event loops.
    paywall_options.inline_payments = !backends->pg;
    accounts::AccountStore& owners = account_store;
    payments::Paywall paywall(
        wallets, *backends->payments,
        [&files, &owners, &clock](const std::string& file_id) -> std::optional<payments::FileFacts> {
            auto info = files.info(file_id);
            if (!info || files::link_refusal(*info, clock.now_s())) return std::nullopt;
            auto owner = owners.file_owner(file_id);
            if (!owner) return std::nullopt;
            return payments::FileFacts{info->price_msat, owner->value_or(0)};
        },
        std::move(paywall_options), *paywall_secret);
    crypto::secure_wipe(paywall_secret->data(), paywall_secret->size());
    WalletContext wallet_context{wallets, paywall};
    server.set_wallet(&wallet_context);

    // Trust and safety. The file service closes the
    // links it blocks (takedowns, suspended owners) and uploads of a blocked digest are refused.
    payments::PaymentStore& payment_records = *backends->payments;
    safety::SafetyOptions safety_options;
    safety_options.strikes_to_suspend = options.strikes_to_suspend;
    // Several instances on one database count reports together.
    if (backends->pg) {
        auto shared = files::PgRateLimiter::open(backends->pg, clock, safety::kReportRateScope, safety_options.report_rate);
        if (!shared) {
            fmt::print(stderr, "error: cannot open the report rate limit: {}\n", shared.error().message);
            return 1;
        }
        safety_options.shared_report_rate = std::move(*shared);
    }
    auto safety_service = safety::SafetyService::open(
        *backends->safety, clock, crypto::random_bytes,
        [&files, &owners, &payment_records](const std::string& file_id) -> std::optional<safety::FileFacts> {
            auto info = files.info(file_id);
            if (!info) return std::nullopt;
            safety::FileFacts facts;
            facts.sha256_hex = info->sha256_hex;
            facts.downloads = info->downloads;
            auto owner = owners.file_owner(file_id);
            if (owner && *owner) {
                facts.owner = **owner;
                if (auto account = owners.get_account(**owner); account && *account) {
                    facts.owner_name = (*account)->username;
                }
                if (auto earned = payment_records.earnings(**owner)) {
                    for (const auto& e : *earned) {
                        if (e.file_id != file_id) continue;
                        facts.earnings_msat = e.net_msat;
                        facts.held_msat = e.held_msat;
                    }
                }
            }
            return facts;
        },
        [&owners](const std::string& file_id) -> std::optional<safety::AccountId> {
            auto owner = owners.file_owner(file_id);
            if (!owner || !*owner) return std::nullopt;
            return **owner;
        },
        safety_options);
    if (!safety_service) {
        fmt::print(stderr, "error: cannot open trust and safety: {}\n", safety_service.error().message);
        return 1;
    }
    safety::SafetyService& safety = **safety_service;
    files.set_link_block([&safety](const std::string& file_id) { return safety.takedown_of(file_id).has_value(); });
    uploads.set_completion_guard(
        [&safety, &owners](const store::UploadRecord& upload,
                           const store::FileRecord& file) -> std::optional<files::UploadFailure> {
            auto owner = owners.file_owner(upload.file_id);
            const std::optional<accounts::AccountId> uploader = owner && *owner ? std::optional(**owner) : std::nullopt;
            const bool blocked = safety.is_blocked(file.sha256_hex);
            const bool suspended = uploader && safety.is_suspended(*uploader);
            if (!blocked && !suspended) return std::nullopt;
            // Nothing of a refused upload stays: the account's record of it goes too.
            if (uploader) (void)owners.delete_file(*uploader, upload.file_id);
            return files::UploadFailure{files::UploadError::refused_by_policy,
                                        blocked ? "this ciphertext was taken down and may not be uploaded again"
                                                : "this account is suspended: it cannot upload"};
        });
    admin.safety = &safety;
    // Earnings of a file under an open copyright report are held; holds a crash left behind
    // after their report was resolved are settled now.
    paywall.set_hold_policy([&safety](const std::string& file_id) { return safety.holds_earnings(file_id); });
    admin.paywall = &paywall;
    if (auto settled = paywall.settle_stale_holds(); !settled) {
        fmt::print(stderr, "warning: held earnings not settled yet: {}\n", settled.error().message);
    }

    // Several instances on one database: take in the takedowns, freezes and reports made
    // through the others (stopped and joined before the service and the paywall go). When a
    // file's last copyright report was resolved through another instance, that instance
    // settled the holds it could see; what this one held for the file before it learned of the
    // resolution (up to kSafetyRefreshInterval) is settled here, and again after a failure.
    std::jthread safety_refresher;
    if (backends->pg) {
        safety_refresher = std::jthread([&safety, &paywall](const std::stop_token& stop) {
            std::mutex mutex;
            std::condition_variable_any wake;
            bool failing = false;
            // Files whose hold ended and are not settled yet, and whether that was said.
            std::map<std::string, bool> unsettled;
            for (;;) {
                std::unique_lock lock(mutex);
                (void)wake.wait_for(lock, stop, safety::kSafetyRefreshInterval,
                                    [] { return false; });
                if (stop.stop_requested()) return;
                auto refreshed = safety.refresh();
                if (!refreshed && !failing) {
                    fmt::print(stderr, "warning: trust and safety state not refreshed: {}\n",
                               refreshed.error().message);
                }
                failing = !refreshed;
                if (refreshed) {
                    for (const auto& file : *refreshed) unsettled.emplace(file, false);
                }
                for (auto it = unsettled.begin(); it != unsettled.end();) {
                    auto settled = paywall.settle_holds(it->first);
                    if (!settled) {
                        if (!it->second) {
                            fmt::print(stderr,
                                       "warning: held earnings of file {} not settled yet (retried "
                                       "every {} ms): {}\n",
                                       it->first, safety::kSafetyRefreshInterval.count(),
                                       settled.error().message);
                        }
                        it->second = true;
                        ++it;
                        continue;
                    }
                    if (settled->released + settled->redirected > 0) {
                        fmt::print(stderr,
                                   "settled {} payment(s) held for file {} after its report was "
                                   "resolved\n",
                                   settled->released + settled->redirected, it->first);
                    }
                    it = unsettled.erase(it);
                }
            }
        });
    }

    // Bitcoin deposits and withdrawals (--node): the seed, the chain_* tables (meta.sqlite or the --db schema) and
    // the watcher thread. Frozen wallets cannot withdraw; a reorg shortfall freezes the wallet.
    std::unique_ptr<OnchainRuntime> onchain;
    OnchainContext no_onchain;
    if (!options.node_url.empty()) {
        auto opened = OnchainRuntime::open(options, *ledger, backends->pg);
        if (!opened) {
            fmt::print(stderr, "error: {}\n", opened.error());
            return 1;
        }
        onchain = std::move(*opened);
        onchain->set_safety_hooks(
            [&safety](onchain::AccountId a) { return safety.is_frozen(a); },
            [&safety, &owners](onchain::AccountId a, const std::string& why) {
                std::string user = std::to_string(a);
                if (auto account = owners.get_account(a); account && *account) user = (*account)->username;
                if (auto r = safety.freeze(a, user, why, "chain-watcher"); !r) {
                    fmt::print(stderr, "ALERT: could not freeze account {}: {}\n", a, r.error().message);
                }
            });
        onchain->start();
    }
    server.set_onchain(onchain ? &onchain->context() : &no_onchain);

    fmt::print(stderr, "listening on {}\n", url);
    std::fflush(stderr);
    server.run();
    // A clean stop takes the token away; after a crash admin.json stays, and `satload admin`
    // finds nobody answering at its URL and works offline.
    const fs::path admin_path = fs::path(options.data_dir) / kAdminFileName;
    ::unlink(admin_path.c_str());
    onchain.reset();  // stops the watcher before the ledger it books into
    ledger.reset();  // answers everything queued, stops the writer and the checkpointer
    fmt::print(stderr, "stopped\n");
    return 0;
}

}  // namespace satload::server
