// load_or_create_shared_seed: one row, written once with INSERT … ON CONFLICT DO NOTHING and
// read back in the same transaction, so racing instances all end with the row that won.
#include "onchain/pg_seed_store.h"

#include "core/check.h"
#include "crypto/primitives.h"

namespace satload::onchain {
namespace {

// Step N (0-based) takes the seed table from version N to N + 1. Append only.
constexpr std::string_view kMigrations[] = {
    // 1: the encrypted seed, one row (id 1), the bytes of a seed file.
    R"sql(
CREATE TABLE wallet_seed (
    id         SMALLINT PRIMARY KEY CHECK (id = 1),
    sealed     BYTEA NOT NULL CHECK (length(sealed) = 92),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
)sql",
};
static_assert(kSeedFileBytes == 92, "the wallet_seed CHECK names the seed file's size");

SeedFailure db_failure(const store::StoreFailure& f) {
    return SeedFailure{SeedError::database, "the database's wallet seed: " + f.message};
}

struct Stored {
    Bytes sealed;           // the database's seed after the call
    bool inserted = false;  // it is the one this call offered
};

// Stores `sealed` unless a seed is stored already, and returns the stored one (ours or the
// earlier one). The hex crosses the wire as text: nothing to escape.
Result<Stored, SeedFailure> store_once(store::PgDb& db, const Bytes& sealed) {
    auto stored = db.transact("store the wallet seed", [&](pqxx::work& w) -> store::StoreResult<Stored> {
        Stored out;
        out.inserted = !w.exec_params("INSERT INTO wallet_seed (id, sealed) VALUES (1, decode($1, 'hex')) "
                                      "ON CONFLICT (id) DO NOTHING RETURNING id",
                                      hex_encode(sealed))
                            .empty();
        // A racing insert that committed first is visible to this new statement (READ COMMITTED).
        const auto row = w.exec1("SELECT encode(sealed, 'hex') FROM wallet_seed WHERE id = 1");
        auto bytes = hex_decode(row[0].c_str());
        if (!bytes) return fail(store::StoreFailure{store::StoreError::io, "the stored seed does not decode"});
        out.sealed = std::move(*bytes);
        return out;
    });
    if (!stored) return fail(db_failure(stored.error()));
    return std::move(*stored);
}

Result<std::optional<Bytes>, SeedFailure> stored_seed(store::PgDb& db) {
    auto stored = db.read("read the wallet seed", [](pqxx::nontransaction& n) -> store::StoreResult<std::optional<Bytes>> {
        const auto rows = n.exec("SELECT encode(sealed, 'hex') FROM wallet_seed WHERE id = 1");
        if (rows.empty()) return std::optional<Bytes>();
        auto bytes = hex_decode(rows[0][0].c_str());
        if (!bytes) return fail(store::StoreFailure{store::StoreError::io, "the stored seed does not decode"});
        return std::optional<Bytes>(std::move(*bytes));
    });
    if (!stored) return fail(db_failure(stored.error()));
    return std::move(*stored);
}

Result<SeedEntropy, SeedFailure> open_stored(const Bytes& sealed, std::string_view passphrase) {
    auto entropy = decrypt_seed(sealed, passphrase);
    if (!entropy && entropy.error().code == SeedError::wrong_passphrase) {
        return fail(SeedFailure{SeedError::wrong_passphrase,
                                "the seed passphrase does not open the database's wallet seed"});
    }
    return entropy;
}

}  // namespace

store::StoreResult<void> migrate_shared_seed(store::PgDb& db) {
    if (auto r = db.migrate(kPgSeedComponent, kMigrations); !r) return fail(r.error());
    return {};
}

Result<LoadedSeed, SeedFailure> load_or_create_shared_seed(store::PgDb& db, const std::filesystem::path& file,
                                                           std::string_view passphrase, SeedKdfParams params) {
    if (auto r = migrate_shared_seed(db); !r) return fail(db_failure(r.error()));
    auto from_file = read_seed_file(file);
    if (!from_file) return fail(from_file.error());

    if (!*from_file) {
        auto existing = stored_seed(db);
        if (!existing) return fail(existing.error());
        if (*existing) {
            auto entropy = open_stored(**existing, passphrase);
            if (!entropy) return fail(entropy.error());
            return LoadedSeed{*entropy, false, false};
        }
        // None yet: offer fresh entropy; another instance's may win the insert.
        LoadedSeed mine;
        crypto::random_bytes(mine.entropy.bytes);
        const Bytes sealed = encrypt_seed(mine.entropy, passphrase, params);
        auto stored = store_once(db, sealed);
        if (!stored) return fail(stored.error());
        if (stored->inserted) {
            mine.created = true;
            return mine;
        }
        auto entropy = open_stored(stored->sealed, passphrase);
        if (!entropy) return fail(entropy.error());
        return LoadedSeed{*entropy, false, false};
    }

    // The data directory has a seed file: it must open, then it is the database's seed unless
    // the database has one already, which must then be the same seed.
    const Bytes& file_bytes = **from_file;
    auto file_entropy = decrypt_seed(file_bytes, passphrase);
    if (!file_entropy) return fail(file_entropy.error());
    auto stored = store_once(db, file_bytes);
    if (!stored) return fail(stored.error());
    if (stored->inserted || stored->sealed == file_bytes) {
        // Ours went in now, or an earlier start of this directory put it there.
        return LoadedSeed{*file_entropy, false, stored->inserted};
    }
    // The same seed sealed twice differs in salt and nonce: compare what they seal.
    auto db_entropy = open_stored(stored->sealed, passphrase);
    if (!db_entropy) {
        if (db_entropy.error().code != SeedError::wrong_passphrase) return fail(db_entropy.error());
        return fail(SeedFailure{SeedError::conflict, file.string() +
                                                         " holds a different wallet seed (or passphrase) than the "
                                                         "database; move one of them away"});
    }
    if (!crypto::constant_time_equal(db_entropy->bytes, file_entropy->bytes)) {
        return fail(SeedFailure{SeedError::conflict,
                                file.string() + " holds a different wallet seed than the database; move one of them away"});
    }
    return LoadedSeed{*db_entropy, false, false};
}

}  // namespace satload::onchain
