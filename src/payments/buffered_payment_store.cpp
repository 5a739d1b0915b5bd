#include "payments/buffered_payment_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace satload::payments {
namespace {

constexpr std::string_view kLineTag = "a1";
constexpr std::string_view kLogSuffix = ".log";
constexpr std::string_view kLockName = "lock";
constexpr int kLogFields = 14;  // the tag and 13 fields
// A line is far shorter (13 numbers and a file id); anything longer is not one.
constexpr std::size_t kMaxLogLineBytes = 1024;

bool may_wait(const PaymentAttempt& a) {
    return (a.state == AttemptState::granted || a.state == AttemptState::failed) && !a.held &&
           a.hold_outcome == HoldOutcome::none && !a.settled_to;
}

bool plain_word(std::string_view s) {
    return !s.empty() && s.size() <= kMaxLogLineBytes &&
           std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

std::string optional_text(const std::optional<AccountId>& v) { return v ? std::to_string(*v) : "-"; }

bool parse_i64(std::string_view s, std::int64_t& out) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

bool parse_optional(std::string_view s, std::optional<AccountId>& out) {
    if (s == "-") {
        out.reset();
        return true;
    }
    std::int64_t v = 0;
    if (!parse_i64(s, v)) return false;
    out = v;
    return true;
}

StoreFailure log_failure(std::string_view what, int err) {
    return StoreFailure{StoreError::io, fmt::format("payment record log: {}: {}", what, std::strerror(err))};
}

}  // namespace

std::optional<std::string> attempt_log_line(const PaymentAttempt& a) {
    if (!may_wait(a) || !plain_word(a.file_id)) return std::nullopt;
    std::string line = fmt::format("{} {} {} {} {} {} {} {} {} {} {} {} {} {}\n", kLineTag, a.payer, a.file_id, a.attempt_no,
                       a.state == AttemptState::granted ? 'g' : 'f', a.uploader, optional_text(a.referrer),
                       a.price_msat, a.uploader_msat, a.referrer_msat, a.platform_msat, a.created_s, a.expires_s,
                       optional_text(a.payee));
    if (line.size() > kMaxLogLineBytes) return std::nullopt;  // the parser's bound: written at once
    return line;
}

std::optional<PaymentAttempt> parse_attempt_log_line(std::string_view line) {
    if (line.size() > kMaxLogLineBytes || line.empty() || line.back() != '\n') return std::nullopt;
    line.remove_suffix(1);
    std::string_view fields[kLogFields];
    int n = 0;
    while (!line.empty()) {
        if (n == kLogFields) return std::nullopt;
        const std::size_t space = line.find(' ');
        fields[n++] = line.substr(0, space);
        if (space == std::string_view::npos) break;
        line.remove_prefix(space + 1);
        if (line.empty()) return std::nullopt;  // a trailing space
    }
    if (n != kLogFields || fields[0] != kLineTag || !plain_word(fields[2])) return std::nullopt;
    PaymentAttempt a;
    a.file_id = std::string(fields[2]);
    if (fields[4] == "g") {
        a.state = AttemptState::granted;
    } else if (fields[4] == "f") {
        a.state = AttemptState::failed;
    } else {
        return std::nullopt;
    }
    if (!parse_i64(fields[1], a.payer) || !parse_i64(fields[3], a.attempt_no) || !parse_i64(fields[5], a.uploader) ||
        !parse_optional(fields[6], a.referrer) || !parse_i64(fields[7], a.price_msat) ||
        !parse_i64(fields[8], a.uploader_msat) || !parse_i64(fields[9], a.referrer_msat) ||
        !parse_i64(fields[10], a.platform_msat) || !parse_i64(fields[11], a.created_s) ||
        !parse_i64(fields[12], a.expires_s) || !parse_optional(fields[13], a.payee)) {
        return std::nullopt;
    }
    // What the attempts table's CHECKs require (a line refused here is one a store would
    // refuse, with the whole batch it came in).
    std::int64_t sum = 0;
    if (a.attempt_no < 1 || a.price_msat <= 0 || a.uploader_msat < 0 || a.referrer_msat < 0 || a.platform_msat < 0 ||
        __builtin_add_overflow(a.uploader_msat, a.referrer_msat, &sum) ||
        __builtin_add_overflow(sum, a.platform_msat, &sum) || sum != a.price_msat) {
        return std::nullopt;
    }
    return a;
}

StoreResult<std::unique_ptr<BufferedPaymentStore>> BufferedPaymentStore::open(
    std::unique_ptr<PaymentStore> inner, const std::filesystem::path& log_dir,
    std::chrono::milliseconds flush_interval) {
    std::error_code ec;
    std::filesystem::create_directories(log_dir, ec);
    if (ec) return fail(StoreFailure{StoreError::io, "payment record log: " + ec.message()});
    // The logs are this process's from here until it ends: a second one on the same data
    // directory (refused later by the ledger's lock) must not replay and delete them first.
    const int lock_fd = ::open((log_dir / kLockName).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0) return fail(log_failure("open its lock", errno));
    if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        ::close(lock_fd);
        if (err == EWOULDBLOCK) {
            return fail(StoreFailure{StoreError::io, "payment record log: another process holds it"});
        }
        return fail(log_failure("lock", err));
    }
    struct LockGuard {  // closed on every early return, handed to the store at the end
        int fd;
        ~LockGuard() {
            if (fd >= 0) ::close(fd);
        }
    } log_lock{lock_fd};
    // What a process that ended without writing its records left: written now, then the logs
    // go. A line a crash cut short (the last of its file) is not a record, and was never
    // acknowledged as one: its payment's answer came after the write.
    std::vector<std::pair<std::uint64_t, std::filesystem::path>> logs;
    for (const auto& entry : std::filesystem::directory_iterator(log_dir, ec)) {
        const auto name = entry.path().filename().string();
        std::uint64_t generation = 0;
        const auto [end, err] = std::from_chars(name.data(), name.data() + name.size(), generation);
        if (err != std::errc() || std::string_view(end) != kLogSuffix) continue;
        logs.emplace_back(generation, entry.path());
    }
    if (ec) return fail(StoreFailure{StoreError::io, "payment record log: " + ec.message()});
    // In the order they were written, the last line of a number winning: a record whose
    // payment was answered with a failure may be followed by its retry's.
    std::sort(logs.begin(), logs.end());
    std::map<Key, PaymentAttempt> left;
    for (const auto& [generation, path] : logs) {
        std::ifstream in(path, std::ios::binary);
        std::string line;
        while (std::getline(in, line)) {
            if (!in.eof()) line.push_back('\n');  // the last line without one was cut short
            if (auto a = parse_attempt_log_line(line)) {
                left.insert_or_assign(Key{a->payer, a->file_id, a->attempt_no}, std::move(*a));
            }
        }
    }
    if (!left.empty()) {
        std::vector<PaymentAttempt> records;
        records.reserve(left.size());
        for (auto& [key, a] : left) records.push_back(std::move(a));
        if (auto r = inner->insert_attempts(records); !r) return fail(r.error());
    }
    for (const auto& [generation, path] : logs) std::filesystem::remove(path, ec);
    const std::uint64_t last_generation = logs.empty() ? 0 : logs.back().first;
    auto store = std::unique_ptr<BufferedPaymentStore>(
        new BufferedPaymentStore(std::move(inner), log_dir, flush_interval));
    store->m_log_generation = last_generation;
    store->m_oldest_log = last_generation + 1;  // the one next_log opens: the older ones are gone
    store->m_lock_fd = std::exchange(log_lock.fd, -1);
    {
        const std::lock_guard lock(store->m_mutex);
        if (!store->next_log()) return fail(log_failure("open", errno));
    }
    return store;
}

BufferedPaymentStore::BufferedPaymentStore(std::unique_ptr<PaymentStore> inner, std::filesystem::path log_dir,
                                           std::chrono::milliseconds flush_interval)
    : m_inner(std::move(inner)),
      m_log_dir(std::move(log_dir)),
      m_interval(flush_interval),
      m_flusher([this](const std::stop_token& stop) { flush_every_interval(stop); }) {}

BufferedPaymentStore::~BufferedPaymentStore() {
    m_flusher.request_stop();
    m_flusher.join();
    (void)flush();  // on failure the logs stay, for the next open
    if (m_log_fd >= 0) ::close(m_log_fd);
    if (m_waiting.empty()) {
        std::error_code ec;
        std::filesystem::remove(log_path(m_log_generation), ec);
    }
    if (m_lock_fd >= 0) ::close(m_lock_fd);  // last: the logs are settled
}

std::filesystem::path BufferedPaymentStore::log_path(std::uint64_t generation) const {
    return m_log_dir / fmt::format("{:020}{}", generation, kLogSuffix);
}

bool BufferedPaymentStore::next_log() {
    const int fd = ::open(log_path(m_log_generation + 1).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
                          0600);
    if (fd < 0) return false;
    if (m_log_fd >= 0) ::close(m_log_fd);
    m_log_fd = fd;
    ++m_log_generation;
    m_log_lines = 0;
    return true;
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
    std::uint64_t logged_up_to = 0;  // the logs holding the batch: this generation and before
    {
        const std::lock_guard lock(m_mutex);
        if (m_waiting.empty()) return {};
        batch.reserve(m_waiting.size());
        for (const auto& [key, attempt] : m_waiting) batch.push_back(attempt);
        // Later records go to a new log, which this flush leaves alone. When no new log can
        // be opened, they go on in this one, which then stays until a later flush. A current
        // log without lines (a flush before failed after starting it) is kept, not replaced:
        // everything waiting is in the older ones.
        if (m_log_lines == 0) {
            logged_up_to = m_log_generation - 1;
        } else {
            logged_up_to = next_log() ? m_log_generation - 1 : 0;
        }
    }
    // They stay readable here until the store has them: latest_attempt never misses one.
    if (auto r = m_inner->insert_attempts(batch); !r) return r;
    {
        const std::lock_guard lock(m_mutex);
        for (const auto& a : batch) m_waiting.erase(Key{a.payer, a.file_id, a.attempt_no});
    }
    // The logs up to the batch's hold only records the store has now.
    std::error_code ec;
    for (; m_oldest_log <= logged_up_to; ++m_oldest_log) std::filesystem::remove(log_path(m_oldest_log), ec);
    return {};
}

std::size_t BufferedPaymentStore::waiting() const {
    const std::lock_guard lock(m_mutex);
    return m_waiting.size();
}

std::size_t BufferedPaymentStore::PairHash::operator()(const PairKey& k) const noexcept {
    return std::hash<std::string>{}(k.second) ^
           (static_cast<std::size_t>(k.first) * 0x9e3779b97f4a7c15ULL);
}

std::size_t BufferedPaymentStore::known_absent_attempts() const { return m_known_absent.size(); }

std::size_t BufferedPaymentStore::cached_redirects() const { return m_redirects.size(); }

StoreResult<std::optional<PaymentAttempt>> BufferedPaymentStore::latest_attempt(AccountId payer,
                                                                                 const std::string& file_id) {
    // The kept answer's generation first, the waiting records second: an attempt that starts
    // waiting after this lookup bumped the generation before it could be flushed, so a "none"
    // read from the store meanwhile is not kept. (The other order let an attempt start
    // waiting between the two, and a "none" read before its flush stayed kept after it.)
    PairKey pair{payer, file_id};
    const auto kept = m_known_absent.find(pair);
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
    // A "none" kept here may answer a read that overlaps an attempt's write: the write has not
    // returned yet (it forgets the answer before it does).
    if (kept.value) return std::optional<PaymentAttempt>();
    auto latest = m_inner->latest_attempt(payer, file_id);
    if (latest && !*latest) m_known_absent.keep(std::move(pair), true, kept.generation);
    return latest;
}

StoreResult<void> BufferedPaymentStore::insert_attempt(const PaymentAttempt& attempt) {
    // A pending or held attempt has no line: it goes to the store at once, after what waits.
    const auto line = attempt_log_line(attempt);
    bool full = false;
    bool logged = false;
    if (line) {
        const std::lock_guard lock(m_mutex);
        const Key key{attempt.payer, attempt.file_id, attempt.attempt_no};
        if (m_waiting.contains(key)) {
            return fail(StoreFailure{StoreError::exists, "the attempt is recorded already"});
        }
        // One write of the whole line (O_APPEND): a short one (the disk full) is a line cut
        // short, which the next open skips; this record then goes to the store at once, and
        // later lines to a new log, so none is glued to the cut one.
        const ssize_t n = ::write(m_log_fd, line->data(), line->size());
        if (n == static_cast<ssize_t>(line->size())) {
            ++m_log_lines;
            m_waiting.emplace(key, attempt);
            full = m_waiting.size() >= kMaxBufferedAttempts;
            logged = true;
        } else if (n > 0) {
            (void)next_log();
        }
    }
    if (logged) m_known_absent.forget(PairKey{attempt.payer, attempt.file_id});
    if (!logged) {
        if (auto r = flush(); !r) return r;
        auto r = m_inner->insert_attempt(attempt);
        m_known_absent.forget(PairKey{attempt.payer, attempt.file_id});
        return r;
    }
    // Memory stays bounded: at the limit the payment writes them itself; if that fails, its
    // record is not taken, so the store's failure reaches the payment.
    if (full) {
        if (auto r = flush(); !r) {
            {
                const std::lock_guard lock(m_mutex);
                m_waiting.erase(Key{attempt.payer, attempt.file_id, attempt.attempt_no});
            }
            m_known_absent.forget(
                PairKey{attempt.payer, attempt.file_id});  // the flush may have applied
            return r;
        }
    }
    return {};
}

StoreResult<void> BufferedPaymentStore::insert_attempts(std::span<const PaymentAttempt> attempts) {
    if (auto r = flush(); !r) return r;
    auto r = m_inner->insert_attempts(attempts);
    for (const PaymentAttempt& a : attempts) m_known_absent.forget(PairKey{a.payer, a.file_id});
    return r;
}

StoreResult<void> BufferedPaymentStore::finish_attempt(AccountId payer, const std::string& file_id,
                                                       std::int64_t attempt_no, AttemptState state,
                                                       std::int64_t expires_s) {
    if (auto r = flush(); !r) return r;
    auto r = m_inner->finish_attempt(payer, file_id, attempt_no, state, expires_s);
    m_known_absent.forget(PairKey{payer, file_id});
    return r;
}

StoreResult<void> BufferedPaymentStore::record_recovered_attempt(const PaymentAttempt& attempt) {
    if (auto r = flush(); !r) return r;
    auto r = m_inner->record_recovered_attempt(attempt);
    m_known_absent.forget(PairKey{attempt.payer, attempt.file_id});
    return r;
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

StoreResult<std::vector<PaymentAttempt>> BufferedPaymentStore::unsettled_holds(
    const std::string& file_id, std::size_t limit, std::optional<HoldCursor> after) {
    if (auto r = flush(); !r) return fail(r.error());
    return m_inner->unsettled_holds(file_id, limit, after);
}

StoreResult<std::vector<std::string>> BufferedPaymentStore::files_with_unsettled_holds(
    std::size_t limit, const std::string& after_file) {
    if (auto r = flush(); !r) return fail(r.error());
    return m_inner->files_with_unsettled_holds(limit, after_file);
}

StoreResult<void> BufferedPaymentStore::settle_hold(AccountId payer, const std::string& file_id,
                                                    std::int64_t attempt_no, HoldOutcome outcome,
                                                    AccountId settled_to) {
    if (auto r = flush(); !r) return r;
    return m_inner->settle_hold(payer, file_id, attempt_no, outcome, settled_to);
}

StoreResult<std::optional<EarningsRedirect>> BufferedPaymentStore::redirect_of(const std::string& file_id) {
    auto kept = m_redirects.find(file_id);
    if (kept.value) return std::move(*kept.value);
    auto redirect = m_inner->redirect_of(file_id);
    if (redirect) m_redirects.keep(file_id, *redirect, kept.generation);
    return redirect;
}

StoreResult<void> BufferedPaymentStore::set_redirect(const EarningsRedirect& redirect) {
    auto r = m_inner->set_redirect(redirect);
    m_redirects.forget(redirect.file_id);  // whatever the outcome: a failed write may have applied
    return r;
}

}  // namespace satload::payments
