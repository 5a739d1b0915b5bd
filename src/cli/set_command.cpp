// `satload set` (being built).
#include "cli/commands.h"

namespace satload::cli {

void add_set_command(CLI::App&, int&) {}

}  // namespace satload::cli
