// The credential of a command (SATLOAD_TOKEN or the session in SATLOAD_HOME), with the one-line
// error when there is none, and the time format of listings (header-only: the CLI's sources are globbed, its headers need no entry).
#pragma once

#include <ctime>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "client/account.h"
#include "client/files.h"

namespace satload::cli {

// The credential (SATLOAD_TOKEN, else the session in SATLOAD_HOME), or nullopt after printing why not ("not logged in: …").
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

// ISO 8601 UTC, for listings.
inline std::string iso_time(std::int64_t unix_s) {
    const std::time_t t = static_cast<std::time_t>(unix_s);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf, n);
}

}  // namespace satload::cli
