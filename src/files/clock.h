// The injected clock lives in core (every domain service uses it); these names keep the
// files layer's spelling.
#pragma once

#include "core/clock.h"

namespace satload::files {
using satload::Clock;
using satload::ManualClock;
using satload::SystemClock;
}  // namespace satload::files
