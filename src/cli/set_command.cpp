// `satload set ID [--price AMOUNT] [--expire 7d|never] [--max-downloads N|none]
// [--revoke|--unrevoke] [--json]`: the owner changes a file's link controls and price, and the
// file's state after the change is printed (with no option: the state as it is).
#include <boost/json.hpp>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/logged_in.h"
#include "client/account.h"
#include "client/files.h"
#include "client/link.h"
#include "client/link_controls.h"
#include "client/units.h"
#include "core/money.h"

namespace satload::cli {
namespace {

struct SetArgs {
    std::string id;
    std::string price;
    std::string expire;
    std::string max_downloads;
    bool revoke = false;
    bool unrevoke = false;
    bool json = false;
};

constexpr std::string_view kNever = "never";
constexpr std::string_view kNone = "none";

// The change the options ask for; nullopt after printing what is wrong.
std::optional<client::FileChange> parse_change(const SetArgs& args) {
    client::FileChange change;
    if (!args.price.empty()) {
        const auto price = parse_amount(args.price);
        if (!price) {
            print_error("--price: " + std::string(money_error_message(price.error())) +
                        " (like 250sat, 1500msat, 0.0001btc, or 0msat for free)");
            return std::nullopt;
        }
        change.price_msat = price->value;
    }
    if (args.expire == kNever) {
        change.expires_in_s = std::optional<std::int64_t>();
    } else if (!args.expire.empty()) {
        const auto lifetime = client::parse_duration(args.expire);
        if (!lifetime || lifetime->count() < 1) {
            print_error("--expire must be a duration like 30m, 12h or 7d, or never");
            return std::nullopt;
        }
        change.expires_in_s = std::optional<std::int64_t>(lifetime->count());
    }
    if (args.max_downloads == kNone) {
        change.max_downloads = std::optional<std::uint64_t>();
    } else if (!args.max_downloads.empty()) {
        const auto limit = client::parse_download_limit(args.max_downloads);
        if (!limit) {
            print_error("--max-downloads must be a whole number of at least 1, or none");
            return std::nullopt;
        }
        change.max_downloads = std::optional<std::uint64_t>(*limit);
    }
    if (args.revoke) change.revoked = true;
    if (args.unrevoke) change.revoked = false;
    return change;
}

// Whether the link works now, in words, as far as this machine's clock can tell.
std::string link_status(const client::FileState& s) {
    if (s.revoked) return "revoked";
    if (s.expires_s && *s.expires_s <= static_cast<std::int64_t>(std::time(nullptr))) return "expired";
    if (s.max_downloads && s.downloads >= *s.max_downloads) return "download limit reached";
    return "active";
}

void print_state(const client::FileState& s, bool json) {
    if (json) {
        boost::json::object out{{"id", s.file_id},
                                {"price_msat", s.price_msat},
                                {"downloads", s.downloads},
                                {"revoked", s.revoked},
                                {"link", link_status(s)}};
        if (s.expires_s) out["expires"] = *s.expires_s; else out["expires"] = nullptr;
        if (s.max_downloads) out["max_downloads"] = *s.max_downloads; else out["max_downloads"] = nullptr;
        std::printf("%s\n", boost::json::serialize(out).c_str());
        return;
    }
    const std::string price = s.price_msat == 0 ? "free" : format_sat(Msat{s.price_msat});
    const std::string expires = s.expires_s ? iso_time(*s.expires_s) : "never";
    const std::string downloads = s.max_downloads
                                      ? std::to_string(s.downloads) + " of " + std::to_string(*s.max_downloads)
                                      : std::to_string(s.downloads) + " (no limit)";
    std::printf("id\t%s\nlink\t%s\nprice\t%s\nexpires\t%s\ndownloads\t%s\n", s.file_id.c_str(),
                link_status(s).c_str(), price.c_str(), expires.c_str(), downloads.c_str());
}

int run_set(const SetArgs& args) {
    const auto change = parse_change(args);
    if (!change) return kExitUsage;
    auto session = logged_in_session();
    if (!session) return kExitFailure;
    // A link names its file (and cannot start with '-', which an id may: `set -- ID` then).
    std::string id = args.id;
    if (id.rfind("http://", 0) == 0 || id.rfind("https://", 0) == 0) {
        auto link = client::parse_link(id);
        if (!link) {
            print_error(link.error().message);
            return kExitUsage;
        }
        if (link->server.text() != session->server.text()) {
            print_error("the link is on " + link->server.text() + ", but you are logged in to " +
                        session->server.text());
            return kExitFailure;
        }
        id = link->file_id;
    }
    auto state = client::update_file(*session, id, *change, {});
    if (!state) {
        print_error(state.error().message);
        return state.error().code == client::ErrorCode::bad_argument ? kExitUsage : kExitFailure;
    }
    print_state(*state, args.json);
    return std::fflush(stdout) == 0 ? 0 : kExitFailure;
}

}  // namespace

void add_set_command(CLI::App& app, int& exit_code) {
    auto args = std::make_shared<SetArgs>();
    CLI::App* cmd = app.add_subcommand(
        "set", "Change one of your files' link: price, expiry, download limit, revocation.\n"
               "Prints the file's state afterwards (with no option, as it is).");
    cmd->add_option("ID", args->id,
                    "File id or link (as `satload ls` shows them); an id starting with '-' goes after --")
        ->required();
    cmd->add_option("--price", args->price, "Price per download, e.g. 250sat, 1500msat; 0msat: free");
    cmd->add_option("--expire", args->expire, "The link stops working this long from now (e.g. 7d), or never");
    cmd->add_option("--max-downloads", args->max_downloads,
                    "The link stops working after N downloads in all (counted so far included), or none");
    auto* revoke = cmd->add_flag("--revoke", args->revoke, "Switch the link off (410 for everyone)");
    auto* unrevoke = cmd->add_flag("--unrevoke", args->unrevoke, "Switch a revoked link on again");
    revoke->excludes(unrevoke);
    cmd->add_flag("--json", args->json, "Print the state as a JSON object");
    cmd->callback([args, &exit_code] { exit_code = run_set(*args); });
}

}  // namespace satload::cli
