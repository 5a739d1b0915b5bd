// Fuzzes the journal checkpoint file of the data directory (ledger/checkpoint.h): no crash; an
// accepted text is within kCheckpointBytesMax and names a head that formats to a text parsing
// to the same head; any head (drawn from the input) formats to the one text that parses back
// to it, so a checkpoint written is always a checkpoint read.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "ledger/checkpoint.h"

namespace ledger = satload::ledger;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (const auto head = ledger::parse_checkpoint(text)) {
        if (size > ledger::kCheckpointBytesMax || head->count < 0) std::abort();
        const std::string canonical = ledger::format_checkpoint(*head);
        const auto again = ledger::parse_checkpoint(canonical);
        if (!again || !(*again == *head)) std::abort();
        // The canonical text is no longer than any text naming the same head.
        if (canonical.size() > size) std::abort();
    }

    ledger::JournalHead drawn;
    std::uint64_t count = 0;
    std::memcpy(&count, data, std::min(size, sizeof count));
    drawn.count = static_cast<std::int64_t>(count & 0x7fff'ffff'ffff'ffffULL);
    if (size > sizeof count) {
        std::memcpy(drawn.hash.data(), data + sizeof count, std::min(size - sizeof count, drawn.hash.size()));
    }
    const auto back = ledger::parse_checkpoint(ledger::format_checkpoint(drawn));
    if (!back || !(*back == drawn)) std::abort();
    return 0;
}
