// stderr messages and defaults shared by the subcommands.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/commands.h"

namespace satload::cli {

void print_error(std::string_view message) {
    std::fprintf(stderr, "satload: error: %.*s\n", static_cast<int>(message.size()), message.data());
}

void print_notice(std::string_view message) {
    std::fprintf(stderr, "satload: %.*s\n", static_cast<int>(message.size()), message.data());
}

std::string default_server_url() {
    if (const char* env = std::getenv("SATLOAD_SERVER"); env != nullptr && *env != '\0') return env;
    return std::string(kDefaultServerUrl);
}

}  // namespace satload::cli
