// Fuzzes the --db URL (store/pg_db.h: parse_pg_url), an operator's text that picks the schema
// every table lives in. No crash; parsing is deterministic; an accepted URL is a postgresql://
// URL with no fragment (libpq reads none), whose schema is a valid identifier named by at most
// one `schema` parameter; the conninfo libpq gets is the URL to the letter without that
// parameter (every other part and parameter kept, in order), holds no NUL, parses again to
// itself with the default schema, and with the schema put back parses to the same pair.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include "fuzz_text.h"
#include "store/pg_db.h"

namespace store = satload::store;
namespace urls = boost::urls;
using satload::fuzz::parse_checked;

namespace {

// The URL's parameters other than `schema`, as written; and how many `schema` ones it has.
struct Params {
    std::vector<std::string> others;
    std::size_t schemas = 0;
    std::string last_schema;
};

Params params_of(const urls::url_view& url) {
    Params out;
    for (const auto p : url.encoded_params()) {
        if (p.key.decode() == "schema") {
            ++out.schemas;
            out.last_schema = p.has_value ? p.value.decode() : std::string();
        } else {
            out.others.push_back(std::string(p.key) + (p.has_value ? "=" : "") +
                                 std::string(p.value));
        }
    }
    return out;
}

bool same_url(const store::PgUrl& a, const store::PgUrl& b) {
    return a.conninfo == b.conninfo && a.schema == b.schema;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto parsed = parse_checked(store::parse_pg_url, text, same_url);
    if (!parsed) return 0;
    if (!store::is_pg_url(text) || !store::valid_pg_schema_name(parsed->schema)) std::abort();
    const std::string& conninfo = parsed->conninfo;
    if (conninfo.find('\0') != std::string::npos) std::abort();

    // libpq gets the operator's URL minus `schema`: nothing else re-encoded, dropped or moved.
    const auto in = urls::parse_uri(text);
    const auto out = urls::parse_uri(conninfo);
    if (!in || !out) std::abort();
    // No fragment: libpq has none, and would read one as part of the database name or a value.
    if (in->encoded_origin() != out->encoded_origin() ||
        in->encoded_path() != out->encoded_path() || in->has_fragment() || out->has_fragment()) {
        std::abort();
    }
    const Params in_params = params_of(*in);
    const Params out_params = params_of(*out);
    if (in_params.schemas > 1 || out_params.schemas != 0 || in_params.others != out_params.others)
        std::abort();
    const std::string expected_schema =
        in_params.schemas == 1 ? in_params.last_schema : std::string(store::kPgDefaultSchema);
    if (parsed->schema != expected_schema) std::abort();

    // Without `schema` the conninfo is a fixed point; with it put back, the same pair again.
    const auto again = store::parse_pg_url(conninfo);
    if (!again || again->conninfo != conninfo || again->schema != store::kPgDefaultSchema)
        std::abort();
    urls::url with_schema = *out;
    with_schema.params().append({"schema", parsed->schema});
    const auto back = store::parse_pg_url(with_schema.buffer());
    if (!back || back->conninfo != conninfo || back->schema != parsed->schema) std::abort();
    return 0;
}
