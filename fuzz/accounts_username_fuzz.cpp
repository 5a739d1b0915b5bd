// Fuzzes the username rule every account request applies (accounts/account_service.h): no
// crash; an accepted name is within the length bounds and in the canonical alphabet (lower
// case, digits, '_' and '-'); normalising is idempotent and blind to ASCII case, so "Alice"
// and "alice" can never be two accounts; nothing outside the bounds is accepted.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "accounts/account_service.h"

namespace accounts = satload::accounts;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto name = accounts::normalize_username(text);

    std::string upper(text);
    for (char& c : upper) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    if (accounts::normalize_username(upper) != name) std::abort();
    if (!name) {
        return 0;
    }
    if (size < accounts::kUsernameMinChars || size > accounts::kUsernameMaxChars) std::abort();
    if (name->size() != size) std::abort();
    for (const char c : *name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok) std::abort();
    }
    if (accounts::normalize_username(*name) != name) std::abort();
    return 0;
}
