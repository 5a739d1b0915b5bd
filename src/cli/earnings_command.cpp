// `satload account earnings [--json]`: per file the paid downloads, gross and net (after the
// referrer's and the platform's shares), and what referral links earned.
#include <boost/json.hpp>

#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/logged_in.h"
#include "client/wallet.h"

namespace satload::cli {
namespace {

namespace json = boost::json;

int run_earnings(bool as_json) {
    auto session = logged_in_session();
    if (!session) return kExitFailure;
    auto e = client::account_earnings(*session, {});
    if (!e) {
        print_error(e.error().message);
        return kExitFailure;
    }
    if (as_json) {
        json::array files;
        for (const auto& f : e->files) {
            files.push_back(json::object{{"id", f.file_id},
                                         {"downloads", f.downloads},
                                         {"gross_msat", f.gross_msat},
                                         {"net_msat", f.net_msat}});
        }
        const json::object o{{"files", std::move(files)},
                             {"referrals", json::object{{"payments", e->referral_payments},
                                                        {"earned_msat", e->referral_earned_msat}}},
                             {"total_msat", e->total_msat}};
        std::printf("%s\n", json::serialize(o).c_str());
    } else {
        // One file per line, tab-separated: id, paid downloads, gross, net.
        for (const auto& f : e->files) {
            std::printf("%s\t%lld downloads\tgross %s\tnet %s\n", f.file_id.c_str(),
                        static_cast<long long>(f.downloads),
                        client::amount_text(f.gross_msat).c_str(),
                        client::amount_text(f.net_msat).c_str());
        }
        std::printf("referrals: %lld payments, %s\n", static_cast<long long>(e->referral_payments),
                    client::amount_text(e->referral_earned_msat).c_str());
        std::printf("total: %s\n", client::amount_text(e->total_msat).c_str());
    }
    if (std::fflush(stdout) != 0) {
        print_error("cannot write to stdout");
        return kExitFailure;
    }
    return 0;
}

}  // namespace

void add_earnings_subcommand(CLI::App& account, int& exit_code) {
    auto as_json = std::make_shared<bool>(false);
    CLI::App* cmd = account.add_subcommand(
        "earnings",
        "What your files and referral links earned: per file paid downloads, gross and net");
    cmd->add_flag("--json", *as_json, "Print a JSON object");
    cmd->callback([as_json, &exit_code] { exit_code = run_earnings(*as_json); });
}

}  // namespace satload::cli
