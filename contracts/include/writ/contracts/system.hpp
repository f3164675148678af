// The system contracts and the default genesis that deploys them.
//
//   auto chain = Chain::open(open_memory_store(), contracts::default_genesis());
//   const auto* hub = contracts::find_system_contract("OracleHub");   // hub->address == 0x101
//
// Every system contract is compiled from contracts/ at build time and lives at
// a fixed address (docs/contracts/README.md). The default genesis is a
// development chain: its keys (dev_key) are derived from public seeds, so
// anyone can sign as its governance, reporters and reviewer. A real chain
// writes its own genesis file with its own keys (`writ genesis` prints this
// one as a starting point).
#pragma once

#include <array>
#include <span>
#include <string>
#include <string_view>

#include "writ/runtime/chain.hpp"
#include "writ/runtime/crypto.hpp"

namespace writ::contracts {

// Fixed addresses of the system contracts (short forms, zero-extended to 32 bytes).
inline constexpr uint64_t kOracleHubAddress = 0x101;
inline constexpr uint64_t kRiskEngineAddress = 0x102;
inline constexpr uint64_t kPaymentHoldsAddress = 0x103;
inline constexpr uint64_t kEscrowAddress = 0x104;
inline constexpr uint64_t kStreamsAddress = 0x105;
inline constexpr uint64_t kTreasuryAddress = 0x106;
inline constexpr uint64_t kEurTokenAddress = 0x107;  // StableToken, 2 decimals (EURW)
inline constexpr uint64_t kUsdTokenAddress = 0x108;  // StableToken, 6 decimals (USDW)
inline constexpr uint64_t kFxPoolAddress = 0x109;
inline constexpr uint64_t kWethTokenAddress =
    0x10A;  // StableToken, 18 decimals (WETH, bridged ether)
inline constexpr uint64_t kLendingPoolAddress = 0x10B;
inline constexpr uint64_t kStablecoinAddress = 0x10C;  // DUSD and its vaults, auctions and PSM

struct SystemContract {
  std::string_view name;    // the contract's name in its source
  std::string_view source;  // contracts/<dir>/<file>.writ
  runtime::Address address;
  std::span<const uint8_t> module;  // verified module bytes, as compiled at build time
  std::string_view abi_json;        // the ABI `writ build` writes beside it
  std::string_view debug_json;      // and its debug info (source spans by pc)
};

std::span<const SystemContract> system_contracts();
const SystemContract* find_system_contract(std::string_view name);

// The development keys of the default genesis, from the public seeds
// sha256("writ dev key: " + name). Governance governs every system contract;
// reporters 1..3 report every feed; the reviewer decides held payments; alice,
// bob and carol are funded users.
enum class DevKey { Governance, Reporter1, Reporter2, Reporter3, Reviewer, Alice, Bob, Carol };
runtime::Keypair dev_key(DevKey which);
std::string_view dev_key_name(DevKey which);

// Feeds the default genesis creates on the oracle hub, by id.
inline constexpr uint64_t kFeedEthUsd = 1;
inline constexpr uint64_t kFeedEurUsd = 2;
inline constexpr uint64_t kFeedUsdcUsd = 3;

inline constexpr uint64_t kDevChainId = 1337;
inline constexpr uint64_t kDevGenesisTime = 1'700'000'000;

// The risk engine's features (contracts/risk/risk.writ: FEATURES), and the
// model the default genesis installs: intercept and one weight per feature
// (docs/contracts/risk.md), in thousandths.
inline constexpr size_t kRiskFeatures = 11;
struct DefaultModel {
  uint64_t version;
  int64_t intercept_milli;
  std::array<int64_t, kRiskFeatures> weights_milli;
};
const DefaultModel& default_model();

// The development chain: the dev keys funded, every system contract deployed
// and configured by genesis calls from governance.
runtime::Genesis default_genesis();
// The same genesis as JSON (docs/runtime.md, "Genesis"), self-contained.
std::string default_genesis_json();
// Appends to a genesis of the default kind the governance's call by which
// the risk engine vouches for `account` (docs/contracts/risk.md, "Vouching"):
// an account the chain starts with does not look new to it.
void vouch_at_genesis(runtime::Genesis& g, const runtime::Address& account);

}  // namespace writ::contracts
