// Fuzzes the ledger's text inputs (ledger/split.h, types.h): the operator's `--split U/R/P`,
// ids in hex and account kind names. No crash; accepted shares are whole percents adding up to
// 100 that read back from their own "U/R/P", and split any price (drawn from the input) into
// legs within it that sum to it exactly; an accepted id (up to case) or kind is the canonical
// text of what it parsed to.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "core/money.h"
#include "fuzz_text.h"
#include "ledger/split.h"
#include "ledger/types.h"

namespace ledger = satload::ledger;

namespace {

void check_split(std::string_view text, std::int64_t price_msat) {
    const auto shares = ledger::parse_split_shares(text);
    if (!shares) return;
    if (shares->uploader_bp + shares->referrer_bp + shares->platform_bp != ledger::kBasisPointsTotal) std::abort();
    for (const std::uint32_t bp : {shares->uploader_bp, shares->referrer_bp, shares->platform_bp}) {
        if (bp % 100 != 0) std::abort();
    }
    const std::string again = std::to_string(shares->uploader_bp / 100) + "/" + std::to_string(shares->referrer_bp / 100) +
                              "/" + std::to_string(shares->platform_bp / 100);
    const auto reparsed = ledger::parse_split_shares(again);
    if (!reparsed || !(*reparsed == *shares)) std::abort();
    for (const bool referrer : {false, true}) {
        const auto legs = ledger::split_price(price_msat, *shares, referrer);
        if (!legs) {
            if (satload::within_supply(satload::Msat{price_msat})) std::abort();
            continue;
        }
        if (legs->uploader_msat < 0 || legs->referrer_msat < 0 || legs->platform_msat < 0) std::abort();
        if (legs->uploader_msat + legs->referrer_msat + legs->platform_msat != price_msat) std::abort();
        if (!referrer && legs->referrer_msat != 0) std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::uint64_t drawn = 0;
    std::memcpy(&drawn, data, size < sizeof drawn ? size : sizeof drawn);
    const auto price = static_cast<std::int64_t>(drawn % (static_cast<std::uint64_t>(satload::kSupplyMsat) + 2));
    check_split(text, price);
    if (const auto id = ledger::parse_id_hex(text)) {
        // Written in lower case; read in either.
        if (ledger::id_hex(*id) != satload::fuzz::lower(text)) std::abort();
    }
    if (const auto kind = ledger::parse_account_kind(text)) {
        if (ledger::account_kind_name(*kind) != text) std::abort();
    }
    return 0;
}
