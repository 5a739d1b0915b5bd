// `satload serve`: parses every ServerOptions field from flags (or a config file) and runs the
// server. DESIGN.md's flags for parts not built yet are accepted and refused clearly.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "client/units.h"
#include "ledger/split.h"
#include "server/options.h"

namespace satload::cli {
namespace {

struct ServeArgs {
    server::ServerOptions options;
    std::string max_upload, max_chunk, max_header, quota;
    std::string anonymous_max_upload, anonymous_expiry, split, grant_lifetime;
    std::string upload_expiry, header_timeout, idle_timeout, body_stall_timeout, shutdown_grace,
        scrub_interval;
    bool no_anonymous = false;
};

constexpr std::uint64_t kMaxHeaderBytesLimit = 1u << 20;

int run_serve(ServeArgs& args) {
    auto& o = args.options;
    o.anonymous_uploads = !args.no_anonymous;
    if (!args.split.empty()) {
        const auto shares = ledger::parse_split_shares(args.split);
        if (!shares) {
            print_error("--split must be three whole percents adding up to 100, like 80/10/10");
            return kExitUsage;
        }
        o.split = *shares;
    }
    const auto size = [](const std::string& text, std::string_view flag, auto& out,
                         std::uint64_t max) {
        if (text.empty()) return true;
        const auto v = client::parse_size_bytes(text);
        if (!v || *v == 0 || *v > max) {
            print_error(std::string(flag) + " must be a size like 64GiB or 256MiB");
            return false;
        }
        out = static_cast<std::remove_reference_t<decltype(out)>>(*v);
        return true;
    };
    const auto duration = [](const std::string& text, std::string_view flag,
                             std::chrono::seconds& out) {
        if (text.empty()) return true;
        const auto v = client::parse_duration(text);
        if (!v || v->count() == 0) {
            print_error(std::string(flag) + " must be a duration like 30s, 15m, 24h or 7d");
            return false;
        }
        out = *v;
        return true;
    };
    if (!size(args.max_upload, "--max-upload", o.max_upload_bytes, UINT64_MAX) ||
        !size(args.max_chunk, "--max-chunk", o.max_chunk_bytes, UINT64_MAX) ||
        !size(args.quota, "--quota", o.default_quota_bytes, UINT64_MAX) ||
        !size(args.anonymous_max_upload, "--anonymous-max-upload", o.anonymous_max_upload_bytes,
              UINT64_MAX) ||
        !duration(args.anonymous_expiry, "--anonymous-expiry", o.anonymous_file_lifetime) ||
        !duration(args.grant_lifetime, "--grant-lifetime", o.grant_lifetime) ||
        !size(args.max_header, "--max-header-bytes", o.max_header_bytes, kMaxHeaderBytesLimit) ||
        !duration(args.upload_expiry, "--upload-expiry", o.upload_expiry) ||
        !duration(args.header_timeout, "--header-timeout", o.header_timeout) ||
        !duration(args.idle_timeout, "--idle-timeout", o.idle_timeout) ||
        !duration(args.body_stall_timeout, "--body-stall-timeout", o.body_stall_timeout) ||
        !duration(args.shutdown_grace, "--shutdown-grace", o.shutdown_grace) ||
        !duration(args.scrub_interval, "--scrub-interval", o.scrub_interval)) {
        return kExitUsage;
    }
    // A web root named on purpose must exist; the default one may be missing (a server built
    // without the web app still serves the API and a notice page).
    if (!o.web_root.empty() && !std::filesystem::is_directory(o.web_root)) {
        print_error("--web-root " + o.web_root + " is not a directory");
        return kExitUsage;
    }
    if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
        print_error("--tls-cert and --tls-key go together");
        return kExitUsage;
    }
    return server::run_server(o);
}

}  // namespace

void add_serve_command(CLI::App& app, int& exit_code) {
    auto args = std::make_shared<ServeArgs>();
    auto& o = args->options;
    CLI::App* cmd = app.add_subcommand(
        "serve", "Run the satload server (stores only ciphertext). Every flag may also be set "
                 "in a TOML/INI file given with --config FILE, under a [serve] section with the "
                 "long flag names as keys.");
    // --config belongs to the top-level app (CLI11 reads config files there only); falling
    // through lets `satload serve --config FILE` reach it.
    cmd->fallthrough();
    cmd->add_option("--listen", o.listen, "HOST:PORT to listen on (port 0 picks a free one)")
        ->capture_default_str();
    cmd->add_option("--data", o.data_dir, "Data directory (metadata, blobs, logs)")
        ->capture_default_str();
    cmd->add_option("--public-url", o.public_url, "Base URL of links (default http://<listen>)");
    cmd->add_option("--tls-cert", o.tls_cert_file, "PEM certificate chain: serve HTTPS");
    cmd->add_option("--tls-key", o.tls_key_file, "PEM private key for --tls-cert");
    cmd->add_flag("--trust-proxy", o.trust_proxy, "Honour X-Forwarded-For from the peer");
    cmd->add_option("--web-root", o.web_root,
                    "Directory of the built web app (default: web/ beside the satload binary)");
    cmd->add_option("--max-upload", args->max_upload, "Largest upload accepted (default 64GiB)");
    cmd->add_option("--quota", args->quota, "Storage quota of each account (default 100GiB)");
    cmd->add_option("--max-chunk", args->max_chunk, "Largest single request body (default 256MiB)");
    cmd->add_option("--max-header-bytes", args->max_header,
                    "Largest request header block (default 16KiB)");
    cmd->add_option("--strikes", o.strikes_to_suspend,
                    "Upheld takedowns (in force) at which an account is suspended")
        ->check(CLI::Range(1u, 1'000'000u))
        ->capture_default_str();
    cmd->add_option("--max-connections", o.max_connections, "Connections served at once")
        ->check(CLI::Range(1u, 1'000'000u))
        ->capture_default_str();
    cmd->add_option("--upload-expiry", args->upload_expiry,
                    "Lifetime of an unfinished upload (default 24h)");
    cmd->add_option("--header-timeout", args->header_timeout,
                    "Time to receive a request's headers (default 30s)");
    cmd->add_option("--idle-timeout", args->idle_timeout,
                    "Keep-alive time between requests (default 120s)");
    cmd->add_option("--body-stall-timeout", args->body_stall_timeout,
                    "Longest pause in a request or response body (default 60s)");
    cmd->add_option("--shutdown-grace", args->shutdown_grace,
                    "Time given to running transfers on SIGTERM (default 10s)");
    cmd->add_option("--scrub-interval", args->scrub_interval,
                    "Interval of the background blob check (default 6h)");
    cmd->add_option("--threads", o.threads, "Worker threads (0: one per core)")
        ->check(CLI::Range(0u, 1024u))
        ->capture_default_str();
    cmd->add_option("--db", o.db_url,
                    "PostgreSQL for metadata, accounts, payments and the ledger: "
                    "postgresql://USER@HOST:PORT/DB[?schema=NAME] (default: SQLite under --data)");
    cmd->add_option("--blobs", o.blobs_url,
                    "S3 bucket for ciphertext: s3://BUCKET?endpoint=http://HOST:PORT&region=R, keys "
                    "in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (default: a directory under --data)");
    // Bitcoin deposits and withdrawals (off without --node).
    cmd->add_option("--node", o.node_url, "Bitcoin node JSON-RPC URL, http://user:password@host:port/");
    cmd->add_option("--network", o.network, "Bitcoin network: main, test or regtest")
        ->check(CLI::IsMember({"main", "test", "regtest"}))
        ->capture_default_str();
    cmd->add_option("--confirmations", o.confirmations, "Confirmations at which a deposit is credited")
        ->check(CLI::Range(1u, 1000u))
        ->capture_default_str();
    cmd->add_option("--seed-passphrase-file", o.seed_passphrase_file,
                    "File holding the wallet seed passphrase (else env SATLOAD_SEED_PASSPHRASE; required on main)");
    cmd->add_option("--fallback-feerate", o.fallback_feerate_sat_per_vb,
                    "Fee rate in sat/vB when the node has no estimate (default: none, refuse)")
        ->check(CLI::Range(1.0, 500.0));
    cmd->add_option("--max-withdrawal", o.max_withdrawal_sat,
                    "Largest withdrawal in sat sent without `satload admin approve`")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{2'100'000'000'000'000}))
        ->capture_default_str();
    cmd->add_option("--daily-withdrawal-limit", o.daily_withdrawal_sat,
                    "Sats all withdrawals may send per 24 h without `satload admin approve`")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{2'100'000'000'000'000}))
        ->capture_default_str();
    cmd->add_flag("--no-anonymous", args->no_anonymous, "Refuse uploads without an account");
    cmd->add_option("--anonymous-max-upload", args->anonymous_max_upload,
                    "Largest upload without an account (default 2GiB)");
    cmd->add_option("--anonymous-expiry", args->anonymous_expiry,
                    "Lifetime of a file uploaded without an account (default 30d)");
    cmd->add_option("--split", args->split,
                    "Payment split uploader/referrer/platform in percent (default 80/10/10)");
    cmd->add_option("--grant-lifetime", args->grant_lifetime,
                    "How long a paid download stays unlocked for its payer (default 24h)");
    cmd->callback([args, &exit_code] { exit_code = run_serve(*args); });
}

}  // namespace satload::cli
