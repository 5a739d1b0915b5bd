// BIP32 derivation and serialization over libsecp256k1's tweaks (keys.h).
#include "chain/bip32.h"

#include <charconv>

#include "chain/base58.h"
#include "chain/hashes.h"
#include "core/check.h"
#include "crypto/primitives.h"

namespace satload::chain {
namespace {

constexpr std::string_view kMasterHmacKey = "Bitcoin seed";
constexpr std::uint32_t kBip84Purpose = 84;

void put_u32_be(std::uint8_t* out, std::uint32_t v) {
    out[0] = static_cast<std::uint8_t>(v >> 24);
    out[1] = static_cast<std::uint8_t>(v >> 16);
    out[2] = static_cast<std::uint8_t>(v >> 8);
    out[3] = static_cast<std::uint8_t>(v);
}

std::uint32_t get_u32_be(const std::uint8_t* in) {
    return (static_cast<std::uint32_t>(in[0]) << 24) | (static_cast<std::uint32_t>(in[1]) << 16) |
           (static_cast<std::uint32_t>(in[2]) << 8) | static_cast<std::uint32_t>(in[3]);
}

// Splits I = HMAC-SHA512 into I_L (the tweak or key) and I_R (the chain code).
struct SplitHmac {
    std::array<std::uint8_t, 32> left{};
    ChainCode right{};
    explicit SplitHmac(Sha512Digest i) {
        std::copy(i.begin(), i.begin() + 32, left.begin());
        std::copy(i.begin() + 32, i.end(), right.begin());
        crypto::secure_wipe(i);
    }
    SplitHmac(const SplitHmac&) = delete;
    SplitHmac& operator=(const SplitHmac&) = delete;
    ~SplitHmac() {
        crypto::secure_wipe(left);
        crypto::secure_wipe(right);
    }
};

Bytes serialize(const ExtendedKey& key, std::uint32_t version, bool with_private) {
    Bytes out(kExtendedKeyBytes, 0);
    put_u32_be(&out[0], version);
    out[4] = key.depth;
    put_u32_be(&out[5], key.parent_fingerprint);
    put_u32_be(&out[9], key.child_number);
    std::copy(key.chain_code.begin(), key.chain_code.end(), out.begin() + 13);
    if (with_private) {
        SATLOAD_ASSERT(key.private_key.has_value());
        out[45] = 0x00;
        std::copy(key.private_key->bytes().begin(), key.private_key->bytes().end(),
                  out.begin() + 46);
    } else {
        std::copy(key.public_key.bytes().begin(), key.public_key.bytes().end(), out.begin() + 45);
    }
    return out;
}

std::string encode(const ExtendedKey& key, std::uint32_t version, bool with_private) {
    Bytes data = serialize(key, version, with_private);
    std::string out = base58check_encode(data);
    crypto::secure_wipe(data.data(), data.size());
    return out;
}

struct VersionInfo {
    Network network;
    bool bip84;
    bool is_private;
};

std::optional<VersionInfo> version_info(std::uint32_t version) {
    for (const Network n : {Network::main, Network::test}) {
        const NetworkParams& p = network_params(n);
        if (version == p.bip32.private_version) return VersionInfo{n, false, true};
        if (version == p.bip32.public_version) return VersionInfo{n, false, false};
        if (version == p.bip84.private_version) return VersionInfo{n, true, true};
        if (version == p.bip84.public_version) return VersionInfo{n, true, false};
    }
    return std::nullopt;
}

}  // namespace

std::string_view bip32_error_name(Bip32Error e) {
    switch (e) {
        case Bip32Error::bad_seed_length:
            return "bad_seed_length";
        case Bip32Error::invalid_master_key:
            return "invalid_master_key";
        case Bip32Error::invalid_child:
            return "invalid_child";
        case Bip32Error::hardened_from_public:
            return "hardened_from_public";
        case Bip32Error::too_deep:
            return "too_deep";
        case Bip32Error::bad_base58:
            return "bad_base58";
        case Bip32Error::bad_checksum:
            return "bad_checksum";
        case Bip32Error::bad_length:
            return "bad_length";
        case Bip32Error::unknown_version:
            return "unknown_version";
        case Bip32Error::public_version_with_private_key:
            return "public_version_with_private_key";
        case Bip32Error::private_version_with_public_key:
            return "private_version_with_public_key";
        case Bip32Error::bad_private_key_prefix:
            return "bad_private_key_prefix";
        case Bip32Error::private_key_out_of_range:
            return "private_key_out_of_range";
        case Bip32Error::bad_public_key:
            return "bad_public_key";
        case Bip32Error::zero_depth_with_parent:
            return "zero_depth_with_parent";
        case Bip32Error::zero_depth_with_index:
            return "zero_depth_with_index";
    }
    return "unknown";
}

std::string_view path_error_name(PathError e) {
    switch (e) {
        case PathError::empty:
            return "empty";
        case PathError::too_long:
            return "too_long";
        case PathError::missing_root:
            return "missing_root";
        case PathError::empty_component:
            return "empty_component";
        case PathError::not_a_number:
            return "not_a_number";
        case PathError::leading_zero:
            return "leading_zero";
        case PathError::index_too_large:
            return "index_too_large";
        case PathError::too_deep:
            return "too_deep";
    }
    return "unknown";
}

ExtendedKey::~ExtendedKey() { crypto::secure_wipe(chain_code); }

std::uint32_t ExtendedKey::fingerprint() const {
    const Hash160 h = hash160(public_key.bytes());
    return get_u32_be(h.data());
}

ExtendedKey ExtendedKey::neutered() const {
    ExtendedKey out(*this);
    out.private_key.reset();
    return out;
}

Result<ExtendedKey, Bip32Error> master_key_from_seed(ByteSpan seed) {
    if (seed.size() < kMinSeedBytes || seed.size() > kMaxSeedBytes) {
        return fail(Bip32Error::bad_seed_length);
    }
    const SplitHmac i(hmac_sha512(as_bytes(kMasterHmacKey), seed));
    auto key = PrivateKey::from_bytes(i.left);
    if (!key) return fail(Bip32Error::invalid_master_key);
    ExtendedKey out(key->public_key());
    out.chain_code = i.right;
    out.private_key = std::move(key);
    return out;
}

Result<ExtendedKey, Bip32Error> derive_child(const ExtendedKey& parent, std::uint32_t index) {
    if (parent.depth == kMaxPathDepth) return fail(Bip32Error::too_deep);
    const bool hardened = (index & kHardenedBit) != 0;
    if (hardened && !parent.is_private()) return fail(Bip32Error::hardened_from_public);

    // Data = 0x00 || ser256(k_par) || ser32(i) when hardened, serP(K_par) || ser32(i) if not.
    std::array<std::uint8_t, 1 + 32 + 4> data{};
    if (hardened) {
        data[0] = 0x00;
        std::copy(parent.private_key->bytes().begin(), parent.private_key->bytes().end(),
                  data.begin() + 1);
    } else {
        std::copy(parent.public_key.bytes().begin(), parent.public_key.bytes().end(), data.begin());
    }
    put_u32_be(&data[33], index);
    const SplitHmac i(hmac_sha512(parent.chain_code, data));
    crypto::secure_wipe(data);

    std::optional<ExtendedKey> child;
    if (parent.is_private()) {
        // k_i = parse256(I_L) + k_par (mod n); invalid if I_L >= n or k_i = 0.
        auto key = parent.private_key->tweak_add(i.left);
        if (!key) return fail(Bip32Error::invalid_child);
        child.emplace(key->public_key());
        child->private_key = std::move(key);
    } else {
        // K_i = point(parse256(I_L)) + K_par; invalid if I_L >= n or K_i is infinity.
        auto key = parent.public_key.tweak_add(i.left);
        if (!key) return fail(Bip32Error::invalid_child);
        child.emplace(*key);
    }
    child->depth = static_cast<std::uint8_t>(parent.depth + 1);
    child->parent_fingerprint = parent.fingerprint();
    child->child_number = index;
    child->chain_code = i.right;
    return std::move(*child);
}

Result<DerivationPath, PathError> parse_path(std::string_view text) {
    if (text.empty()) return fail(PathError::empty);
    if (text.size() > kMaxPathChars) return fail(PathError::too_long);
    if (text[0] != 'm') return fail(PathError::missing_root);
    DerivationPath path;
    if (text.size() == 1) return path;
    if (text[1] != '/') return fail(PathError::missing_root);
    std::size_t start = 2;
    while (true) {
        const std::size_t end = std::min(text.find('/', start), text.size());
        std::string_view part = text.substr(start, end - start);
        if (part.empty()) return fail(PathError::empty_component);
        bool hardened = false;
        if (part.back() == '\'' || part.back() == 'h') {
            hardened = true;
            part.remove_suffix(1);
        }
        if (part.empty()) return fail(PathError::not_a_number);
        for (const char c : part) {
            if (c < '0' || c > '9') return fail(PathError::not_a_number);
        }
        if (part.size() > 1 && part[0] == '0') return fail(PathError::leading_zero);
        std::uint64_t value = 0;
        const auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
        if (ec != std::errc() || ptr != part.data() + part.size() || value >= kHardenedBit) {
            return fail(PathError::index_too_large);
        }
        if (path.size() == kMaxPathDepth) return fail(PathError::too_deep);
        path.push_back(static_cast<std::uint32_t>(value) | (hardened ? kHardenedBit : 0u));
        if (end == text.size()) break;
        start = end + 1;
    }
    return path;
}

std::string format_path(const DerivationPath& path) {
    std::string out = "m";
    for (const std::uint32_t i : path) {
        out += '/';
        out += std::to_string(i & ~kHardenedBit);
        if (i & kHardenedBit) out += '\'';
    }
    return out;
}

Result<ExtendedKey, Bip32Error> derive_path(const ExtendedKey& root, const DerivationPath& path) {
    ExtendedKey key = root;
    for (const std::uint32_t index : path) {
        auto child = derive_child(key, index);
        if (!child) return fail(child.error());
        key = std::move(*child);
    }
    return key;
}

DerivationPath bip84_account_path(const NetworkParams& network, std::uint32_t account) {
    SATLOAD_ASSERT(account < kHardenedBit);
    return {kBip84Purpose | kHardenedBit, network.coin_type | kHardenedBit, account | kHardenedBit};
}

DerivationPath bip84_path(const NetworkParams& network, std::uint32_t account, std::uint32_t change,
                          std::uint32_t index) {
    SATLOAD_ASSERT(change <= 1 && index < kHardenedBit);
    DerivationPath p = bip84_account_path(network, account);
    p.push_back(change);
    p.push_back(index);
    return p;
}

std::string encode_extended_private(const ExtendedKey& key, const ExtendedKeyVersions& versions) {
    SATLOAD_ASSERT(key.is_private());
    return encode(key, versions.private_version, true);
}

std::string encode_extended_public(const ExtendedKey& key, const ExtendedKeyVersions& versions) {
    return encode(key, versions.public_version, false);
}

Result<DecodedExtendedKey, Bip32Error> decode_extended_key(std::string_view text) {
    auto data = base58check_decode(text);
    if (!data) {
        return fail(data.error() == Base58Error::bad_checksum ? Bip32Error::bad_checksum
                                                              : Bip32Error::bad_base58);
    }
    struct Wipe {
        Bytes& b;
        ~Wipe() { crypto::secure_wipe(b.data(), b.size()); }
    } wipe{*data};
    const Bytes& d = *data;
    if (d.size() != kExtendedKeyBytes) return fail(Bip32Error::bad_length);
    const auto info = version_info(get_u32_be(&d[0]));
    if (!info) return fail(Bip32Error::unknown_version);

    const std::uint8_t depth = d[4];
    const std::uint32_t parent = get_u32_be(&d[5]);
    const std::uint32_t child_number = get_u32_be(&d[9]);
    const std::uint8_t key_prefix = d[45];
    const ByteSpan key_data(&d[45], 33);

    std::optional<ExtendedKey> key;
    if (info->is_private) {
        if (key_prefix == 0x02 || key_prefix == 0x03) {
            return fail(Bip32Error::private_version_with_public_key);
        }
        if (key_prefix != 0x00) return fail(Bip32Error::bad_private_key_prefix);
        auto priv = PrivateKey::from_bytes(key_data.subspan(1));
        if (!priv) return fail(Bip32Error::private_key_out_of_range);
        key.emplace(priv->public_key());
        key->private_key = std::move(priv);
    } else {
        if (key_prefix == 0x00) return fail(Bip32Error::public_version_with_private_key);
        auto pub = PublicKey::parse(key_data);
        if (!pub) return fail(Bip32Error::bad_public_key);
        key.emplace(*pub);
    }
    if (depth == 0 && parent != 0) return fail(Bip32Error::zero_depth_with_parent);
    if (depth == 0 && child_number != 0) return fail(Bip32Error::zero_depth_with_index);
    key->depth = depth;
    key->parent_fingerprint = parent;
    key->child_number = child_number;
    std::copy(d.begin() + 13, d.begin() + 45, key->chain_code.begin());
    return DecodedExtendedKey{std::move(*key), info->network, info->bip84};
}

}  // namespace satload::chain
