// Pins down login throttling: free failures, doubling delays with a cap,
// forgetting after a quiet period, success resets, and the memory bound.
#include "accounts/login_throttle.h"

#include <gtest/gtest.h>

namespace satload::accounts {
namespace {

ThrottlePolicy small_policy() {
    return ThrottlePolicy{.free_failures = 2,
                          .base_delay_s = 1,
                          .max_delay_s = 8,
                          .forget_after_s = 100,
                          .max_keys = 3};
}

// After the free failures each failure doubles the wait (1, 2, 4, 8, 8:
// capped).
TEST(LoginThrottle, DelayDoublesAndIsCapped) {
    ManualClock clock(1000);
    LoginThrottle t(clock, small_policy());
    EXPECT_EQ(t.retry_after_s("alice"), 0);
    t.record_failure("alice");
    t.record_failure("alice");
    EXPECT_EQ(t.retry_after_s("alice"), 0);  // two free failures
    const std::int64_t expected[] = {1, 2, 4, 8, 8};
    for (const std::int64_t delay : expected) {
        t.record_failure("alice");
        EXPECT_EQ(t.retry_after_s("alice"), delay);
        clock.advance(delay - 1);
        EXPECT_EQ(t.retry_after_s("alice"), 1);
        clock.advance(1);
        EXPECT_EQ(t.retry_after_s("alice"), 0);
    }
    EXPECT_EQ(t.retry_after_s("bob"), 0);  // keys are independent
}

// A key quiet for forget_after_s starts again from zero; a success forgets at
// once.
TEST(LoginThrottle, FailuresDecayAndSuccessResets) {
    ManualClock clock(1000);
    LoginThrottle t(clock, small_policy());
    for (int i = 0; i < 5; ++i) t.record_failure("alice");
    EXPECT_GT(t.retry_after_s("alice"), 0);
    clock.advance(100);
    EXPECT_EQ(t.retry_after_s("alice"), 0);
    t.record_failure("alice");
    t.record_failure("alice");
    EXPECT_EQ(t.retry_after_s("alice"),
              0);  // counting restarted: these were free again

    for (int i = 0; i < 5; ++i) t.record_failure("bob");
    EXPECT_GT(t.retry_after_s("bob"), 0);
    t.record_success("bob");
    EXPECT_EQ(t.retry_after_s("bob"), 0);
}

// The table never holds more than max_keys; the key quiet longest is dropped
// first.
TEST(LoginThrottle, MemoryIsBounded) {
    ManualClock clock(1000);
    LoginThrottle t(clock, small_policy());
    for (int i = 0; i < 3; ++i) {
        t.record_failure("k" + std::to_string(i));
        clock.advance(1);
    }
    EXPECT_EQ(t.tracked_keys(), 3u);
    t.record_failure("k3");
    EXPECT_EQ(t.tracked_keys(), 3u);
    for (int i = 0; i < 5; ++i) t.record_failure("k3");
    EXPECT_GT(t.retry_after_s("k3"), 0);
    t.record_failure("k4");  // evicts k1 (k0 went first), never the newest
    EXPECT_EQ(t.tracked_keys(), 3u);
    EXPECT_GT(t.retry_after_s("k3"), 0);
}

}  // namespace
}  // namespace satload::accounts
