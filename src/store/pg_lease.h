// PgLease: a named lease that at most one process of a deployment holds at a time (the chain
// watcher's, so that one instance follows the node): a PostgreSQL session advisory lock on a
// connection of its own. It ends with its holder: a killed process's connection closes, the
// server ends the session and frees the lock, and another process takes it on its next try.
#pragma once

#include <memory>
#include <string>

#include <pqxx/pqxx>

namespace satload::store {

class PgLease {
public:
    // `conninfo` as PgDb::conninfo(); the lease's name is `schema` + ":" + `name`, so
    // deployments in different schemas of one database do not share leases.
    PgLease(std::string conninfo, std::string schema, std::string name);
    ~PgLease();
    PgLease(const PgLease&) = delete;
    PgLease& operator=(const PgLease&) = delete;

    // True when this process holds the lease after the call: a held lease is checked (its
    // connection must still answer), a free one is taken. Never waits for the holder.
    [[nodiscard]] bool hold();
    // Gives the lease up (closing the connection ends the session and the lock with it).
    void release();
    [[nodiscard]] bool held() const { return m_held; }

private:
    std::string m_conninfo;
    std::string m_key;
    std::unique_ptr<pqxx::connection> m_conn;
    bool m_held = false;
};

}  // namespace satload::store
