// The logged-in session for the wallet, share and earnings commands, with the one-line error
// when there is none (header-only: the CLI's sources are globbed, its headers need no entry).
#pragma once

#include <optional>

#include "cli/commands.h"
#include "client/account.h"
#include "client/files.h"

namespace satload::cli {

// The session in SATLOAD_HOME, or nullopt after printing why not ("not logged in: …").
inline std::optional<client::Session> logged_in_session() {
    auto home = client::satload_home();
    if (!home) {
        print_error(home.error().message);
        return std::nullopt;
    }
    auto session = client::load_session(*home);
    if (!session) {
        print_error(session.error().message);
        return std::nullopt;
    }
    return std::move(*session);
}

}  // namespace satload::cli
