// Names of the store errors.
#include "ledger/ledger_store.h"

namespace satload::ledger {

std::string_view store_error_name(StoreError e) {
    switch (e) {
        case StoreError::io: return "io";
        case StoreError::corrupt: return "corrupt";
        case StoreError::unsupported: return "unsupported";
        case StoreError::locked: return "locked";
    }
    return "unknown";
}

}  // namespace satload::ledger
