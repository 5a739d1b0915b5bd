// PaymentStore on SQLite: shares meta.sqlite (tables payment_*, own version table), WAL and
// synchronous=FULL, so a returned call is durable (the attempts' writes are not: see
// insert_attempt); reads use a second connection.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>

#include "payments/payment_store.h"
#include "store/sqlite_group_commit.h"

struct sqlite3;

namespace satload::payments {

inline constexpr int kSqlitePaymentBusyTimeoutMs = 5000;

class SqlitePaymentStore final : public PaymentStore {
public:
    static StoreResult<std::unique_ptr<SqlitePaymentStore>> open(const std::filesystem::path& db_file);
    ~SqlitePaymentStore() override;
    SqlitePaymentStore(const SqlitePaymentStore&) = delete;
    SqlitePaymentStore& operator=(const SqlitePaymentStore&) = delete;

    // One server: the ledger in the same data directory is locked by it.
    [[nodiscard]] bool shared_by_servers() const override { return false; }
    StoreResult<std::optional<PaymentAttempt>> latest_attempt(AccountId payer,
                                                               const std::string& file_id) override;
    StoreResult<void> insert_attempt(const PaymentAttempt& attempt) override;
    // One unsynced transaction for all of them.
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

    // Synced commits so far (a held attempt's record is one; see insert_attempt).
    [[nodiscard]] std::size_t synced_commits() const { return m_writes.commits(); }

private:
    SqlitePaymentStore(sqlite3* db, sqlite3* read_db);
    std::mutex m_mutex;  // the writing connection, used by one call at a time
    sqlite3* m_db;
    // Reads go through a connection of their own (WAL: readers see every commit and never wait
    // for a writer), so a payment's reads do not queue behind another group's sync.
    std::mutex m_read_mutex;
    sqlite3* m_read_db;
    // Attempts and their outcomes are committed unsynced (durable with the next synced commit
    // on meta.sqlite): a payment's one sync is the ledger's (see insert_attempt).
    store::sqlite::GroupCommit m_writes{m_db, m_mutex};
};

}  // namespace satload::payments
