// Fuzzes the client's parsers of untrusted text: links, server URLs and Location headers,
// decrypted metadata JSON, the resume state files, sizes and durations, and file names. None
// may crash; a parsed link must format back to a link that parses to the same parts, and a
// safe file name must never contain a path separator.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "client/download_state.h"
#include "client/link.h"
#include "client/metadata.h"
#include "client/units.h"
#include "client/upload_state.h"
#include "client/url.h"
#include "core/check.h"

using namespace satload::client;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto link = parse_link(text)) {
        const auto again = parse_link(format_link(*link));
        SATLOAD_ASSERT(again.has_value());
        SATLOAD_ASSERT(format_link(*again) == format_link(*link));
    }
    if (auto base = parse_server_url(text)) {
        (void)resolve_location(*base, text);
        (void)resolve_location(*base, "/files/" + std::string(text));
    }
    (void)metadata_from_json(text);
    (void)upload_state_from_json(text);
    (void)download_state_from_json(text);
    (void)parse_size_bytes(text);
    (void)parse_duration(text);
    const std::string name = safe_file_name(text, "download");
    SATLOAD_ASSERT(!name.empty() && name.find('/') == std::string::npos && name != "." && name != "..");
    return 0;
}
