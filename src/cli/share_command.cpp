// `satload share` (being built).
#include "cli/commands.h"

namespace satload::cli {

void add_share_command(CLI::App&, int&) {}

}  // namespace satload::cli
