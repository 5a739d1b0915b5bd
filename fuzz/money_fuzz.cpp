// Fuzzes the amount parser: it must never crash, never accept a value outside the supply,
// and whatever it accepts must format and reparse to the same value in every unit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/money.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto amount = satload::parse_amount(text);
    if (!amount) {
        if (satload::money_error_name(amount.error()) == "unknown") std::abort();
        return 0;
    }
    if (!satload::within_supply(*amount)) std::abort();
    for (const auto& formatted : {satload::format_msat(*amount), satload::format_sat(*amount),
                                  satload::format_btc(*amount)}) {
        const auto again = satload::parse_amount(formatted);
        if (!again || *again != *amount) std::abort();
        // The formatted form is canonical: formatting the reparsed value gives the same text.
        if (satload::format_msat(*again) != satload::format_msat(*amount)) std::abort();
    }
    return 0;
}
