// Pins down KeptAnswers: an answer is kept only when no write came between the lookup that
// missed and the keep; forget and forget_if drop answers and refuse the reads they raced; the
// kept answers never exceed their bound.
#include "core/kept_answers.h"

#include <gtest/gtest.h>

#include <string>

namespace satload {
namespace {

TEST(KeptAnswers, KeepsWhatNoWriteRaced) {
    KeptAnswers<std::string, int> kept(8);
    auto miss = kept.find("a");
    EXPECT_FALSE(miss.value);
    kept.keep("a", 1, miss.generation);
    EXPECT_EQ(kept.find("a").value, std::optional<int>(1));

    // A write to another key between the miss and the keep: refused all the same (the
    // generation is one for all keys, which costs a read at most).
    auto raced = kept.find("b");
    kept.forget("c");
    kept.keep("b", 2, raced.generation);
    EXPECT_FALSE(kept.find("b").value);
    kept.keep("b", 2, kept.find("b").generation);
    EXPECT_EQ(kept.find("b").value, std::optional<int>(2));

    kept.forget("a");
    EXPECT_FALSE(kept.find("a").value);
    EXPECT_EQ(kept.size(), 1u);
}

TEST(KeptAnswers, ForgetIfDropsWhatItPicks) {
    KeptAnswers<int, int> kept(8);
    for (int i = 0; i < 6; ++i) kept.keep(i, i * 10, kept.find(i).generation);
    const auto before = kept.find(100).generation;
    kept.forget_if([](int key, int value) { return key % 2 == 0 || value == 30; });
    EXPECT_EQ(kept.size(), 2u);
    EXPECT_EQ(kept.find(1).value, std::optional<int>(10));
    EXPECT_EQ(kept.find(5).value, std::optional<int>(50));
    kept.keep(100, 1, before);
    EXPECT_FALSE(kept.find(100).value);
}

TEST(KeptAnswers, BoundedStartsAgainWhenFull) {
    KeptAnswers<int, int> kept(3);
    for (int i = 0; i < 3; ++i) kept.keep(i, i, kept.find(i).generation);
    EXPECT_EQ(kept.size(), 3u);
    kept.keep(3, 3, kept.find(3).generation);
    EXPECT_EQ(kept.size(), 1u);
    EXPECT_EQ(kept.find(3).value, std::optional<int>(3));
    // Keeping a kept key again replaces it and does not count twice.
    kept.keep(3, 4, kept.find(3).generation);
    EXPECT_EQ(kept.size(), 1u);
    EXPECT_EQ(kept.find(3).value, std::optional<int>(4));
}

}  // namespace
}  // namespace satload
