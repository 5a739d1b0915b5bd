// Small helpers the fuzz targets share when they compare what a parser accepted with what a
// formatter writes, or one parse of an input with another.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdlib>
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

// What a refusal says (a parser refuses with a message, or a failure that carries one).
inline const std::string& refusal_text(const std::string& error) { return error; }
template <class Failure>
const std::string& refusal_text(const Failure& failure) {
    return failure.message;
}
// Whether two refusals are the same: the message, and the outcome where the failure names one.
inline bool same_error(const std::string& a, const std::string& b) { return a == b; }
template <class Failure>
bool same_error(const Failure& a, const Failure& b) {
    return a.code == b.code && a.message == b.message;
}

// Whether a parser answered the same twice: the same refusal, or values `equal` finds the same.
template <class R, class Equal>
bool same_outcome(const R& a, const R& b, Equal equal) {
    if (a.has_value() != b.has_value()) return false;
    return a ? equal(*a, *b) : same_error(a.error(), b.error());
}

// parse(text), aborting unless parsing is deterministic (a second parse answers the same) and
// a refusal says why.
template <class Parse, class Equal>
auto parse_checked(Parse parse, std::string_view text, Equal equal) {
    auto first = parse(text);
    if (!same_outcome(first, parse(text), equal)) std::abort();
    if (!first && refusal_text(first.error()).empty()) std::abort();
    return first;
}

}  // namespace satload::fuzz
