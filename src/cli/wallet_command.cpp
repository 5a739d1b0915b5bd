// `satload wallet` (being built).
#include "cli/commands.h"

namespace satload::cli {

void add_wallet_command(CLI::App&, int&) {}

}  // namespace satload::cli
