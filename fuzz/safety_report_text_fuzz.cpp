// Fuzzes the text a report carries over HTTP and the admin API's `since` (safety/
// report_text.h, transparency.h, safety_store.h): no crash; a file id found in a link is a
// canonical id spelled in that link; scrubbing is idempotent, never lengthens the text, and
// removes a file secret from every link it is embedded in, whatever surrounds the link; an
// accepted date formats back to the very text it was read from; a category name round-trips.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <string>
#include <string_view>

#include "core/ids.h"
#include "safety/report_text.h"
#include "safety/safety_store.h"
#include "safety/transparency.h"

namespace safety = satload::safety;

namespace {

// A file secret as links carry it (22 base64url characters) and a canonical file id.
constexpr std::string_view kSecret = "Q2xhc3NpZmllZC1TZWNyZX";
constexpr std::string_view kFileId = "AAECAwQFBgcICQoLDA0ODw";

std::size_t count(std::string_view text, std::string_view needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

void check_link(std::string_view text) {
    if (const auto id = safety::file_id_of_link(text)) {
        if (!satload::is_file_id(*id)) std::abort();
        if (text.find(*id) == std::string_view::npos) std::abort();
    }
    const std::string stripped = safety::strip_fragment(text);
    if (stripped.find('#') != std::string::npos || !text.starts_with(stripped)) std::abort();
}

void check_scrub(std::string_view text) {
    const std::string once = safety::without_link_secrets(text);
    if (once.size() > text.size()) std::abort();
    if (safety::without_link_secrets(once) != once) std::abort();
    if (text.find('#') == std::string_view::npos && once != text) std::abort();

    // A full link pasted anywhere in the text loses its secret: the secret is left only where
    // the surrounding text itself spelled it.
    const std::size_t half = text.size() / 2;
    const std::string_view before = text.substr(0, half);
    const std::string_view after = text.substr(half);
    for (const std::string_view sep : {" ", "\n", ""}) {
        const std::string link = "https://files.example/f/" + std::string(kFileId) + "?r=ref#" + std::string(kSecret);
        const std::string pasted = std::string(before) + std::string(sep) + link + std::string(sep) + std::string(after);
        const std::string scrubbed = safety::without_link_secrets(pasted);
        if (count(scrubbed, kSecret) > count(before, kSecret) + count(after, kSecret)) std::abort();
    }
}

void check_since(std::string_view text) {
    const auto since = safety::parse_since(text);
    if (!since) return;
    const std::time_t t = static_cast<std::time_t>(*since);
    std::tm tm{};
    if (gmtime_r(&t, &tm) == nullptr) std::abort();
    char buf[32];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const std::string formatted(buf, n);
    const std::string want = text.size() == 10 ? std::string(text) + "T00:00:00Z" : std::string(text);
    if (formatted != want) std::abort();
    if (tm.tm_year + 1900 < safety::kSinceYearMin || tm.tm_year + 1900 > safety::kSinceYearMax) std::abort();
}

void check_category(std::string_view text) {
    const auto c = safety::parse_category(text);
    if (c && safety::category_name(*c) != text) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check_link(text);
    check_scrub(text);
    check_since(text);
    check_category(text);
    return 0;
}
