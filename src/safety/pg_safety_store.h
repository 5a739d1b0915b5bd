// SafetyStore on PostgreSQL (`serve --db postgresql://…`): the same safety_* tables as the
// SQLite store in the deployment's schema, shared by every server process, one transaction a
// call. The admin log refuses UPDATE, DELETE and TRUNCATE in the database itself (triggers).
#pragma once

#include <memory>
#include <string_view>

#include "safety/safety_store.h"
#include "store/pg_db.h"

namespace satload::safety {

// The "safety" component's schema version this program writes (steps in the .cpp).
inline constexpr int kPgSafetySchemaVersion = 1;
// The component name under which the migrations are recorded.
inline constexpr std::string_view kPgSafetyComponent = "safety";

class PgSafetyStore final : public SafetyStore {
public:
    // Applies pending migrations (once, however many processes open at the same time); a
    // database whose "safety" schema is newer than this program's is refused.
    static StoreResult<std::unique_ptr<PgSafetyStore>> open(std::shared_ptr<store::PgDb> db);
    PgSafetyStore(const PgSafetyStore&) = delete;
    PgSafetyStore& operator=(const PgSafetyStore&) = delete;

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

    // The safety schema version recorded in the database.
    StoreResult<int> schema_version();

private:
    explicit PgSafetyStore(std::shared_ptr<store::PgDb> db) : m_db(std::move(db)) {}
    std::shared_ptr<store::PgDb> m_db;
};

}  // namespace satload::safety
