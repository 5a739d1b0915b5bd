// SafetyStore on SQLite: shares meta.sqlite (tables safety_*, own version table
// safety_schema_version), WAL and synchronous=FULL, so a returned call is durable. The admin
// log refuses UPDATE and DELETE in the database itself (triggers).
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>

#include "safety/safety_store.h"

struct sqlite3;

namespace satload::safety {

inline constexpr int kSqliteSafetyBusyTimeoutMs = 5000;

class SqliteSafetyStore final : public SafetyStore {
public:
    static StoreResult<std::unique_ptr<SqliteSafetyStore>> open(const std::filesystem::path& db_file);
    ~SqliteSafetyStore() override;
    SqliteSafetyStore(const SqliteSafetyStore&) = delete;
    SqliteSafetyStore& operator=(const SqliteSafetyStore&) = delete;

    StoreResult<ReportRecord> insert_report(const ReportRecord& report) override;
    StoreResult<std::optional<ReportRecord>> get_report(std::int64_t report_id) override;
    StoreResult<std::vector<ReportRecord>> open_reports(std::size_t limit) override;
    StoreResult<int> resolve_reports(const std::string& file_id, ReportState state, std::int64_t at_s) override;
    StoreResult<int> resolve_report(std::int64_t report_id, ReportState state, std::int64_t at_s) override;
    StoreResult<std::vector<std::string>> files_with_open_reports(Category category) override;
    StoreResult<TakedownRecord> insert_takedown(const TakedownRecord& takedown,
                                                const std::optional<NoticeRecord>& notice,
                                                const LogEntry& log) override;
    StoreResult<std::vector<TakedownRecord>> active_takedowns() override;
    StoreResult<TakedownRecord> restore_takedown(const std::string& file_id, std::int64_t at_s,
                                                 const LogEntry& log) override;
    StoreResult<std::uint64_t> strikes(AccountId account) override;
    StoreResult<std::vector<NoticeRecord>> notices(AccountId account, std::size_t limit) override;
    StoreResult<NoticeRecord> counter_notice(AccountId account, std::int64_t notice_id, const std::string& text,
                                             std::int64_t at_s) override;
    StoreResult<std::vector<std::string>> blocked_digests() override;
    StoreResult<std::vector<AccountFlags>> frozen_accounts() override;
    StoreResult<void> set_frozen(AccountId account, std::int64_t frozen_s, const LogEntry& log) override;
    StoreResult<LogEntry> append_log(const LogEntry& entry) override;
    StoreResult<std::vector<LogEntry>> log(std::int64_t after_seq, std::size_t limit) override;
    StoreResult<TransparencyCounts> transparency(std::int64_t since_s) override;

private:
    explicit SqliteSafetyStore(sqlite3* db);
    StoreResult<LogEntry> append_log_locked(const LogEntry& entry);
    std::mutex m_mutex;  // one connection, used by one call at a time
    sqlite3* m_db;
};

}  // namespace satload::safety
