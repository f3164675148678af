// The one way the `writ` verbs reach a chain (send, deploy, call, feed, risk
// install and the read-only verbs): JSON-RPC to a node (--rpc HOST:PORT,
// loopback only) or to an in-process RpcHandler over the RocksDB chain in a
// data directory (--data DIR), the same methods either way; the signing key
// (--key FILE or --dev-key NAME); and a transaction filled in, signed,
// submitted and waited for. Every function here that returns an int prints
// what went wrong as "writ VERB: ..." on stderr and returns an exit code of
// commands.hpp, 0 when all went well.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "writ/runtime/crypto.hpp"
#include "writ/runtime/transaction.hpp"

namespace writ::cli {

// The development keys, as an unknown --dev-key NAME and the help texts list them.
#define WRIT_DEV_KEYS "governance, reporter1, reporter2, reporter3, reviewer, alice, bob, carol"
inline constexpr const char* kDevKeyNames = WRIT_DEV_KEYS;

// A JSON-RPC 2.0 connection to a chain.
class ChainClient {
 public:
  virtual ~ChainClient() = default;
  // One JSON-RPC call. False with `err` set on a transport or RPC error.
  bool call(const std::string& method, nlohmann::json params, nlohmann::json& result,
            std::string& err);

 protected:
  virtual bool exchange(const std::string& request, std::string& reply, std::string& err) = 0;

 private:
  int next_id_ = 1;
};

// The chain access options a verb was given; nullptr for one it was not.
struct ChainAccess {
  const std::string* rpc = nullptr;      // --rpc HOST:PORT
  const std::string* data = nullptr;     // --data DIR
  const std::string* genesis = nullptr;  // --genesis FILE
  bool init = false;                     // --init
};

// Checks that the options go together (--rpc or --data, not both; --genesis
// and --init only with --data).
int check_chain_access(const char* verb, const ChainAccess& a);

// Checks the options, then opens --data DIR (with --init, creates its chain,
// from the default genesis unless --genesis FILE) or connects to --rpc
// (default 127.0.0.1:8545).
int open_chain_client(const char* verb, const ChainAccess& a, std::unique_ptr<ChainClient>& out);

// A key file as `writ keygen` writes it: JSON with a "seed" of 32 hex bytes
// (and a "public_key", which must belong to it).
bool load_key(const std::string& path, runtime::Keypair& kp, std::string& err);

// The key of --key FILE or --dev-key NAME (a development key of the default
// genesis): exactly one of them, nullptr for the other.
int signing_key(const char* verb, const std::string* key_file, const std::string* dev_key,
                runtime::Keypair& key);

struct TxOptions {
  std::optional<uint64_t> gas;  // default: intrinsic + 2000000, deploys + 5000000
  vm::U256 gas_price = vm::U256::from_u64(1);
  vm::U256 value{};
  double wait_s = 30;  // 0: submit only
};

// Fills in the chain id, nonce, gas, gas price and value, signs, submits and
// waits for the receipt. Prints "tx: 0x..". Sets `receipt` (null when not
// waiting) and returns 0, or returns an exit code.
int submit(const char* verb, ChainClient& c, const runtime::Keypair& key, runtime::Transaction tx,
           const TxOptions& o, nlohmann::json& receipt);

}  // namespace writ::cli
