// `satload admin credit|audit|backup|restore|quota` and the trust-and-safety commands
// (reports, takedown, dismiss, claim, reinstate, freeze, unfreeze, log, transparency): through
// the running server's admin API when one answers at the URL in <data>/admin.json (so the
// ledger's writer is never bypassed), else on the stores directly. Restore is offline only.
#include <boost/json.hpp>
#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "accounts/account_service.h"
#include "accounts/pg_login_throttle.h"
#include "client/http.h"
#include "client/progress.h"
#include "client/units.h"
#include "client/url.h"
#include "client/wallet.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/money.h"
#include "crypto/primitives.h"
#include "files/pg_rate_limiter.h"
#include "ledger/audit.h"
#include "ledger/checkpoint.h"
#include "ledger/pg_ledger_store.h"
#include "ledger/sqlite_ledger_store.h"
#include "onchain/pg_chain_store.h"
#include "onchain/pg_seed_store.h"
#include "payments/wallet_service.h"
#include "safety/safety_service.h"
#include "safety/transparency.h"
#include "server/admin.h"
#include "server/backends.h"
#include "store/pg_db.h"

namespace satload::cli {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr std::string_view kDefaultDataDir = "./var";
// How long we try to reach the server named in admin.json before working offline: it runs on
// this machine, so a refusal or silence this long means it is gone (a crash leaves admin.json).
constexpr std::chrono::milliseconds kAdminConnectTimeoutMs{2'000};
// An audit or backup through the API may scan or copy a lot; allow it time.
constexpr std::chrono::milliseconds kAdminIoTimeoutMs{3'600'000};

// A credit request that got no answer is sent again (with the same id, so it applies once).
constexpr unsigned kCreditAttempts = 3;
constexpr std::chrono::milliseconds kCreditRetryDelayMs{500};

struct AdminArgs {
    std::string data_dir = std::string(kDefaultDataDir);
    std::string target;  // backup: the new backup directory; restore: the backup to restore
    // credit:
    std::string user;
    std::string amount;
    std::string reason;
    // quota:
    std::string quota;  // a size, or "default"
    // withdraw: the Idempotency-Key (empty: a new one)
    std::string request_key;
};

// Who runs this command, for the admin log: the local login name (the password database, else
// $USER), nullopt when neither is a plain login name (the server then records "operator").
std::optional<std::string> local_actor() {
    std::string name;
    if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr && pw->pw_name != nullptr) name = pw->pw_name;
    if (!safety::is_admin_actor_name(name)) {
        const char* user = std::getenv("USER");
        name = user != nullptr ? user : "";
    }
    if (!safety::is_admin_actor_name(name)) return std::nullopt;
    return name;
}

// The running server's admin API, when admin.json names one that answers.
class AdminApi {
public:
    // nullopt: no server (work offline). An error: admin.json exists but is unusable.
    static Result<std::unique_ptr<AdminApi>, std::string> find(const fs::path& data_dir) {
        auto file = server::read_admin_file(data_dir);
        if (!file) return fail(file.error());
        if (!*file) return std::unique_ptr<AdminApi>{};
        auto url = client::parse_server_url((*file)->url);
        if (!url) return fail("admin.json names a bad URL: " + url.error().message);
        auto api = std::unique_ptr<AdminApi>(new AdminApi(*url, std::move((*file)->token)));
        client::HttpRequest probe;
        probe.target = url->target("/healthz");
        auto answer = api->m_http.send(url->endpoint, probe);
        if (!answer || answer->status != 200) return std::unique_ptr<AdminApi>{};  // gone: offline
        return api;
    }
    ~AdminApi() { crypto::secure_wipe(m_auth.data(), m_auth.size()); }
    AdminApi(const AdminApi&) = delete;
    AdminApi& operator=(const AdminApi&) = delete;

    // `attempts` > 1 only for idempotent requests: a transport failure (no answer) is retried
    // on a fresh connection.
    Result<client::HttpResponse, std::string> call(boost::beast::http::verb method,
                                                   std::string_view path,
                                                   const std::string& body = {},
                                                   unsigned attempts = 1,
                                                   const std::string& request_key = {}) {
        client::HttpRequest req;
        req.method = method;
        req.target = m_url.target(path);
        req.headers.emplace_back("Authorization", m_auth);
        if (!request_key.empty()) req.headers.emplace_back("Idempotency-Key", request_key);
        if (const auto actor = local_actor()) req.headers.emplace_back(std::string(server::kAdminActorHeader), *actor);
        if (!body.empty()) {
            req.headers.emplace_back("Content-Type", "application/json");
            req.body = as_bytes(body);
        }
        auto res = m_http.send(m_url.endpoint, req);
        for (unsigned attempt = 1; !res && attempt < attempts; ++attempt) {
            m_http.close();
            std::this_thread::sleep_for(kCreditRetryDelayMs * attempt);
            res = m_http.send(m_url.endpoint, req);
        }
        if (!res) return fail("the server at " + m_url.text() + " failed: " + res.error().message);
        if (!res->ok()) return fail("the server refused: " + client::describe_response(*res));
        return std::move(*res);
    }
    [[nodiscard]] std::string url() const { return m_url.text(); }

private:
    AdminApi(client::ServerUrl url, std::string token)
        : m_url(std::move(url)),
          m_http(client::HttpOptions{kAdminConnectTimeoutMs, kAdminIoTimeoutMs, {}}),
          m_auth("Bearer " + token) {
        crypto::secure_wipe(token.data(), token.size());
    }
    client::ServerUrl m_url;
    client::HttpClient m_http;
    std::string m_auth;
};

// Prints the report's lines and its verdict on stdout; 0 when every check passed.
int print_audit(const ledger::AuditReport& report, std::string_view where) {
    std::fputs(report.text().c_str(), stdout);
    if (report.passed()) {
        std::printf("audit passed (%s): %zu checks, %lld journal entries, %zu accounts\n",
                    std::string(where).c_str(), report.checks.size(),
                    static_cast<long long>(report.entries), report.accounts);
        return 0;
    }
    std::string failed;
    for (const auto& c : report.checks) {
        if (!c.passed) failed += (failed.empty() ? "" : ", ") + c.name;
    }
    std::printf("audit FAILED (%s): %s\n", std::string(where).c_str(), failed.c_str());
    return kExitFailure;
}

std::optional<ledger::AuditReport> report_from_json(const std::string& text) {
    boost::system::error_code ec;
    const json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto* checks = v.as_object().if_contains("checks");
    if (!checks || !checks->is_array()) return std::nullopt;
    ledger::AuditReport report;
    for (const auto& c : checks->as_array()) {
        if (!c.is_object()) return std::nullopt;
        const auto* name = c.as_object().if_contains("name");
        const auto* passed = c.as_object().if_contains("passed");
        const auto* detail = c.as_object().if_contains("detail");
        if (!name || !name->is_string() || !passed || !passed->is_bool() || !detail || !detail->is_string()) {
            return std::nullopt;
        }
        report.checks.push_back({std::string(name->as_string()), passed->as_bool(), std::string(detail->as_string())});
    }
    if (const auto* e = v.as_object().if_contains("entries"); e && e->is_int64()) report.entries = e->as_int64();
    if (const auto* a = v.as_object().if_contains("accounts"); a && a->is_number()) {
        report.accounts = a->to_number<std::size_t>();
    }
    // The server's own verdict must agree with its checks; a mismatch is a broken answer.
    const auto* passed = v.as_object().if_contains("passed");
    if (!passed || !passed->is_bool() || passed->as_bool() != report.passed()) return std::nullopt;
    return report;
}

// The read-only audit of the ledger file and its checkpoint, with no server involved.
Result<ledger::AuditReport, std::string> offline_audit(const fs::path& data_dir) {
    auto backends = server::read_backends_file(data_dir);
    if (!backends) return fail(backends.error());
    if (!backends->db_url.empty()) {
        auto url = store::parse_pg_url(backends->db_url);
        if (!url) return fail("the recorded database URL: " + url.error().message);
        auto store = ledger::PgLedgerStore::open(url->conninfo, url->schema);
        if (!store) return fail("cannot open the ledger in PostgreSQL: " + store.error().message);
        return ledger::audit_ledger(**store, data_dir / fmt::format(server::kPgLedgerCheckpointName, url->schema));
    }
    const fs::path file = data_dir / server::kLedgerFileName;
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) return fail("no ledger at " + file.string());
    auto store = ledger::SqliteLedgerStore::open(file);
    if (!store) return fail("cannot open the ledger " + file.string() + ": " + store.error().message);
    return ledger::audit_ledger(**store, ledger::checkpoint_path_for(file));
}

int run_audit(const AdminArgs& args) {
    auto api = AdminApi::find(args.data_dir);
    if (!api) {
        print_error(api.error());
        return kExitFailure;
    }
    if (*api) {
        auto res = (*api)->call(boost::beast::http::verb::get, "/api/v1/admin/audit");
        if (!res) {
            print_error(res.error());
            return kExitFailure;
        }
        auto report = report_from_json(res->body);
        if (!report) {
            print_error("the server's audit answer is malformed");
            return kExitFailure;
        }
        return print_audit(*report, "through the server at " + (*api)->url());
    }
    auto report = offline_audit(args.data_dir);
    if (!report) {
        print_error(report.error());
        return kExitFailure;
    }
    return print_audit(*report, "offline");
}

// `satload admin migrate`: opening the stores migrates them (each component's steps, once,
// under PostgreSQL's advisory lock); the versions before and after are printed for
// PostgreSQL, then the ledger is audited. With SQLite a running server holds the ledger: stop
// it first (it migrates on start anyway). With --db, running servers may stay up.
int run_migrate(const AdminArgs& args) {
    auto recorded = server::read_backends_file(args.data_dir);
    if (!recorded) {
        print_error(recorded.error());
        return kExitFailure;
    }
    constexpr std::array<std::string_view, 10> kComponents{"meta",        "accounts",       "payments",
                                                          "safety",      "chain",          "server",
                                                          "wallet_seed", "login_throttle", "rate_limits",
                                                          "key_hash"};
    std::shared_ptr<store::PgDb> pg;
    std::vector<int> before;
    if (!recorded->db_url.empty()) {
        auto db = store::PgDb::open(recorded->db_url, 1);
        if (!db) {
            print_error("cannot open the database: " + db.error().message);
            return kExitFailure;
        }
        pg = *db;
        for (const auto component : kComponents) {
            auto v = pg->version(component);
            if (!v) {
                print_error("cannot read the schema version: " + v.error().message);
                return kExitFailure;
            }
            before.push_back(*v);
        }
    }
    auto backends = server::open_offline_backends(args.data_dir);
    if (!backends) {
        print_error(backends.error());
        return kExitFailure;
    }
    if (pg) {
        // Opening the stores migrated all but the chain's and the wallet seed's (a server opens
        // them only with --node), the login throttles' and the rate limits' (only a server
        // counts logins, uploads and reports).
        if (auto chain = onchain::PgChainStore::open(pg); !chain) {
            print_error("cannot migrate the chain tables: " + chain.error().message);
            return kExitFailure;
        }
        if (auto seed = onchain::migrate_shared_seed(*pg); !seed) {
            print_error("cannot migrate the wallet seed table: " + seed.error().message);
            return kExitFailure;
        }
        const SystemClock clock;
        if (auto throttle = accounts::PgLoginThrottle::open(pg, clock, "username", accounts::ThrottlePolicy{}); !throttle) {
            print_error("cannot migrate the login throttle table: " + throttle.error().message);
            return kExitFailure;
        }
        if (auto rates = files::migrate_rate_limits(*pg); !rates) {
            print_error("cannot migrate the rate limit table: " + rates.error().message);
            return kExitFailure;
        }
        for (std::size_t i = 0; i < kComponents.size(); ++i) {
            auto v = pg->version(kComponents[i]);
            std::printf("%s: schema version %d -> %d\n", std::string(kComponents[i]).c_str(), before[i], v ? *v : -1);
        }
    } else {
        std::printf("SQLite stores in %s: at this program's schema\n", args.data_dir.c_str());
    }
    return print_audit(backends->ledger->audit(), "after migrating");
}

void print_backup(const std::string& manifest_text, const fs::path& dir) {
    boost::system::error_code ec;
    const json::value v = json::parse(manifest_text, ec);
    std::uint64_t blobs = 0;
    std::uint64_t bytes = 0;
    if (!ec && v.is_object()) {
        if (const auto* b = v.as_object().if_contains("blobs"); b && b->is_object()) {
            if (const auto* c = b->as_object().if_contains("count"); c && c->is_number()) blobs = c->to_number<std::uint64_t>();
            if (const auto* c = b->as_object().if_contains("bytes"); c && c->is_number()) bytes = c->to_number<std::uint64_t>();
        }
    }
    std::printf("backup complete: ledger, metadata, %llu blob(s) (%llu bytes), manifest in\n%s\n",
                static_cast<unsigned long long>(blobs), static_cast<unsigned long long>(bytes), dir.c_str());
}

int run_backup(const AdminArgs& args) {
    std::error_code ec;
    const fs::path dir = fs::absolute(args.target, ec).lexically_normal();
    if (ec) {
        print_error("bad backup directory: " + ec.message());
        return kExitUsage;
    }
    auto api = AdminApi::find(args.data_dir);
    if (!api) {
        print_error(api.error());
        return kExitFailure;
    }
    if (*api) {
        json::object body;
        body["dir"] = dir.string();
        auto res = (*api)->call(boost::beast::http::verb::post, "/api/v1/admin/backup", json::serialize(body));
        if (!res) {
            print_error(res.error());
            return kExitFailure;
        }
        print_backup(res->body, dir);
        return 0;
    }
    auto backends = server::open_offline_backends(args.data_dir);
    if (!backends) {
        print_error(backends.error());
        return kExitFailure;
    }
    if (!backends->embedded()) {
        print_error("this data directory's server keeps its data in PostgreSQL or an object store: back them up "
                    "with their own tools (pg_dump or base backups, bucket replication)");
        return kExitFailure;
    }
    auto manifest = server::write_backup(dir, *backends->ledger, *backends->sqlite_meta, backends->local_blobs_root);
    if (!manifest) {
        print_error(manifest.error().message);
        return kExitFailure;
    }
    print_backup(*manifest, dir);
    return 0;
}

int run_restore(const AdminArgs& args) {
    auto api = AdminApi::find(args.data_dir);
    if (!api) {
        print_error(api.error());
        return kExitFailure;
    }
    if (*api) {
        print_error("a server is running on " + args.data_dir + " (" + (*api)->url() +
                    "): restore works offline only, into an empty data directory");
        return kExitFailure;
    }
    if (auto r = server::restore_backup(args.target, args.data_dir); !r) {
        print_error(r.error());
        return kExitFailure;
    }
    std::printf("restored %s into %s\n", args.target.c_str(), args.data_dir.c_str());
    // The restored ledger must stand on its own: audit it before anyone serves it.
    auto report = offline_audit(args.data_dir);
    if (!report) {
        print_error(report.error());
        return kExitFailure;
    }
    return print_audit(*report, "offline, restored data");
}

// A new idempotency id for one credit: time-ordered, 80 random bits.
ledger::Id128 new_credit_id() {
    std::array<std::uint8_t, 16> random{};
    crypto::random_bytes(random);
    std::uint64_t high = 0;
    std::uint64_t low = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        high = (high << 8) | random[i];
        low = (low << 8) | random[8 + i];
    }
    const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    return ledger::time_ordered_id(now_ns, high, low);
}

void print_credit(std::string_view user, std::int64_t amount_msat, std::int64_t balance_msat, bool applied,
                  std::string_view transfer_id, std::string_view where) {
    if (applied) {
        std::printf("credited %s to %s (%s): balance %s, transfer %s\n", client::amount_text(amount_msat).c_str(),
                    std::string(user).c_str(), std::string(where).c_str(), client::amount_text(balance_msat).c_str(),
                    std::string(transfer_id).c_str());
    } else {
        std::printf("already credited (transfer %s, applied once) to %s (%s): balance %s\n",
                    std::string(transfer_id).c_str(), std::string(user).c_str(), std::string(where).c_str(),
                    client::amount_text(balance_msat).c_str());
    }
}

// Offline: the accounts in meta.sqlite name the user, the wallet service books the credit.
int offline_credit(const AdminArgs& args, Msat amount, ledger::Id128 id) {
    const auto username = accounts::normalize_username(args.user);
    if (!username) {
        print_error("no such user: " + args.user);
        return kExitFailure;
    }
    auto backends = server::open_offline_backends(args.data_dir);
    if (!backends) {
        print_error(backends.error());
        return kExitFailure;
    }
    auto account = backends->accounts->find_account(*username);
    if (!account) {
        print_error("cannot read the account database: " + account.error().message);
        return kExitFailure;
    }
    if (!*account) {
        print_error("no such user: " + args.user);
        return kExitFailure;
    }
    payments::WalletService wallets(*backends->ledger);
    auto receipt = wallets.credit((*account)->account_id, amount, args.reason, id);
    if (!receipt) {
        print_error("the credit failed: " + receipt.error().message);
        return kExitFailure;
    }
    print_credit((*account)->username, amount.value, receipt->balance.balance_msat, receipt->applied_now,
                 ledger::id_hex(receipt->transfer_id), "offline");
    return 0;
}

int run_credit(const AdminArgs& args) {
    const auto amount = parse_amount(args.amount);
    if (!amount) {
        print_error("AMOUNT: " + std::string(money_error_message(amount.error())) +
                    " (like 1000msat, 2.5sat or 0.001btc)");
        return kExitUsage;
    }
    if (amount->value <= 0) {
        print_error("AMOUNT: the amount must be above zero");
        return kExitUsage;
    }
    if (args.reason.size() > ledger::kMemoBytesMax) {
        print_error("--reason is too long (at most " + std::to_string(ledger::kMemoBytesMax) + " bytes)");
        return kExitUsage;
    }
    // Made once, so every retry of this command's request is the same transfer.
    const ledger::Id128 id = new_credit_id();
    auto api = AdminApi::find(args.data_dir);
    if (!api) {
        print_error(api.error());
        return kExitFailure;
    }
    if (!*api) return offline_credit(args, *amount, id);
    json::object body;
    body["user"] = args.user;
    body["amount_msat"] = amount->value;
    body["reason"] = args.reason;
    body["id"] = ledger::id_hex(id);
    auto res = (*api)->call(boost::beast::http::verb::post, "/api/v1/admin/credit", json::serialize(body),
                            kCreditAttempts);
    if (!res) {
        print_error(res.error());
        return kExitFailure;
    }
    boost::system::error_code ec;
    const json::value v = json::parse(res->body, ec);
    const json::object* o = (!ec && v.is_object()) ? &v.as_object() : nullptr;
    const json::value* user = o ? o->if_contains("user") : nullptr;
    const json::value* transfer = o ? o->if_contains("transfer_id") : nullptr;
    const json::value* applied = o ? o->if_contains("applied") : nullptr;
    const json::value* balance = o ? o->if_contains("balance_msat") : nullptr;
    if (!user || !user->is_string() || !transfer || !transfer->is_string() || !applied || !applied->is_bool() ||
        !balance || !balance->is_int64() || transfer->as_string() != ledger::id_hex(id)) {
        print_error("the server's credit answer is malformed");
        return kExitFailure;
    }
    print_credit(client::printable(std::string_view(user->as_string()), 64), amount->value, balance->as_int64(),
                 applied->as_bool(), ledger::id_hex(id), "through the server at " + (*api)->url());
    return 0;
}

void print_quota(std::string_view user, std::optional<std::uint64_t> bytes, std::string_view where) {
    if (bytes) {
        std::printf("quota of %s: %s (%llu bytes) (%s)\n", std::string(user).c_str(),
                    client::format_bytes(*bytes).c_str(), static_cast<unsigned long long>(*bytes),
                    std::string(where).c_str());
    } else {
        std::printf("quota of %s: the server's default (%s)\n", std::string(user).c_str(), std::string(where).c_str());
    }
}

int run_quota(const AdminArgs& args) {
    std::optional<std::uint64_t> bytes;
    if (args.quota != "default") {
        bytes = client::parse_size_bytes(args.quota);
        if (!bytes || *bytes > static_cast<std::uint64_t>(INT64_MAX)) {
            print_error("SIZE must be a size like 500GiB or 10MiB, or \"default\"");
            return kExitUsage;
        }
    }
    auto api = AdminApi::find(args.data_dir);
    if (!api) {
        print_error(api.error());
        return kExitFailure;
    }
    if (*api) {
        json::object body;
        body["user"] = args.user;
        if (bytes) {
            body["quota_bytes"] = *bytes;
        } else {
            body["quota_bytes"] = nullptr;
        }
        auto res = (*api)->call(boost::beast::http::verb::post, "/api/v1/admin/quota", json::serialize(body));
        if (!res) {
            print_error(res.error());
            return kExitFailure;
        }
        boost::system::error_code ec;
        const json::value v = json::parse(res->body, ec);
        const json::value* user = (!ec && v.is_object()) ? v.as_object().if_contains("user") : nullptr;
        if (!user || !user->is_string()) {
            print_error("the server's quota answer is malformed");
            return kExitFailure;
        }
        print_quota(client::printable(std::string_view(user->as_string()), 64), bytes,
                    "through the server at " + (*api)->url());
        return 0;
    }
    auto backends = server::open_offline_backends(args.data_dir);
    if (!backends) {
        print_error(backends.error());
        return kExitFailure;
    }
    accounts::AccountStore* store = backends->accounts.get();
    const auto username = accounts::normalize_username(args.user);
    auto account = username ? store->find_account(*username)
                            : accounts::StoreResult<std::optional<accounts::AccountRecord>>(std::nullopt);
    if (!account || !*account) {
        print_error(account ? "no such user: " + args.user : "cannot read the account database: " + account.error().message);
        return kExitFailure;
    }
    if (auto r = store->set_quota_override((*account)->account_id, bytes); !r) {
        print_error("cannot set the quota: " + r.error().message);
        return kExitFailure;
    }
    print_quota((*account)->username, bytes, "offline");
    return 0;
}


// Trust and safety: through the running server only (the service keeps its state in memory
// and must see every action). The answer's JSON, or an error line already printed.
std::optional<json::value> safety_call(const std::string& data_dir, boost::beast::http::verb method,
                                       const std::string& path, const std::string& body = {}) {
    auto api = AdminApi::find(data_dir);
    if (!api) {
        print_error(api.error());
        return std::nullopt;
    }
    if (!*api) {
        print_error("trust and safety commands need the running server (no server answers for " + data_dir + ")");
        return std::nullopt;
    }
    auto res = (*api)->call(method, path, body);
    if (!res) {
        print_error(res.error());
        return std::nullopt;
    }
    boost::system::error_code ec;
    json::value v = json::parse(res->body, ec);
    if (ec || !v.is_object()) {
        print_error("the server's answer is malformed");
        return std::nullopt;
    }
    return v;
}

std::string text_of(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) return "-";
    if (v->is_string()) return client::printable(std::string_view(v->as_string()), 200);
    if (v->is_null()) return "-";
    return json::serialize(*v);
}

struct SafetyArgs {
    std::string data_dir = std::string(kDefaultDataDir);
    std::string target;  // a report id, a file id or a username
    std::string reason;
    bool json_output = false;
    std::string claimant;  // claim --to, takedown --redirect-to
    bool include_held = false;
    std::string since;  // transparency
};

// What the server did with a file's held earnings ("held" of a takedown, dismiss or claim).
void print_held(const json::object& o) {
    const json::value* held = o.if_contains("held");
    if (held == nullptr || !held->is_object()) return;
    const auto& h = held->as_object();
    if (text_of(h, "released") != "0") {
        std::printf("held earnings released: %s payments, %s msat\n", text_of(h, "released").c_str(),
                    text_of(h, "released_msat").c_str());
    }
    if (text_of(h, "redirected") != "0") {
        std::printf("held earnings redirected: %s payments, %s msat\n", text_of(h, "redirected").c_str(),
                    text_of(h, "redirected_msat").c_str());
    }
    if (text_of(h, "still_held") == "true") std::printf("earnings of the file are still held\n");
}

// `satload admin transparency --since DATE [--json]`.
int run_transparency(const SafetyArgs& args) {
    if (!safety::parse_since(args.since)) {
        print_error("--since must be a date: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)");
        return kExitUsage;
    }
    auto v = safety_call(args.data_dir, boost::beast::http::verb::get, "/api/v1/admin/transparency?since=" + args.since);
    if (!v) return kExitFailure;
    const auto& o = v->as_object();
    if (args.json_output) {
        std::printf("%s\n", json::serialize(o).c_str());
        return 0;
    }
    std::printf("since %s (%s)\n", args.since.c_str(), text_of(o, "since").c_str());
    std::printf("%-15s %9s %9s %9s %9s %9s\n", "", "copyright", "malware", "abuse", "other", "total");
    for (const char* row : {"reports", "takedowns", "reinstatements", "dismissals", "claims"}) {
        const json::value* counts = o.if_contains(row);
        if (counts == nullptr || !counts->is_object()) continue;
        const auto& c = counts->as_object();
        std::printf("%-15s %9s %9s %9s %9s %9s\n", row, text_of(c, "copyright").c_str(), text_of(c, "malware").c_str(),
                    text_of(c, "abuse").c_str(), text_of(c, "other").c_str(), text_of(c, "total").c_str());
    }
    for (const char* row : {"suspensions", "unsuspensions", "freezes", "unfreezes"}) {
        std::printf("%-15s %9s\n", row, text_of(o, row).c_str());
    }
    return 0;
}

// A listing from the admin API: the array under `key` of GET `path`, printed as JSON with
// --json, else one line per object by `print_row`. The exit status.
template <class PrintRow>
int run_listing(const SafetyArgs& args, const std::string& path, std::string_view key, PrintRow print_row) {
    auto v = safety_call(args.data_dir, boost::beast::http::verb::get, path);
    if (!v) return kExitFailure;
    const json::value* list = v->as_object().if_contains(key);
    if (list == nullptr || !list->is_array()) {
        print_error("the server's answer is malformed");
        return kExitFailure;
    }
    if (args.json_output) {
        std::printf("%s\n", json::serialize(*list).c_str());
        return 0;
    }
    for (const auto& item : list->as_array()) {
        if (item.is_object()) print_row(item.as_object());
    }
    return 0;
}

int run_reports(const SafetyArgs& args) {
    return run_listing(args, "/api/v1/admin/reports", "reports", [](const json::object& o) {
        std::printf("%s  %s  file %s  owner %s  downloads %s  earnings %smsat  held %smsat  %s\n",
                    text_of(o, "id").c_str(), text_of(o, "category").c_str(), text_of(o, "file_id").c_str(),
                    text_of(o, "owner").c_str(), text_of(o, "downloads").c_str(), text_of(o, "earnings_msat").c_str(),
                    text_of(o, "held_msat").c_str(), text_of(o, "reason").c_str());
    });
}

int run_log(const SafetyArgs& args) {
    return run_listing(args, "/api/v1/admin/log", "entries", [](const json::object& o) {
        std::printf("%s  %s  %s  %s  %s  %s\n", text_of(o, "seq").c_str(), text_of(o, "at").c_str(),
                    text_of(o, "who").c_str(), text_of(o, "action").c_str(), text_of(o, "target").c_str(),
                    text_of(o, "why").c_str());
    });
}

// takedown, dismiss, reinstate, freeze, unfreeze: one POST each; prints the answer's summary.
int run_safety_action(const SafetyArgs& args, std::string_view action) {
    json::object body;
    body["reason"] = args.reason;
    std::string path;
    const bool by_report = action == "takedown" || action == "dismiss" || action == "claim";
    if (!args.claimant.empty()) body["claimant"] = args.claimant;
    if (args.include_held) {
        if (args.claimant.empty()) {
            print_error("--include-held needs the claimant (--to, or --redirect-to with takedown)");
            return kExitUsage;
        }
        body["include_held"] = true;
    }
    if (by_report) {
        if (args.target.empty() || args.target.find_first_not_of("0123456789") != std::string::npos) {
            print_error("REPORT_ID must be a report number (see `satload admin reports`)");
            return kExitUsage;
        }
        path = "/api/v1/admin/reports/" + args.target + "/" + std::string(action);
    } else if (action == "reinstate") {
        if (!is_file_id(args.target)) {
            print_error("FILE_ID is not a file id");
            return kExitUsage;
        }
        path = "/api/v1/admin/files/" + args.target + "/restore";
    } else {
        body["user"] = args.target;
        path = "/api/v1/admin/" + std::string(action);
    }
    auto v = safety_call(args.data_dir, boost::beast::http::verb::post, path, json::serialize(body));
    if (!v) return kExitFailure;
    const auto& o = v->as_object();
    if (action == "takedown") {
        std::printf("report %s: file %s taken down (sha256 %s blocked); owner strikes %s%s\n", args.target.c_str(),
                    text_of(o, "file_id").c_str(), text_of(o, "sha256").c_str(), text_of(o, "strikes").c_str(),
                    o.if_contains("suspended") && o.at("suspended").is_bool() && o.at("suspended").as_bool()
                        ? ", account suspended"
                        : "");
        if (!args.claimant.empty()) {
            std::printf("future earnings of file %s go to %s\n", text_of(o, "file_id").c_str(),
                        text_of(o, "claimant").c_str());
        }
        print_held(o);
    } else if (action == "claim") {
        std::printf("report %s upheld: earnings of file %s go to %s\n", args.target.c_str(),
                    text_of(o, "file_id").c_str(), text_of(o, "claimant").c_str());
        print_held(o);
    } else if (action == "dismiss") {
        std::printf("report %s dismissed\n", args.target.c_str());
        print_held(o);
    } else if (action == "reinstate") {
        std::printf("file %s reinstated\n", args.target.c_str());
    } else {
        std::printf("wallet of %s %s\n", text_of(o, "user").c_str(), action == "freeze" ? "frozen" : "unfrozen");
    }
    return 0;
}
// A withdrawal through the running server's admin API (only it holds the keys): POST `path`
// with `body`; prints the withdrawal, then its txid last (or its id while it awaits approval).
// `request_key`: the withdrawal's Idempotency-Key (empty for an approval, which is idempotent by
// itself: a second one finds the withdrawal sent); a transport failure is then retried.
int send_withdrawal(const AdminArgs& args, const std::string& path, const std::string& body,
                    const std::string& request_key = {}) {
    auto api = AdminApi::find(args.data_dir);
    if (!api) {
        print_error(api.error());
        return kExitFailure;
    }
    if (!*api) {
        print_error("no server is running on " + args.data_dir + ": bitcoin withdrawals need it");
        return kExitFailure;
    }
    auto res = (*api)->call(boost::beast::http::verb::post, path, body,
                            request_key.empty() ? 1 : client::kWithdrawAttempts, request_key);
    if (!res) {
        print_error(request_key.empty()
                        ? res.error()
                        : res.error() + " (run the same command with --idempotency-key " +
                              request_key + " to see what became of it without sending twice)");
        return kExitFailure;
    }
    auto w = client::parse_withdrawal(res->body);
    if (!w) {
        print_error(w.error().message);
        return kExitFailure;
    }
    // Only a withdraw request has a key (a rejection's answer is voided: what was asked for).
    if (!request_key.empty()) {
        if (const auto not_going = client::withdrawal_not_going_out(*w, request_key)) {
            print_error(*not_going);
            return kExitFailure;
        }
    }
    std::printf("withdrawal %s %s\n%s\n", w->id.c_str(), w->status.c_str(),
                w->txid.empty() ? w->id.c_str() : w->txid.c_str());
    return 0;
}

// `satload admin approve ID`: sends a bitcoin withdrawal held above the hot-wallet limits.
int run_approve(const AdminArgs& args) {
    return send_withdrawal(args, "/api/v1/admin/withdrawals/" + args.target + "/approve", "");
}

// `satload admin reject ID`: refuses a withdrawal held above the hot-wallet limits (its money
// goes back, nothing is sent).
int run_reject(const AdminArgs& args) {
    return send_withdrawal(args, "/api/v1/admin/withdrawals/" + args.target + "/reject", "");
}

// `satload admin withdraw ADDRESS AMOUNT`: the operator withdraws platform revenue on chain,
// under the same limits as users.
int run_withdraw(const AdminArgs& args) {
    const auto amount = parse_amount(args.amount);
    if (!amount || amount->value <= 0) {
        print_error("AMOUNT: " +
                    (amount ? std::string("the amount must be above zero") : std::string(money_error_message(amount.error()))) +
                    " (like 50000sat or 0.001btc)");
        return kExitUsage;
    }
    json::object body;
    body["address"] = args.target;
    body["amount_msat"] = amount->value;
    // Made once, so this run's retries (and a later run given it) make at most one withdrawal.
    const std::string key = args.request_key.empty() ? client::new_request_key() : args.request_key;
    return send_withdrawal(args, "/api/v1/admin/withdrawals", json::serialize(body), key);
}
}  // namespace

void add_admin_command(CLI::App& app, int& exit_code) {
    CLI::App* admin = app.add_subcommand(
        "admin",
        "Operator commands on a server's data directory: through the running server's admin "
        "API when it runs, else directly (credit, quota, audit, backup; restore and migrate "
        "always work directly; the others need the running server)");
    admin->require_subcommand(1);

    auto credit_args = std::make_shared<AdminArgs>();
    CLI::App* credit = admin->add_subcommand(
        "credit", "Credit AMOUNT to USER's wallet: an operator adjustment in the ledger (applied once, "
                  "also when retried)");
    credit->add_option("USER", credit_args->user, "The username")->required();
    credit->add_option("AMOUNT", credit_args->amount, "The amount: 1000msat, 2.5sat or 0.001btc")->required();
    credit->add_option("--reason", credit_args->reason, "Why (kept in the ledger; shown in the user's history)");
    credit->add_option("--data", credit_args->data_dir, "The server's data directory")->capture_default_str();
    credit->callback([credit_args, &exit_code] { exit_code = run_credit(*credit_args); });

    auto quota_args = std::make_shared<AdminArgs>();
    CLI::App* quota = admin->add_subcommand(
        "quota", "Set USER's storage quota to SIZE (like 500GiB), or back to the server's default with \"default\"");
    quota->add_option("USER", quota_args->user, "The username")->required();
    quota->add_option("SIZE", quota_args->quota, "A size like 500GiB, or default")->required();
    quota->add_option("--data", quota_args->data_dir, "The server's data directory")->capture_default_str();
    quota->callback([quota_args, &exit_code] { exit_code = run_quota(*quota_args); });

    auto audit_args = std::make_shared<AdminArgs>();
    CLI::App* audit = admin->add_subcommand(
        "audit", "Check the ledger: hash chain against its checkpoint, balances, invariants. "
                 "Exit 0 only when every check passes");
    audit->add_option("--data", audit_args->data_dir, "The server's data directory")->capture_default_str();
    audit->callback([audit_args, &exit_code] { exit_code = run_audit(*audit_args); });

    auto migrate_args = std::make_shared<AdminArgs>();
    CLI::App* migrate = admin->add_subcommand(
        "migrate", "Bring every store of the data directory (SQLite, or its --db PostgreSQL schema) "
                   "to this program's schema, then audit the ledger. Exit 0 only when the audit passes");
    migrate->add_option("--data", migrate_args->data_dir, "The server's data directory")->capture_default_str();
    migrate->callback([migrate_args, &exit_code] { exit_code = run_migrate(*migrate_args); });

    auto backup_args = std::make_shared<AdminArgs>();
    CLI::App* backup = admin->add_subcommand(
        "backup", "Write an online, consistent backup (ledger, metadata, blobs, manifest) into "
                  "a new or empty directory");
    backup->add_option("DIR", backup_args->target, "The backup directory (absent or empty)")->required();
    backup->add_option("--data", backup_args->data_dir, "The server's data directory")->capture_default_str();
    backup->callback([backup_args, &exit_code] { exit_code = run_backup(*backup_args); });

    auto restore_args = std::make_shared<AdminArgs>();
    CLI::App* restore = admin->add_subcommand(
        "restore", "Restore a backup into an empty data directory (offline: no server may run "
                   "on it), then audit it");
    restore->add_option("BACKUP", restore_args->target, "A directory written by `satload admin backup`")
        ->required();
    restore->add_option("--data", restore_args->data_dir, "The data directory to restore into")->required();
    restore->callback([restore_args, &exit_code] { exit_code = run_restore(*restore_args); });

    // Trust and safety (through the running server).
    auto add_safety = [&](const char* name, const char* help, const char* target_name, const char* target_help,
                          bool with_reason, bool with_json) {
        auto args = std::make_shared<SafetyArgs>();
        CLI::App* cmd = admin->add_subcommand(name, help);
        if (target_name != nullptr) cmd->add_option(target_name, args->target, target_help)->required();
        if (with_reason) cmd->add_option("--reason", args->reason, "Why (written to the admin log)");
        if (with_json) cmd->add_flag("--json", args->json_output, "Print JSON");
        cmd->add_option("--data", args->data_dir, "The server's data directory")->capture_default_str();
        const std::string action = name;
        cmd->callback([args, action, &exit_code] {
            if (action == "reports") {
                exit_code = run_reports(*args);
            } else if (action == "log") {
                exit_code = run_log(*args);
            } else if (action == "transparency") {
                exit_code = run_transparency(*args);
            } else {
                exit_code = run_safety_action(*args, action);
            }
        });
        return std::make_pair(cmd, args);
    };
    add_safety("reports", "List open abuse reports with file, owner, downloads and earnings", nullptr, nullptr,
               false, true);
    auto [takedown, takedown_args] =
        add_safety("takedown", "Uphold a report: disable its file at once (410), block its ciphertext, notify "
                   "the owner, count a strike; held earnings are released unless --include-held",
                   "REPORT_ID", "The report's number", true, false);
    takedown->get_option("--reason")->required();
    takedown->add_option("--redirect-to", takedown_args->claimant,
                         "Copyright report: the rights holder's username; the file's earnings go to them");
    takedown->add_flag("--include-held", takedown_args->include_held,
                       "With --redirect-to: the earnings held while the report was open go to them too");
    auto [claim, claim_args] =
        add_safety("claim", "Uphold a copyright report as a rights-holder claim: the file stays online and "
                   "its earnings go to the claimant from now on (held ones with --include-held)",
                   "REPORT_ID", "The report's number", true, false);
    claim->get_option("--reason")->required();
    claim->add_option("--to", claim_args->claimant, "The rights holder's username")->required();
    claim->add_flag("--include-held", claim_args->include_held,
                    "The earnings held while the report was open go to the claimant too");
    auto [transparency, transparency_args] =
        add_safety("transparency", "Counts of reports, takedowns, reinstatements, dismissals, claims, "
                   "suspensions and freezes since DATE, by category", nullptr, nullptr, false, true);
    transparency->add_option("--since", transparency_args->since, "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)")
        ->required();
    add_safety("dismiss", "Close a report without action", "REPORT_ID", "The report's number", true, false);
    add_safety("reinstate", "Lift the takedown of a file (e.g. after a counter-notice)", "FILE_ID",
               "The file id", true, false);
    add_safety("freeze", "Block payments and withdrawals out of USER's wallet (the balance stays)", "USER",
               "The username", true, false);
    add_safety("unfreeze", "Lift a freeze", "USER", "The username", true, false);
    add_safety("log", "The append-only admin log: who, what, when, why", nullptr, nullptr, false, true);

    auto approve_args = std::make_shared<AdminArgs>();
    CLI::App* approve = admin->add_subcommand(
        "approve", "Send a bitcoin withdrawal that waits above the hot-wallet limits (prints its txid last)");
    approve->add_option("ID", approve_args->target, "The withdrawal's id")->required();
    approve->add_option("--data", approve_args->data_dir, "The server's data directory")->capture_default_str();
    approve->callback([approve_args, &exit_code] { exit_code = run_approve(*approve_args); });

    auto reject_args = std::make_shared<AdminArgs>();
    CLI::App* reject = admin->add_subcommand(
        "reject",
        "Refuse a bitcoin withdrawal that waits for approval: its money goes back to its wallet, "
        "nothing is sent");
    reject->add_option("ID", reject_args->target, "The withdrawal's id")->required();
    reject->add_option("--data", reject_args->data_dir, "The server's data directory")
        ->capture_default_str();
    reject->callback([reject_args, &exit_code] { exit_code = run_reject(*reject_args); });

    auto withdraw_args = std::make_shared<AdminArgs>();
    CLI::App* withdraw = admin->add_subcommand(
        "withdraw", "Withdraw platform revenue to a bitcoin ADDRESS (prints the txid last; above the hot-wallet "
                    "limits it waits for `admin approve`)");
    withdraw->add_option("ADDRESS", withdraw_args->target, "Where to send it")->required();
    withdraw->add_option("AMOUNT", withdraw_args->amount, "How much, in whole sats (like 50000sat)")->required();
    withdraw->add_option(
        "--idempotency-key", withdraw_args->request_key,
        "Send the request under this key (1-64 of A-Z a-z 0-9 - _): with the key of an earlier "
        "run, answers that run's withdrawal instead of sending a second (a new key by default)");
    withdraw->add_option("--data", withdraw_args->data_dir, "The server's data directory")->capture_default_str();
    withdraw->callback([withdraw_args, &exit_code] { exit_code = run_withdraw(*withdraw_args); });
}

}  // namespace satload::cli
