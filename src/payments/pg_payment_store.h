// PaymentStore on PostgreSQL (serve --db postgresql://…): the payment_* tables in the
// deployment's schema, component "payments" of its migrations. Every call is one durable
// transaction (insert_attempt's waits for no WAL flush: see there) and nothing is cached, so
// several server processes share the tables; an attempt or a referral code inserted by two of
// them at once is recorded once (`exists`).
#pragma once

#include <memory>

#include "payments/payment_store.h"
#include "store/pg_db.h"

namespace satload::payments {

inline constexpr std::string_view kPgPaymentComponent = "payments";

class PgPaymentStore final : public PaymentStore {
public:
    // Brings the payment tables to this program's version (once, however many start together).
    static StoreResult<std::unique_ptr<PgPaymentStore>> open(std::shared_ptr<store::PgDb> db);

    [[nodiscard]] bool shared_by_servers() const override { return true; }
    StoreResult<std::optional<PaymentAttempt>> latest_attempt(AccountId payer,
                                                              const std::string& file_id) override;
    StoreResult<void> insert_attempt(const PaymentAttempt& attempt) override;
    // Durable when it returns (PostgreSQL has no cheaper unsynced commit worth its risk here).
    StoreResult<void> finish_attempt(AccountId payer, const std::string& file_id,
                                     std::int64_t attempt_no, AttemptState state,
                                     std::int64_t expires_s) override;
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
    StoreResult<void> settle_hold(AccountId payer, const std::string& file_id,
                                  std::int64_t attempt_no, HoldOutcome outcome,
                                  AccountId settled_to) override;
    StoreResult<std::optional<EarningsRedirect>> redirect_of(const std::string& file_id) override;
    StoreResult<void> set_redirect(const EarningsRedirect& redirect) override;

private:
    explicit PgPaymentStore(std::shared_ptr<store::PgDb> db) : m_db(std::move(db)) {}
    std::shared_ptr<store::PgDb> m_db;
};

}  // namespace satload::payments
