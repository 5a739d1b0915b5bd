// PgLease: take or keep a session advisory lock on a dedicated connection.
#include "store/pg_lease.h"

namespace satload::store {

PgLease::PgLease(std::string conninfo, std::string schema, std::string name)
    : m_conninfo(std::move(conninfo)), m_key(std::move(schema) + ":" + std::move(name)) {}

PgLease::~PgLease() { release(); }

bool PgLease::hold() {
    try {
        if (!m_conn || !m_conn->is_open()) {
            m_held = false;
            m_conn = std::make_unique<pqxx::connection>(m_conninfo);
        }
        pqxx::nontransaction n(*m_conn);
        if (m_held) {
            // Still ours while the session lives: ask the server that it does.
            n.exec("SELECT 1");
            return true;
        }
        m_held = n.exec("SELECT pg_try_advisory_lock(hashtext(" + n.quote("satload-lease:" + m_key) + "))")[0][0]
                     .as<bool>();
        return m_held;
    } catch (const std::exception&) {
        // The session is gone, and the lock with it: start afresh on the next call.
        m_conn.reset();
        m_held = false;
        return false;
    }
}

void PgLease::release() {
    if (m_held && m_conn) {
        try {
            // At once: the server ends a closed connection's session a moment later.
            pqxx::nontransaction n(*m_conn);
            n.exec("SELECT pg_advisory_unlock(hashtext(" + n.quote("satload-lease:" + m_key) + "))");
        } catch (const std::exception&) {
            // The session is gone already, and the lock with it.
        }
    }
    m_held = false;
    m_conn.reset();
}

}  // namespace satload::store
