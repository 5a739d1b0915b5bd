// Fuzzes the data directory's backends.json (server/backends.h), which `satload admin` reads
// to open the stores its server ran on. No crash; parsing is deterministic; nothing over
// kBackendsFileBytesMax is accepted, and the limit binds at its last byte; what the reader
// accepts, the writer records (or refuses only for a byte no URL has) and reads back exactly;
// any two URLs (drawn from the input) the writer records read back exactly, and printable ones
// that fit are never refused.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_text.h"
#include "server/backends.h"

namespace server = satload::server;
using satload::fuzz::parse_checked;
using satload::fuzz::same_outcome;

namespace {

// The overhead of {"db":"","blobs":""} and its newline; escaping at most doubles a printable
// ASCII byte (" and \).
constexpr std::size_t kFrameBytes = 21;

bool printable(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= ' ' && c <= '~'; });
}

bool same_urls(const server::ServerOptions& a, const server::ServerOptions& b) {
    return a.db_url == b.db_url && a.blobs_url == b.blobs_url;
}

// The writer records `options` so that the reader gives back both URLs, or refuses with a
// reason; it refuses nothing printable that fits.
void check_round_trip(const server::ServerOptions& options) {
    const auto text = server::format_backends_text(options);
    const bool must_fit = printable(options.db_url) && printable(options.blobs_url) &&
                          kFrameBytes + 2 * (options.db_url.size() + options.blobs_url.size()) <=
                              server::kBackendsFileBytesMax;
    if (!text) {
        if (must_fit || text.error().empty()) std::abort();
        return;
    }
    if (text->size() > server::kBackendsFileBytesMax || text->empty() || text->back() != '\n')
        std::abort();
    const auto back = server::parse_backends_text(*text);
    if (!back || back->db_url != options.db_url || back->blobs_url != options.blobs_url)
        std::abort();
}

void check_text(std::string_view text) {
    const auto parsed = parse_checked(server::parse_backends_text, text, same_urls);
    if (!parsed) return;
    if (text.size() > server::kBackendsFileBytesMax) std::abort();
    const server::ServerOptions defaults;
    if (parsed->data_dir != defaults.data_dir)
        std::abort();  // only the two URLs come from the file
    check_round_trip(*parsed);
    // Trailing white space is still JSON: padded to the limit it is the same file, one byte more
    // and it is refused.
    std::string padded(text);
    padded.resize(server::kBackendsFileBytesMax, ' ');
    if (!same_outcome(parsed, server::parse_backends_text(padded), same_urls)) std::abort();
    padded.push_back(' ');
    if (server::parse_backends_text(padded)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check_text(text);
    // The input as two URLs, split at its first newline.
    const std::size_t cut = std::min(text.find('\n'), text.size());
    server::ServerOptions options;
    options.db_url = std::string(text.substr(0, cut));
    options.blobs_url = std::string(text.substr(std::min(cut + 1, text.size())));
    check_round_trip(options);
    return 0;
}
