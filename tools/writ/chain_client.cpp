#include "chain_client.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "commands.hpp"
#include "writ/contracts/system.hpp"
#include "writ/runtime/node.hpp"

namespace writ::cli {

namespace rt = writ::runtime;
using json = nlohmann::json;

bool ChainClient::call(const std::string& method, json params, json& result, std::string& err) {
  json req = {
      {"jsonrpc", "2.0"}, {"id", next_id_++}, {"method", method}, {"params", std::move(params)}};
  std::string reply;
  if (!exchange(req.dump(), reply, err)) return false;
  json j = json::parse(reply, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    err = "malformed JSON-RPC reply: " + reply.substr(0, 200);
    return false;
  }
  if (j.contains("error")) {
    const json& e = j["error"];
    err = e.is_object() && e.contains("message") && e["message"].is_string()
              ? e["message"].get<std::string>()
              : e.dump();
    return false;
  }
  result = j.contains("result") ? j["result"] : json(nullptr);
  return true;
}

namespace {

class RemoteClient final : public ChainClient {
 public:
  explicit RemoteClient(rt::Endpoint ep) : ep_(std::move(ep)) {}

 protected:
  bool exchange(const std::string& request, std::string& reply, std::string& err) override {
    auto r = rt::http_post(ep_, "/", request, 60'000);
    if (!r.ok()) {
      err = r.error().message;
      return false;
    }
    // JSON-RPC errors come back as 200; any other status is the HTTP layer's.
    if (r->status != 200) {
      err = "node at " + ep_.to_string() + " answered HTTP " + std::to_string(r->status) + ": " +
            r->body;
      return false;
    }
    reply = r->body;
    return true;
  }

 private:
  rt::Endpoint ep_;
};

class LocalClient final : public ChainClient {
 public:
  LocalClient(std::unique_ptr<rt::Chain> chain, std::string genesis_json)
      : chain_(std::move(chain)), handler_(*chain_, options(std::move(genesis_json))) {}

 protected:
  bool exchange(const std::string& request, std::string& reply, std::string&) override {
    reply = handler_.handle(request);
    return true;
  }

 private:
  static rt::RpcOptions options(std::string genesis_json) {
    rt::RpcOptions o;
    o.genesis_json = std::move(genesis_json);
    return o;
  }
  std::unique_ptr<rt::Chain> chain_;
  rt::RpcHandler handler_;
};

}  // namespace

int check_chain_access(const char* verb, const ChainAccess& a) {
  if (a.rpc && a.data) {
    std::fprintf(stderr, "writ %s: give --rpc or --data, not both\n", verb);
    return kExitUsage;
  }
  if ((a.genesis || a.init) && !a.data) {
    std::fprintf(stderr, "writ %s: --genesis and --init go with --data\n", verb);
    return kExitUsage;
  }
  return kExitOk;
}

int open_chain_client(const char* verb, const ChainAccess& a, std::unique_ptr<ChainClient>& out) {
  if (int rc = check_chain_access(verb, a)) return rc;
  if (a.data) {
    rt::DataDirOptions o;
    o.create = a.init;
    if (o.create && !a.genesis) o.genesis_json = contracts::default_genesis_json();
    auto dir = rt::open_data_dir(*a.data, a.genesis ? *a.genesis : "", o);
    if (!dir.ok()) {
      std::fprintf(stderr, "writ %s: %s\n", verb, dir.error().message.c_str());
      return kExitInput;
    }
    out = std::make_unique<LocalClient>(std::move(dir->chain), std::move(dir->genesis_json));
    return kExitOk;
  }
  auto ep = rt::parse_loopback_endpoint(a.rpc ? *a.rpc : "127.0.0.1:8545");
  if (!ep.ok()) {
    std::fprintf(stderr, "writ %s: --rpc %s\n", verb, ep.error().message.c_str());
    return kExitUsage;
  }
  out = std::make_unique<RemoteClient>(ep.value());
  return kExitOk;
}

bool load_key(const std::string& path, rt::Keypair& kp, std::string& err) {
  std::vector<uint8_t> raw;
  if (!read_file(path, raw, err)) return false;
  // A seed others could read is a key others may hold: refused, as a key
  // that `writ keygen` wrote (mode 0600) never is.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    err = path + ": the key file is open to other users (mode " + mode +
          "); a private key must be its owner's alone: chmod 600 " + path;
    return false;
  }
  json j = json::parse(raw.begin(), raw.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("seed") || !j["seed"].is_string()) {
    err = path + ": not a key file (JSON with a \"seed\")";
    return false;
  }
  auto seed = rt::from_hex(j["seed"].get<std::string>());
  if (!seed || seed->size() != 32) {
    err = path + ": seed: expected 32 bytes of hex";
    return false;
  }
  std::array<uint8_t, 32> s{};
  std::copy(seed->begin(), seed->end(), s.begin());
  kp = rt::keypair_from_seed(s);
  if (j.contains("public_key") && j["public_key"].is_string()) {
    auto pk = rt::from_hex(j["public_key"].get<std::string>());
    if (!pk || !std::equal(pk->begin(), pk->end(), kp.pub.bytes.begin(), kp.pub.bytes.end())) {
      err = path + ": public_key does not belong to the seed";
      return false;
    }
  }
  return true;
}

int signing_key(const char* verb, const std::string* key_file, const std::string* dev_key,
                rt::Keypair& key) {
  if (!key_file == !dev_key) {
    std::fprintf(stderr, "writ %s: give one of --key KEYFILE or --dev-key NAME\n", verb);
    return kExitUsage;
  }
  if (dev_key) {
    using contracts::DevKey;
    for (DevKey k : {DevKey::Governance, DevKey::Reporter1, DevKey::Reporter2, DevKey::Reporter3,
                     DevKey::Reviewer, DevKey::Alice, DevKey::Bob, DevKey::Carol})
      if (contracts::dev_key_name(k) == *dev_key) {
        key = contracts::dev_key(k);
        return kExitOk;
      }
    std::fprintf(stderr, "writ %s: --dev-key %s: no such development key (%s)\n", verb,
                 dev_key->c_str(), kDevKeyNames);
    return kExitUsage;
  }
  std::string err;
  if (!load_key(*key_file, key, err)) {
    std::fprintf(stderr, "writ %s: %s\n", verb, err.c_str());
    return kExitInput;
  }
  return kExitOk;
}

int submit(const char* verb, ChainClient& c, const rt::Keypair& key, rt::Transaction tx,
           const TxOptions& o, json& receipt) {
  json r;
  std::string err;
  if (!c.call("writ_chainId", json::array(), r, err) || !r.is_number_unsigned()) {
    std::fprintf(stderr, "writ %s: %s\n", verb,
                 err.empty() ? "bad writ_chainId reply" : err.c_str());
    return kExitInput;
  }
  tx.chain_id = r.get<uint64_t>();
  // "pending": after the key's transactions a node in interval mode has queued.
  if (!c.call("writ_getNonce", json::array({"0x" + rt::address_of(key.pub).hex(), "pending"}), r,
              err) ||
      !r.is_number_unsigned()) {
    std::fprintf(stderr, "writ %s: %s\n", verb,
                 err.empty() ? "bad writ_getNonce reply" : err.c_str());
    return kExitInput;
  }
  tx.nonce = r.get<uint64_t>();
  uint64_t intrinsic =
      rt::kTxBaseGas + rt::kTxDataByteGas * tx.data.size() + rt::kTxCodeByteGas * tx.code.size();
  uint64_t extra = tx.kind == rt::Transaction::Kind::Deploy ? 5'000'000 : 2'000'000;
  tx.gas_limit = o.gas ? *o.gas : std::min(intrinsic + extra, rt::kBlockGasLimit);
  tx.gas_price = o.gas_price;
  tx.value = o.value;
  tx.sign_with(key);
  const std::string hash = "0x" + tx.hash().hex();
  if (!c.call("writ_sendRawTransaction", json::array({rt::to_hex(tx.encode())}), r, err)) {
    std::fprintf(stderr, "writ %s: %s\n", verb, err.c_str());
    return kExitInput;
  }
  std::printf("tx: %s\n", hash.c_str());
  std::fflush(stdout);
  if (o.wait_s <= 0) {  // submit only
    receipt = nullptr;
    return kExitOk;
  }
  auto give_up = std::chrono::steady_clock::now() +
                 std::chrono::milliseconds(static_cast<int64_t>(o.wait_s * 1000));
  for (;;) {
    if (!c.call("writ_getReceipt", json::array({hash}), receipt, err)) {
      std::fprintf(stderr, "writ %s: %s\n", verb, err.c_str());
      return kExitInput;
    }
    if (!receipt.is_null()) return kExitOk;
    if (std::chrono::steady_clock::now() >= give_up) {
      std::fprintf(stderr, "writ %s: no receipt for %s after %g s%s\n", verb, hash.c_str(),
                   o.wait_s, " (still queued, or dropped by its block)");
      return kExitInput;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace writ::cli
