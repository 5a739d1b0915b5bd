// ChainStore's shared pieces: the deposit statuses' names, as every implementation stores them.
#include "onchain/chain_store.h"

namespace satload::onchain {

std::string_view deposit_status_name(DepositStatus s) {
    switch (s) {
        case DepositStatus::pending: return "pending";
        case DepositStatus::credited: return "credited";
        case DepositStatus::orphaned: return "orphaned";
        case DepositStatus::reversing: return "reversing";
        case DepositStatus::reversed: return "reversed";
    }
    return "pending";
}

DepositStatus parse_deposit_status(std::string_view name) {
    if (name == "credited") return DepositStatus::credited;
    if (name == "orphaned") return DepositStatus::orphaned;
    if (name == "reversing") return DepositStatus::reversing;
    if (name == "reversed") return DepositStatus::reversed;
    return DepositStatus::pending;
}

}  // namespace satload::onchain
