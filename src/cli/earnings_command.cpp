// `satload account earnings` (being built).
#include "cli/commands.h"

namespace satload::cli {

void add_earnings_subcommand(CLI::App&, int&) {}

}  // namespace satload::cli
