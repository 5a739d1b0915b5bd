// `satload share LINK`: the link with the caller's referral code (`?r=…` before the fragment,
// replacing any other), so that downloads paid through it reward the caller.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/logged_in.h"
#include "client/link.h"
#include "client/wallet.h"
#include "crypto/primitives.h"

namespace satload::cli {
namespace {

int run_share(std::string& text) {
    auto link = client::parse_link(text);
    crypto::secure_wipe(text.data(), text.size());
    if (!link) {
        print_error(link.error().message);
        return kExitUsage;
    }
    auto session = logged_in_session();
    if (!session) return kExitFailure;
    // A referral code belongs to an account on one server: it means nothing on another.
    if (session->server.text() != link->server.text()) {
        print_error("the link is for " + link->server.text() + " but you are logged in at " +
                    session->server.text() + ": log in there to share it");
        return kExitFailure;
    }
    auto code = client::referral_code(*session, {});
    if (!code) {
        print_error(code.error().message);
        return kExitFailure;
    }
    auto shared = client::link_with_referral(*link, *code);
    if (!shared) {
        print_error(shared.error().message);
        return kExitFailure;
    }
    std::printf("%s\n", shared->c_str());
    crypto::secure_wipe(shared->data(), shared->size());
    if (std::fflush(stdout) != 0) {
        print_error("cannot write to stdout");
        return kExitFailure;
    }
    return 0;
}

}  // namespace

void add_share_command(CLI::App& app, int& exit_code) {
    auto link = std::make_shared<std::string>();
    CLI::App* cmd = app.add_subcommand(
        "share",
        "Print LINK with your referral code (?r=…): paid downloads through it pay you the "
        "referrer's share");
    cmd->add_option("LINK", *link, "The link, including its #secret")->required();
    cmd->callback([link, &exit_code] { exit_code = run_share(*link); });
}

}  // namespace satload::cli
