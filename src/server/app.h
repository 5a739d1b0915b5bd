// The request router and handlers: HTTP in, service calls, HTTP out. No protocol state lives
// here beyond one request; uploads and files live in the services.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "accounts/account_service.h"
#include "core/problem.h"
#include "files/file_service.h"
#include "files/upload_service.h"
#include "server/blocking.h"
#include "server/exchange.h"
#include "server/metrics.h"
#include "server/options.h"

namespace satload::server {

struct AdminContext;
struct WalletContext;  // wallet_context.h: the ledger side of accounts (wallets, payments)
struct OnchainContext;  // onchain_api.h: bitcoin deposits and withdrawals
struct WebAssets;      // web.cpp: the built web app, held in memory

// Loads the web app (web.cpp) from options.web_root, or from "web" beside the executable when
// that is empty. Never fails: without the files, / and /f/<id> serve a notice page.
[[nodiscard]] std::shared_ptr<const WebAssets> load_web_assets(const ServerOptions& options);

// What the account API (account_api.cpp) reaches: the service, and the stores a file deletion
// removes the file's record and blob from.
struct AccountContext {
    accounts::AccountService& accounts;
    store::MetaStore& meta;
    store::BlobStore& blobs;
};

class App {
public:
    App(const ServerOptions& options, files::UploadService& uploads, files::FileService& files,
        Metrics& metrics);

    // Handles one request completely (reads its body if it uses it, sends the response).
    awaitable<void> handle(Exchange& ex);

    // Enables the admin API (admin.cpp); call before the server runs. Without it, /api/v1/admin/
    // is not found.
    // Also hands the context this app's blocking pool (AdminContext::blocking).
    void set_admin(AdminContext* admin);
    // Enables accounts (account_api.cpp, owned uploads); call before the server runs. Without
    // it, the account API is not found and uploads are anonymous.
    void set_accounts(AccountContext* accounts) { m_accounts = accounts; }
    // Enables wallets and paid downloads (wallet_api.cpp, paywall.cpp); needs accounts. Without
    // it, the wallet API is not found and every file downloads free.
    void set_wallet(WalletContext* wallet) { m_wallet = wallet; }
    // Enables bitcoin deposits and withdrawals (onchain_api.cpp); without it (no --node) their
    // routes answer 503 onchain-unavailable.
    void set_onchain(OnchainContext* onchain) { m_onchain = onchain; }

    // Answers a problem for a request that could not even be routed (bad framing).
    static StringResponse problem_response(unsigned version, bool keep_alive, Problem problem,
                                           std::string_view detail);

private:
    awaitable<void> tus_options(Exchange& ex);
    awaitable<void> tus_create(Exchange& ex);
    awaitable<void> tus_head(Exchange& ex, const std::string& upload_id);
    awaitable<void> tus_patch(Exchange& ex, const std::string& upload_id);
    awaitable<void> tus_delete(Exchange& ex, const std::string& upload_id);
    // Writes the request body into an upload; sends the error response itself on failure.
    // `abandon`, when given, runs on every failure before anything is answered, so a client
    // that reads the error can never see state the failure is about to undo.
    awaitable<std::optional<store::UploadRecord>> receive_body(
        Exchange& ex, const std::string& upload_id, std::uint64_t offset,
        std::optional<std::uint64_t> length_bytes, const std::function<void()>& abandon = {});
    awaitable<void> download(Exchange& ex, const std::string& file_id);
    awaitable<void> api_file(Exchange& ex, const std::string& file_id);
    // The web app (web.cpp): the upload page at /, the link page at /f/<id>, and the app's
    // other files (hashed assets, the service worker, the icon) at their paths.
    awaitable<void> link_page(Exchange& ex, const std::string& file_id);
    awaitable<void> web_page(Exchange& ex, std::string_view file_name);
    [[nodiscard]] bool is_web_file(std::string_view path) const;
    awaitable<void> web_file(Exchange& ex, std::string_view path);
    // The admin API (admin.cpp): everything under /api/v1/admin/, behind the admin token.
    awaitable<void> admin_route(Exchange& ex, std::span<const std::string_view> rest);
    awaitable<void> admin_audit(Exchange& ex, AdminContext& admin);
    awaitable<void> admin_backup(Exchange& ex, AdminContext& admin);
    awaitable<void> admin_credit(Exchange& ex, AdminContext& admin);
    awaitable<void> admin_quota(Exchange& ex, AdminContext& admin);

    // The account API (account_api.cpp): /api/v1/account/..., GET /api/v1/files, DELETE
    // /api/v1/files/<id>.
    awaitable<void> account_route(Exchange& ex, std::span<const std::string_view> rest);
    awaitable<void> owned_files_list(Exchange& ex);
    awaitable<void> owned_file_delete(Exchange& ex, const std::string& file_id);
    // The session of `Authorization: Bearer`, if any: nullopt without the header; an error
    // (already answered) when the token is refused. Used by tus_create for owned uploads.
    struct Caller {
        bool answered = false;  // a refusal was sent; the handler stops
        std::optional<accounts::Principal> principal;
    };
    awaitable<Caller> optional_caller(Exchange& ex);

    // Link controls (link_controls.cpp): PATCH /api/v1/files/<id> by the file's owner (price,
    // expiry, download limit, revocation).
    awaitable<void> owned_file_update(Exchange& ex, const std::string& file_id);
    // The 410 problem of a link that no longer serves its file (revoked, expired, download
    // limit reached), with a detail that says which and when.
    awaitable<void> send_link_refusal(Exchange& ex, files::LinkRefusal refusal,
                                      const store::FileRecord& file);
    // The JSON object of GET /api/v1/files/<id> (and of the PATCH answer): the file and its
    // link controls.
    static std::string file_state_json(const store::FileRecord& file);

    // Wallets (wallet_api.cpp): everything under /api/v1/wallet/.
    awaitable<void> wallet_route(Exchange& ex, std::span<const std::string_view> rest);
    // Bitcoin (onchain_api.cpp): /api/v1/wallet/deposit-address, deposits, withdrawals; and
    // the admin's POST /api/v1/admin/withdrawals/<id>/approve (true when it answered).
    awaitable<void> onchain_route(Exchange& ex, std::span<const std::string_view> rest);
    awaitable<bool> onchain_admin_route(Exchange& ex, std::span<const std::string_view> rest);
    awaitable<void> platform_withdrawals(Exchange& ex);
    awaitable<void> withdrawals_of(Exchange& ex, OnchainContext& onchain, accounts::AccountId who);
    // Paid downloads (paywall.cpp): POST /api/v1/pay and GET /api/v1/earnings.
    awaitable<void> pay(Exchange& ex);
    awaitable<void> earnings(Exchange& ex);
    // The paywall in front of GET/HEAD /d/<id> of a priced file: true when the request may
    // have the bytes (a valid L402 credential, the owner's session, or the session of a payer
    // with a live grant); otherwise it has answered 402 (with a fresh challenge) or 401.
    awaitable<bool> paywall_gate(Exchange& ex, const store::FileRecord& file);
    awaitable<void> send_account_failure(Exchange& ex, const accounts::AccountFailure& failure);

    // Trust and safety (reports.cpp): POST /api/v1/reports, the owner's notices under
    // /api/v1/account/notices, and the gates in front of downloads, uploads and payments that
    // answer 410 (taken down, owner suspended) or 403 (suspended uploader, frozen payer); a gate
    // returns true when it has answered.
    awaitable<void> report(Exchange& ex);
    awaitable<void> notices_route(Exchange& ex, std::span<const std::string_view> rest);
    awaitable<bool> safety_file_gate(Exchange& ex, const std::string& file_id);
    awaitable<bool> safety_upload_gate(Exchange& ex);
    awaitable<bool> safety_pay_gate(Exchange& ex);

    awaitable<void> send_problem(Exchange& ex, Problem problem, std::string_view detail);
    awaitable<void> send_upload_failure(Exchange& ex, const files::UploadFailure& failure);
    awaitable<void> send_text(Exchange& ex, http::status status, std::string body,
                              std::string_view content_type);
    [[nodiscard]] std::string base_url(const Exchange& ex) const;

    const ServerOptions& m_options;
    files::UploadService& m_uploads;
    files::FileService& m_files;
    Metrics& m_metrics;
    AdminContext* m_admin = nullptr;
    AccountContext* m_accounts = nullptr;
    WalletContext* m_wallet = nullptr;
    OnchainContext* m_onchain = nullptr;
    BlockingPool m_blocking;
    // Upload commits (a local blob read back whole for its digest, a concatenation's copy) and
    // upload records' durable writes: a pool of their own, so that many large uploads
    // completing at once never hold up the payments' pool.
    BlockingPool m_upload_blocking{kUploadBlockingThreads};
    // Initialized here rather than in the constructor: m_options is declared (so set) first.
    std::shared_ptr<const WebAssets> m_web = load_web_assets(m_options);
};

// RFC 9110 IMF-fixdate of a Unix time, for Upload-Expires and Last-Modified.
[[nodiscard]] std::string http_date(std::int64_t unix_s);

}  // namespace satload::server
