#include "payments/buffered_payment_store.h"

#include <limits>
#include <vector>

namespace satload::payments {

BufferedPaymentStore::BufferedPaymentStore(std::unique_ptr<PaymentStore> inner,
                                           std::chrono::milliseconds flush_interval)
    : m_inner(std::move(inner)),
      m_interval(flush_interval),
      m_flusher([this](const std::stop_token& stop) { flush_every_interval(stop); }) {}

BufferedPaymentStore::~BufferedPaymentStore() {
    m_flusher.request_stop();
    m_flusher.join();
    (void)flush();  // a failure loses what the ledger rebuilds
}

void BufferedPaymentStore::flush_every_interval(const std::stop_token& stop) {
    std::unique_lock lock(m_mutex);
    while (!stop.stop_requested()) {
        m_wake.wait_for(lock, stop, m_interval, [] { return false; });
        if (m_waiting.empty()) continue;
        lock.unlock();
        (void)flush();  // on failure they wait for the next round
        lock.lock();
    }
}

StoreResult<void> BufferedPaymentStore::flush() {
    const std::lock_guard flushing(m_flush_mutex);
    std::vector<PaymentAttempt> batch;
    {
        const std::lock_guard lock(m_mutex);
        if (m_waiting.empty()) return {};
        batch.reserve(m_waiting.size());
        for (const auto& [key, attempt] : m_waiting) batch.push_back(attempt);
    }
    // They stay readable here until the store has them: latest_attempt never misses one.
    if (auto r = m_inner->insert_attempts(batch); !r) return r;
    const std::lock_guard lock(m_mutex);
    for (const auto& a : batch) m_waiting.erase(Key{a.payer, a.file_id, a.attempt_no});
    return {};
}

std::size_t BufferedPaymentStore::waiting() const {
    const std::lock_guard lock(m_mutex);
    return m_waiting.size();
}

StoreResult<std::optional<PaymentAttempt>> BufferedPaymentStore::latest_attempt(AccountId payer,
                                                                                 const std::string& file_id) {
    {
        const std::lock_guard lock(m_mutex);
        auto it = m_waiting.upper_bound(Key{payer, file_id, std::numeric_limits<std::int64_t>::max()});
        if (it != m_waiting.begin()) {
            --it;
            if (std::get<0>(it->first) == payer && std::get<1>(it->first) == file_id) {
                return std::optional<PaymentAttempt>(it->second);
            }
        }
    }
    return m_inner->latest_attempt(payer, file_id);
}

StoreResult<void> BufferedPaymentStore::insert_attempt(const PaymentAttempt& attempt) {
    if (attempt.state == AttemptState::pending || attempt.held) {
        if (auto r = flush(); !r) return r;
        return m_inner->insert_attempt(attempt);
    }
    bool full = false;
    {
        const std::lock_guard lock(m_mutex);
        if (!m_waiting.try_emplace(Key{attempt.payer, attempt.file_id, attempt.attempt_no}, attempt).second) {
            return fail(StoreFailure{StoreError::exists, "the attempt is recorded already"});
        }
        full = m_waiting.size() >= kMaxBufferedAttempts;
    }
    // Memory stays bounded: at the limit the payment writes them itself; if that fails, its
    // record is not taken, so the store's failure reaches the payment.
    if (full) {
        if (auto r = flush(); !r) {
            const std::lock_guard lock(m_mutex);
            m_waiting.erase(Key{attempt.payer, attempt.file_id, attempt.attempt_no});
            return r;
        }
    }
    return {};
}

StoreResult<void> BufferedPaymentStore::insert_attempts(std::span<const PaymentAttempt> attempts) {
    if (auto r = flush(); !r) return r;
    return m_inner->insert_attempts(attempts);
}

StoreResult<void> BufferedPaymentStore::finish_attempt(AccountId payer, const std::string& file_id,
                                                       std::int64_t attempt_no, AttemptState state,
                                                       std::int64_t expires_s) {
    if (auto r = flush(); !r) return r;
    return m_inner->finish_attempt(payer, file_id, attempt_no, state, expires_s);
}

StoreResult<void> BufferedPaymentStore::record_recovered_attempt(const PaymentAttempt& attempt) {
    if (auto r = flush(); !r) return r;
    return m_inner->record_recovered_attempt(attempt);
}

StoreResult<std::vector<FileEarnings>> BufferedPaymentStore::earnings(AccountId uploader) {
    if (auto r = flush(); !r) return fail(r.error());
    return m_inner->earnings(uploader);
}

StoreResult<ReferralEarnings> BufferedPaymentStore::referral_earnings(AccountId referrer) {
    if (auto r = flush(); !r) return fail(r.error());
    return m_inner->referral_earnings(referrer);
}

StoreResult<std::optional<std::string>> BufferedPaymentStore::referral_code(AccountId account) {
    return m_inner->referral_code(account);
}

StoreResult<void> BufferedPaymentStore::set_referral_code(AccountId account, const std::string& code) {
    return m_inner->set_referral_code(account, code);
}

StoreResult<std::optional<AccountId>> BufferedPaymentStore::referral_owner(const std::string& code) {
    return m_inner->referral_owner(code);
}

StoreResult<std::vector<PaymentAttempt>> BufferedPaymentStore::unsettled_holds(const std::string& file_id,
                                                                               std::size_t limit) {
    if (auto r = flush(); !r) return fail(r.error());
    return m_inner->unsettled_holds(file_id, limit);
}

StoreResult<std::vector<std::string>> BufferedPaymentStore::files_with_unsettled_holds(std::size_t limit) {
    if (auto r = flush(); !r) return fail(r.error());
    return m_inner->files_with_unsettled_holds(limit);
}

StoreResult<void> BufferedPaymentStore::settle_hold(AccountId payer, const std::string& file_id,
                                                    std::int64_t attempt_no, HoldOutcome outcome,
                                                    AccountId settled_to) {
    if (auto r = flush(); !r) return r;
    return m_inner->settle_hold(payer, file_id, attempt_no, outcome, settled_to);
}

StoreResult<std::optional<EarningsRedirect>> BufferedPaymentStore::redirect_of(const std::string& file_id) {
    return m_inner->redirect_of(file_id);
}

StoreResult<void> BufferedPaymentStore::set_redirect(const EarningsRedirect& redirect) {
    return m_inner->set_redirect(redirect);
}

}  // namespace satload::payments
