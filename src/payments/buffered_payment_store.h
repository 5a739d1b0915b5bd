// BufferedPaymentStore: one server's payment attempt records written behind, in batches.
//
// A paid download's attempt record cost a SQLite transaction of its own on the payment's path
// (15% of a paid flow's CPU in session 7's profile), though no record need be durable: the
// ledger is the truth, and a record a crash loses is rebuilt from it (see AttemptState). Here
// a granted or failed attempt waits in memory and is written with the others waiting, in one
// transaction, at most kAttemptFlushInterval later (or at once when kMaxBufferedAttempts
// wait). Reads see the waiting records: latest_attempt answers from them first (an attempt
// waiting here always has a higher number than any written for its payer and file, since
// every write that goes straight to the store writes what waits first), and every other read
// of attempts (earnings, held legs) writes what waits before it reads. What a crash loses is
// what an unsynced commit lost before, plus up to one interval: the retry builds the same
// number, the ledger answers that it holds that payment id, and the paywall records what it
// applied. A held attempt (its uploader leg pending in the ledger until settled) and a pending
// one are written at once: the sweep that settles holds finds them only through their record.
//
// Only for a store no other server shares (PaymentStore::shared_by_servers false): others
// would not see what waits here.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <tuple>

#include "payments/payment_store.h"

namespace satload::payments {

inline constexpr std::chrono::milliseconds kAttemptFlushInterval{20};
inline constexpr std::size_t kMaxBufferedAttempts = 4096;

class BufferedPaymentStore final : public PaymentStore {
public:
    explicit BufferedPaymentStore(std::unique_ptr<PaymentStore> inner,
                                  std::chrono::milliseconds flush_interval = kAttemptFlushInterval);
    // Writes what waits.
    ~BufferedPaymentStore() override;
    BufferedPaymentStore(const BufferedPaymentStore&) = delete;
    BufferedPaymentStore& operator=(const BufferedPaymentStore&) = delete;

    // Writes every waiting record now; on failure they keep waiting.
    StoreResult<void> flush();
    // Records waiting now.
    [[nodiscard]] std::size_t waiting() const;

    [[nodiscard]] bool shared_by_servers() const override { return false; }
    StoreResult<std::optional<PaymentAttempt>> latest_attempt(AccountId payer,
                                                               const std::string& file_id) override;
    // A granted or failed attempt that is not held waits; StoreError::exists when its number
    // waits already.
    StoreResult<void> insert_attempt(const PaymentAttempt& attempt) override;
    StoreResult<void> insert_attempts(std::span<const PaymentAttempt> attempts) override;
    StoreResult<void> finish_attempt(AccountId payer, const std::string& file_id, std::int64_t attempt_no,
                                     AttemptState state, std::int64_t expires_s) override;
    StoreResult<void> record_recovered_attempt(const PaymentAttempt& attempt) override;
    StoreResult<std::vector<FileEarnings>> earnings(AccountId uploader) override;
    StoreResult<ReferralEarnings> referral_earnings(AccountId referrer) override;
    StoreResult<std::optional<std::string>> referral_code(AccountId account) override;
    StoreResult<void> set_referral_code(AccountId account, const std::string& code) override;
    StoreResult<std::optional<AccountId>> referral_owner(const std::string& code) override;
    StoreResult<std::vector<PaymentAttempt>> unsettled_holds(const std::string& file_id, std::size_t limit) override;
    StoreResult<std::vector<std::string>> files_with_unsettled_holds(std::size_t limit) override;
    StoreResult<void> settle_hold(AccountId payer, const std::string& file_id, std::int64_t attempt_no,
                                  HoldOutcome outcome, AccountId settled_to) override;
    StoreResult<std::optional<EarningsRedirect>> redirect_of(const std::string& file_id) override;
    StoreResult<void> set_redirect(const EarningsRedirect& redirect) override;

private:
    using Key = std::tuple<AccountId, std::string, std::int64_t>;  // payer, file, number
    void flush_every_interval(const std::stop_token& stop);

    std::unique_ptr<PaymentStore> m_inner;
    std::chrono::milliseconds m_interval;
    mutable std::mutex m_mutex;  // guards m_waiting
    std::map<Key, PaymentAttempt> m_waiting;
    std::mutex m_flush_mutex;  // one flush at a time
    std::condition_variable_any m_wake;
    std::jthread m_flusher;  // last: it uses the members above
};

}  // namespace satload::payments
