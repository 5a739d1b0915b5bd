// Helpers shared by the chain unit tests, written independently of the code under test.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "core/encoding.h"

namespace satload::chain::test {

inline Bytes unhex(std::string_view text) {
    auto b = hex_decode(text);
    EXPECT_TRUE(b.has_value()) << "bad hex in test data: " << text;
    return b.value_or(Bytes{});
}

inline std::string hex(ByteSpan b) { return hex_encode(b); }

}  // namespace satload::chain::test
