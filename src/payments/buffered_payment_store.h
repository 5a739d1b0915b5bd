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
// of attempts (earnings, held legs) writes what waits before it reads.
//   Each waiting record is also appended, as one line, to a record log (one write(2), not
// synced: the same durability as the unsynced commit it replaces), so a crashed or killed
// process loses none of them: the next open writes what the logs hold to the store first. A
// flush starts a new log file and deletes the older ones once the store has their records. The
// logs are one process's (a flock(2) on a lock file beside them), and at the next open the
// last line of a number wins.
// Only a crash of the machine loses records, as it lost unsynced commits before: the retry
// builds the same number, the ledger answers that it holds that payment id, and the paywall
// records what it applied (the earnings report counts that download again only then). A held
// attempt (its uploader leg pending in the ledger until settled) and a pending one are written
// to the store at once: the sweep that settles holds finds them only through their record.
//
// Only for a store no other server shares (PaymentStore::shared_by_servers false): others
// would not see what waits here.
//   Being the only writer, it also keeps two answers in memory that every first purchase asked
// the database for (twice for the attempt: the challenge's grant check and the payment): that
// a payer has no attempt for a file yet, and a file's earnings redirect or its absence. Each
// is dropped by the write that changes it, and a read that raced such a write is not kept (a
// generation counter, core/kept_answers.h). A wrong "no attempt" would not charge twice (the
// attempt it started would have the payment id of the first, which the ledger applies once),
// but it would answer a paid buyer with a 402, and a refused first attempt would be refused
// again after a top-up: latest_attempt takes care to keep none (see it).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <tuple>
#include <utility>

#include "core/kept_answers.h"
#include "payments/payment_store.h"

namespace satload::payments {

inline constexpr std::chrono::milliseconds kAttemptFlushInterval{20};
inline constexpr std::size_t kMaxBufferedAttempts = 4096;
// Beyond these the kept answers start again from empty.
inline constexpr std::size_t kKnownAbsentAttemptsMax = 16384;
inline constexpr std::size_t kCachedRedirectsMax = 16384;

// A waiting record as one line of the record log ("a1" and its fields, space-separated,
// ending in a newline), and back: nullopt for anything else (a line a crash cut short). Only
// records that may wait (granted or failed, not held, no hold outcome, a file id of printable
// characters without spaces) have a line.
[[nodiscard]] std::optional<std::string> attempt_log_line(const PaymentAttempt& attempt);
[[nodiscard]] std::optional<PaymentAttempt> parse_attempt_log_line(std::string_view line);

class BufferedPaymentStore final : public PaymentStore {
public:
    // Writes the records the logs in `log_dir` hold (left by a process that ended without
    // writing them) to `inner`, then starts a new log there.
    static StoreResult<std::unique_ptr<BufferedPaymentStore>> open(
        std::unique_ptr<PaymentStore> inner, const std::filesystem::path& log_dir,
        std::chrono::milliseconds flush_interval = kAttemptFlushInterval);
    // Writes what waits.
    ~BufferedPaymentStore() override;
    BufferedPaymentStore(const BufferedPaymentStore&) = delete;
    BufferedPaymentStore& operator=(const BufferedPaymentStore&) = delete;

    // Writes every waiting record now; on failure they keep waiting.
    StoreResult<void> flush();
    // Records waiting now.
    [[nodiscard]] std::size_t waiting() const;
    // Answers kept in memory now (for tests).
    [[nodiscard]] std::size_t known_absent_attempts() const;
    [[nodiscard]] std::size_t cached_redirects() const;

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
    StoreResult<std::vector<PaymentAttempt>> unsettled_holds(
        const std::string& file_id, std::size_t limit,
        std::optional<HoldCursor> after = {}) override;
    StoreResult<std::vector<std::string>> files_with_unsettled_holds(
        std::size_t limit, const std::string& after_file = {}) override;
    StoreResult<void> settle_hold(AccountId payer, const std::string& file_id, std::int64_t attempt_no,
                                  HoldOutcome outcome, AccountId settled_to) override;
    StoreResult<std::optional<EarningsRedirect>> redirect_of(const std::string& file_id) override;
    StoreResult<void> set_redirect(const EarningsRedirect& redirect) override;

private:
    using Key = std::tuple<AccountId, std::string, std::int64_t>;  // payer, file, number
    using PairKey = std::pair<AccountId, std::string>;             // payer, file
    struct PairHash {
        std::size_t operator()(const PairKey& k) const noexcept;
    };
    BufferedPaymentStore(std::unique_ptr<PaymentStore> inner, std::filesystem::path log_dir,
                         std::chrono::milliseconds flush_interval);
    void flush_every_interval(const std::stop_token& stop);
    // Closes the current log and opens the next (m_mutex held); false when it cannot.
    bool next_log();
    [[nodiscard]] std::filesystem::path log_path(std::uint64_t generation) const;

    std::unique_ptr<PaymentStore> m_inner;
    std::filesystem::path m_log_dir;
    std::chrono::milliseconds m_interval;
    mutable std::mutex m_mutex;  // guards m_waiting and the log
    int m_log_fd = -1;
    std::uint64_t m_log_generation = 0;
    std::uint64_t m_log_lines = 0;  // written to the current log
    std::uint64_t m_oldest_log = 0;  // the oldest log generation not deleted yet (flush's)
    int m_lock_fd = -1;             // flock(2) on the log directory's lock file, held for life
    std::map<Key, PaymentAttempt> m_waiting;
    // Payer and file pairs with no attempt waiting or stored (the value is always true).
    KeptAnswers<PairKey, bool, PairHash> m_known_absent{kKnownAbsentAttemptsMax};
    KeptAnswers<std::string, std::optional<EarningsRedirect>> m_redirects{kCachedRedirectsMax};
    std::mutex m_flush_mutex;  // one flush at a time
    std::condition_variable_any m_wake;
    std::jthread m_flusher;  // last: it uses the members above
};

}  // namespace satload::payments
