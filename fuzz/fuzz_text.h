// Small text helpers the fuzz targets share when they compare what a parser accepted with what
// a formatter writes.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace satload::fuzz {

// ASCII lower case: formatters write hex and bech32 in lower case, parsers accept either.
inline std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

}  // namespace satload::fuzz
