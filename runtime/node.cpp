// The dev node: text forms, data directories and the JSON-RPC methods over a
// Chain (contract in node.hpp). The HTTP server and client are in
// rpc_server.cpp.
//
// Inside this file, a method reports a bad request by throwing RpcError;
// RpcHandler::handle() catches it (and anything else) and answers with a
// JSON-RPC error, so no exception leaves the public functions.
#include "writ/runtime/node.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "json_text.hpp"
#include "writ/vm/module.hpp"

namespace writ::runtime {

using json = nlohmann::json;
namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

namespace {
// Text from clients can be any bytes: invalid UTF-8 is replaced, never thrown.
std::string dump(const json& j, int indent = -1) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}
}  // namespace

// ---- text forms ---------------------------------------------------------------------

std::string to_hex(std::span<const uint8_t> bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string s = "0x";
  s.reserve(2 + 2 * bytes.size());
  for (uint8_t b : bytes) {
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

std::optional<Bytes> from_hex(std::string_view v) {
  if (v.size() >= 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) v.remove_prefix(2);
  if (v.size() % 2) return std::nullopt;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Bytes out;
  out.reserve(v.size() / 2);
  for (size_t i = 0; i < v.size(); i += 2) {
    int hi = nib(v[i]), lo = nib(v[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<uint8_t>(hi * 16 + lo));
  }
  return out;
}

std::string word_hex(const U256& v) {
  return "0x" + Hash256::from_u256(v).hex();
}

std::optional<Address> parse_address_text(std::string_view text) {
  if (auto h = Hash256::from_hex(text)) return *h;
  if (text.empty() || text[0] == '-') return std::nullopt;
  auto v = vm::parse_u256(text);
  if (!v) return std::nullopt;
  return Hash256::from_u256(*v);
}

std::string Endpoint::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

bool is_loopback_host(std::string_view numeric_host) {
  std::string h(numeric_host);
  in_addr a4{};
  if (inet_pton(AF_INET, h.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  in6_addr a6{};
  if (inet_pton(AF_INET6, h.c_str(), &a6) == 1) return IN6_IS_ADDR_LOOPBACK(&a6);
  return false;
}

Result<Endpoint> parse_loopback_endpoint(std::string_view text) {
  std::string host;
  std::string_view port_text;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return vm::error_at(0, "address \"" + std::string(text) + "\": expected [IPV6]:PORT");
    host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return vm::error_at(0, "address \"" + std::string(text) + "\": expected HOST:PORT");
    host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string::npos)
      return vm::error_at(0,
                          "address \"" + std::string(text) + "\": write IPv6 hosts as [::1]:PORT");
  }
  if (host == "localhost") host = "127.0.0.1";
  if (port_text.empty() || port_text.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return vm::error_at(
        0, "address \"" + std::string(text) + "\": bad port \"" + std::string(port_text) + "\"");
  unsigned long port = std::stoul(std::string(port_text));
  if (port > 65535)
    return vm::error_at(0, "address \"" + std::string(text) + "\": port above 65535");
  if (!is_loopback_host(host))
    return vm::error_at(
        0, "address \"" + std::string(text) +
               "\": not a loopback address (Writ's servers and clients use 127.0.0.0/8 "
               "and ::1 only)");
  return Endpoint{host, static_cast<uint16_t>(port)};
}

// ---- data directories -----------------------------------------------------------------

namespace {

bool read_text(const fs::path& p, std::string& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return !in.bad();
}

// The genesis JSON with every code_file replaced by the code it names, so it
// can be kept beside the chain and reparsed from anywhere.
std::string self_contained_genesis(std::string_view text, const Genesis& g) {
  json j = json::parse(text, nullptr, false);
  if (j.is_object() && j.contains("contracts") && j["contracts"].is_array()) {
    auto& cs = j["contracts"];
    for (size_t i = 0; i < cs.size() && i < g.contracts.size(); ++i) {
      if (!cs[i].is_object() || !cs[i].contains("code_file")) continue;
      cs[i].erase("code_file");
      cs[i]["code"] = to_hex(g.contracts[i].code);
    }
  }
  return dump(j, 2) + "\n";
}

}  // namespace

Result<DataDir> open_data_dir(const std::string& dir, const std::string& genesis_file,
                              const DataDirOptions& options) {
  fs::path d(dir), stored = d / "genesis.json";
  std::error_code ec;
  std::string text, base;
  fs::path source;
  const std::string how_to_create =
      "(create a chain explicitly: writ node --init --data " + dir + " --genesis FILE)";
  if (options.create && genesis_file.empty() && options.genesis_json.empty())
    return vm::error_at(0, "creating a chain in " + dir + " needs a genesis file (--genesis FILE)");
  if (!options.create && !fs::exists(d / "chain", ec)) {
    if (fs::exists(stored, ec))
      return vm::error_at(0, dir + " has lost its chain database: " + (d / "chain").string() +
                                 " is missing (restore it from a backup, or move " + dir +
                                 " away and create a new chain)");
    return vm::error_at(0, "no chain in " + dir + " " + how_to_create);
  }
  if (!genesis_file.empty()) {
    source = genesis_file;
    base = source.parent_path().string();
    if (base.empty()) base = ".";
  } else if (options.create && !options.genesis_json.empty()) {
    source = "the default genesis";
    base = ".";
    text = options.genesis_json;
  } else if (fs::exists(stored, ec)) {
    source = stored;
    base = d.string();
  } else {
    return vm::error_at(0, dir +
                               " has a chain database but no genesis.json: give the chain's "
                               "genesis file (--genesis FILE)");
  }
  if (text.empty() && !read_text(source, text))
    return vm::error_at(0, source.string() + ": cannot read: " + std::strerror(errno));
  auto g = parse_genesis_json(text, base);
  if (!g.ok()) return vm::error_at(0, source.string() + ": " + g.error().message);
  fs::create_directories(d, ec);
  if (ec) return vm::error_at(0, "cannot create " + dir + ": " + ec.message());
  RocksStoreOptions so;
  so.create = options.create;
  so.accept_lost_writes = options.accept_lost_writes;
  std::string accepted_loss;
  so.accepted_loss = &accepted_loss;
  auto store = open_rocksdb_store((d / "chain").string(), so);
  if (!store.ok()) return vm::error_at(0, dir + ": " + store.error().message);
  auto head = store.value()->get(Column::Meta, "head");
  if (!head.ok()) return vm::error_at(0, dir + ": " + head.error().message);
  if (options.create && head.value())
    return vm::error_at(0, dir + " already holds a chain; open it without --init");
  if (!options.create && !head.value())
    return vm::error_at(0, dir +
                               ": the chain database holds no chain (its creation did not "
                               "finish, or its records are lost); move " +
                               dir + " away and create a new chain " + how_to_create);
  DataDir out;
  out.created = !head.value().has_value();
  out.accepted_loss = std::move(accepted_loss);
  auto chain = Chain::open(std::move(store.value()), g.value());
  if (!chain.ok()) return vm::error_at(0, dir + ": " + chain.error().message);
  out.chain = std::move(chain.value());
  out.genesis_json = self_contained_genesis(text, g.value());
  if (out.created || !fs::exists(stored, ec)) {
    fs::path tmp = d / "genesis.json.tmp";
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      f << out.genesis_json;
      if (!f) return vm::error_at(0, tmp.string() + ": cannot write");
    }
    fs::rename(tmp, stored, ec);
    if (ec) return vm::error_at(0, stored.string() + ": cannot write: " + ec.message());
  }
  return out;
}

// ---- JSON forms -------------------------------------------------------------------------

namespace {

std::string hx(const Hash256& h) {
  return "0x" + h.hex();
}

json trap_json(uint32_t func, uint32_t pc, const std::string& detail) {
  return {{"function", func}, {"pc", pc}, {"detail", detail}};
}

// The failure trace (vm::ExecResult::calls), innermost first.
void add_calls_json(json& j, const std::vector<vm::FailedCall>& calls, uint32_t omitted) {
  if (calls.empty()) return;
  json a = json::array();
  for (const vm::FailedCall& c : calls) {
    char sel[11];
    std::snprintf(sel, sizeof sel, "0x%08x", c.selector);
    a.push_back({{"callee", word_hex(c.callee)},
                 {"selector", sel},
                 {"status", std::string(vm::status_name(c.status))},
                 {"status_code", static_cast<int>(c.status)},
                 {"function", c.func},
                 {"pc", c.pc},
                 {"detail", c.detail}});
  }
  j["calls"] = std::move(a);
  if (omitted) j["calls_omitted"] = omitted;
}

json receipt_json(const Receipt& r) {
  json logs = json::array();
  for (const Log& l : r.logs) {
    json topics = json::array();
    for (const Hash256& t : l.topics) topics.push_back(hx(t));
    logs.push_back({{"address", hx(l.address)}, {"topics", topics}, {"data", to_hex(l.data)}});
  }
  json j = {{"tx_hash", hx(r.tx_hash)},
            {"height", r.height},
            {"index", r.index},
            {"status", std::string(vm::status_name(r.status))},
            {"status_code", static_cast<int>(r.status)},
            {"gas_used", r.gas_used},
            {"output", to_hex(r.output)},
            {"logs", logs},
            {"contract", r.contract.is_zero() ? json(nullptr) : json(hx(r.contract))}};
  if (r.status != vm::Status::Ok) j["trap"] = trap_json(r.trap_func, r.trap_pc, r.detail);
  add_calls_json(j, r.calls, r.calls_omitted);
  if (r.risk) {
    json reasons = json::array();
    for (uint8_t c : r.risk->reasons) reasons.push_back(c);
    j["risk"] = {{"score", r.risk->score},
                 {"reasons", reasons},
                 {"model_version", r.risk->model_version},
                 {"decision", decision_name(r.risk->decision)}};
    if (r.risk->decision == PaymentRisk::Decision::Held) j["risk"]["hold_id"] = r.risk->hold_id;
  }
  return j;
}

json block_json(const Block& b) {
  json txs = json::array();
  for (const Transaction& t : b.txs) txs.push_back(hx(t.hash()));
  const BlockHeader& h = b.header;
  return {{"height", h.height},
          {"hash", hx(h.hash())},
          {"parent_hash", hx(h.parent_hash)},
          {"timestamp", h.timestamp},
          {"tx_root", hx(h.tx_root)},
          {"receipts_root", hx(h.receipts_root)},
          {"state_root", hx(h.state_root)},
          {"gas_used", h.gas_used},
          {"transactions", txs}};
}

json account_json(const Account& a) {
  json j = {{"balance", vm::to_dec_string(a.balance)},
            {"nonce", a.nonce},
            {"code_hash", hx(a.code_hash)}};
  // The risk engine's words, when it has recorded the account (they are
  // part of the record, so a proof needs them).
  if (a.has_history()) {
    json h = json::array();
    for (const U256& w : a.history) h.push_back(hx(Hash256::from_u256(w)));
    j["history"] = h;
  }
  return j;
}

json account_proof_obj(const AccountProof& p) {
  return {{"kind", "account"},
          {"state_root", hx(p.state_root)},
          {"height", p.height},
          {"address", hx(p.address)},
          {"account", p.account ? account_json(*p.account) : json(nullptr)},
          {"proof", to_hex(p.proof.encode())},
          {"verified", verify_account_proof(p)}};
}

json storage_proof_obj(const StorageProof& p) {
  return {{"kind", "storage"},
          {"state_root", hx(p.state_root)},
          {"height", p.height},
          {"address", hx(p.address)},
          {"slot", word_hex(p.slot)},
          {"value", word_hex(p.value)},
          {"present", p.present},
          {"proof", to_hex(p.proof.encode())},
          {"verified", verify_storage_proof(p)}};
}

}  // namespace

std::string account_proof_json(const AccountProof& p) {
  return dump(account_proof_obj(p));
}
std::string storage_proof_json(const StorageProof& p) {
  return dump(storage_proof_obj(p));
}

Result<bool> verify_proof_json(std::string_view text) {
  auto parsed = parse_json_text(text);
  if (!parsed.ok()) return vm::error_at(parsed.error().offset, "proof: " + parsed.error().message);
  const json j = std::move(parsed.value());
  if (!j.is_object()) return vm::error_at(0, "proof: not a JSON object");
  auto str = [&](const char* f) -> const std::string* {
    auto it = j.find(f);
    return it != j.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
  };
  auto hash = [&](const char* f) -> std::optional<Hash256> {
    const std::string* s = str(f);
    return s ? Hash256::from_hex(*s) : std::nullopt;
  };
  const std::string* kind = str("kind");
  if (!kind || (*kind != "account" && *kind != "storage"))
    return vm::error_at(0, "proof field kind: expected \"account\" or \"storage\"");
  auto root = hash("state_root");
  if (!root) return vm::error_at(0, "proof field state_root: expected 0x + 64 hex digits");
  auto addr = hash("address");
  if (!addr) return vm::error_at(0, "proof field address: expected 0x + 64 hex digits");
  const std::string* proof_hex = str("proof");
  auto proof_bytes = proof_hex ? from_hex(*proof_hex) : std::nullopt;
  if (!proof_bytes) return vm::error_at(0, "proof field proof: expected 0x-hex bytes");
  auto proof = TreeProof::decode(*proof_bytes);
  if (!proof.ok()) return vm::error_at(0, "proof field proof: " + proof.error().to_string());
  uint64_t height =
      j.contains("height") && j["height"].is_number_unsigned() ? j["height"].get<uint64_t>() : 0;
  if (*kind == "account") {
    AccountProof p;
    p.state_root = *root;
    p.height = height;
    p.address = *addr;
    p.proof = proof.value();
    auto it = j.find("account");
    if (it == j.end())
      return vm::error_at(0, "proof field account: missing (null for an absent account)");
    if (!it->is_null()) {
      if (!it->is_object())
        return vm::error_at(0, "proof field account: expected an object or null");
      Account a;
      auto bal = it->find("balance");
      std::optional<U256> b;
      if (bal != it->end() && bal->is_string()) b = vm::parse_u256(bal->get<std::string>());
      if (!b || bal->get<std::string>()[0] == '-')
        return vm::error_at(0, "proof field account.balance: expected an amount");
      a.balance = *b;
      auto n = it->find("nonce");
      if (n == it->end() || !n->is_number_unsigned())
        return vm::error_at(0, "proof field account.nonce: expected a number");
      a.nonce = n->get<uint64_t>();
      auto ch = it->find("code_hash");
      std::optional<Hash256> c;
      if (ch != it->end() && ch->is_string()) c = Hash256::from_hex(ch->get<std::string>());
      if (!c) return vm::error_at(0, "proof field account.code_hash: expected 0x + 64 hex digits");
      a.code_hash = *c;
      auto hs = it->find("history");
      if (hs != it->end()) {
        if (!hs->is_array() || hs->size() != a.history.size())
          return vm::error_at(0, "proof field account.history: expected " +
                                     std::to_string(a.history.size()) + " words");
        for (size_t i = 0; i < a.history.size(); ++i) {
          std::optional<Hash256> w;
          if ((*hs)[i].is_string()) w = Hash256::from_hex((*hs)[i].get<std::string>());
          if (!w)
            return vm::error_at(0, "proof field account.history: expected 0x + 64 hex digits");
          a.history[i] = w->to_u256();
        }
      }
      p.account = a;
    }
    return verify_account_proof(p);
  }
  StorageProof p;
  p.state_root = *root;
  p.height = height;
  p.address = *addr;
  p.proof = proof.value();
  auto slot = hash("slot");
  if (!slot) return vm::error_at(0, "proof field slot: expected 0x + 64 hex digits");
  auto value = hash("value");
  if (!value) return vm::error_at(0, "proof field value: expected 0x + 64 hex digits");
  auto present = j.find("present");
  if (present == j.end() || !present->is_boolean())
    return vm::error_at(0, "proof field present: expected true or false");
  p.slot = slot->to_u256();
  p.value = value->to_u256();
  p.present = present->get<bool>();
  return verify_storage_proof(p);
}

// ---- JSON-RPC -------------------------------------------------------------------------------

namespace {

constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kInternalError = -32603;
constexpr int kTxRejected = -32000;
constexpr int kLimitExceeded = -32005;

struct RpcError {
  int code;
  std::string message;
};

// A Chain query's value; its failure (the store is damaged: chain.hpp,
// guarantee 4) becomes an internal error, never a zero or a null.
template <class T>
T stored(Result<T> r) {
  if (!r.ok()) throw RpcError{kInternalError, r.error().message};
  return std::move(r).value();
}

// A validate() failure: the store's is the node's error, any other the
// transaction's.
void throw_if_invalid(const Status& s) {
  if (s) return;
  if (is_store_failure(s.message)) throw RpcError{kInternalError, s.message};
  throw RpcError{kTxRejected, "transaction rejected: " + s.message};
}

json error_response(const json& id, int code, const std::string& message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

// Positional parameters, checked with messages that name the parameter.
struct Params {
  const json& p;
  void at_most(size_t n) const {
    if (p.size() > n)
      throw RpcError{kInvalidParams, "too many params: expected at most " + std::to_string(n) +
                                         ", got " + std::to_string(p.size())};
  }
  bool has(size_t i) const { return i < p.size(); }
  const json& get(size_t i, const char* name) const {
    if (i >= p.size())
      throw RpcError{kInvalidParams, "missing param " + std::to_string(i) + " (" + name + ")"};
    return p[i];
  }
  [[noreturn]] static void bad(size_t i, const char* name, const std::string& why) {
    throw RpcError{kInvalidParams, "param " + std::to_string(i) + " (" + name + "): " + why};
  }
  std::string string(size_t i, const char* name) const {
    const json& v = get(i, name);
    if (!v.is_string()) bad(i, name, "expected a string");
    return v.get<std::string>();
  }
  Address address(size_t i, const char* name) const {
    return address_of_json(get(i, name), i, name);
  }
  static Address address_of_json(const json& v, size_t i, const char* name) {
    if (!v.is_string()) bad(i, name, "expected a 0x-hex address string");
    auto a = parse_address_text(v.get<std::string>());
    if (!a) bad(i, name, "invalid address \"" + v.get<std::string>() + "\"");
    return *a;
  }
  Hash256 hash(size_t i, const char* name) const {
    std::string s = string(i, name);
    auto h = Hash256::from_hex(s);
    if (!h) bad(i, name, "expected 0x + 64 hex digits, got \"" + s + "\"");
    return *h;
  }
  U256 word(size_t i, const char* name) const {
    const json& v = get(i, name);
    if (v.is_number_unsigned()) return U256::from_u64(v.get<uint64_t>());
    if (!v.is_string()) bad(i, name, "expected a number or a decimal/0x-hex string");
    std::string s = v.get<std::string>();
    auto w = s.empty() || s[0] == '-' ? std::nullopt : vm::parse_u256(s);
    if (!w) bad(i, name, "invalid number \"" + s + "\"");
    return *w;
  }
  Bytes bytes(size_t i, const char* name) const { return bytes_of_json(get(i, name), i, name); }
  static Bytes bytes_of_json(const json& v, size_t i, const char* name) {
    if (!v.is_string()) bad(i, name, "expected 0x-hex bytes");
    auto b = from_hex(v.get<std::string>());
    if (!b) bad(i, name, "expected 0x-hex bytes (an even number of hex digits)");
    return *b;
  }
};

uint64_t u64_of_json(const json& v, size_t i, const char* name) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    auto w = s.empty() || s[0] == '-' ? std::nullopt : vm::parse_u256(s);
    if (w && w->fits_u64()) return w->low64();
  }
  Params::bad(i, name, "expected an unsigned 64-bit number");
}

}  // namespace

// What the read-only calls of one request (or of one whole batch) may still
// spend: RpcOptions::request_call_gas and request_call_ms.
struct CallBudget {
  uint64_t gas_left = 0;
  SteadyClock::time_point deadline;
  // Receipts writ_getLogs may read for the request (a batch shares it): the
  // scan holds the chain's lock, and a filter that matches nothing was not
  // bounded by the logs it returns (100 scans of 10,000 blocks held a
  // validator's consensus connection for minutes).
  uint64_t receipts_left = 0;
};

struct RpcHandler::Impl {
  RpcHandler& self;
  Chain& chain;
  RpcOptions opts;
  mutable std::mutex mu;           // guards chain, queue, queued
  std::vector<Transaction> queue;  // interval mode: in arrival order
  std::set<Hash256> queued;
  // Non-empty while the store refuses writes (a full disk): the last block's
  // failure, answered to writes until a block commits again.
  std::string storage_failure;

  // Methods run under mu, one at a time, except the view methods: those run
  // on a ChainView of the head (Chain::view(), which needs no lock), outside
  // mu, so that they never wait for a block being produced.
  using Method = json (Impl::*)(const Params&);
  using ViewMethod = json (Impl::*)(const Params&, CallBudget&);
  std::map<std::string, Method, std::less<>> methods;
  std::map<std::string, ViewMethod, std::less<>> view_methods;

  Impl(RpcHandler& s, Chain& c, RpcOptions o) : self(s), chain(c), opts(std::move(o)) {
    if (!opts.clock)
      opts.clock = [] {
        return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count());
      };
    methods = {{"writ_chainId", &Impl::chain_id},
               {"writ_blockNumber", &Impl::block_number},
               {"writ_sendRawTransaction", &Impl::send_raw_transaction},
               {"writ_getReceipt", &Impl::get_receipt},
               {"writ_getTransaction", &Impl::get_transaction},
               {"writ_getBalance", &Impl::get_balance},
               {"writ_getNonce", &Impl::get_nonce},
               {"writ_getAccount", &Impl::get_account},
               {"writ_getStorage", &Impl::get_storage},
               {"writ_getCode", &Impl::get_code},
               {"writ_getBlock", &Impl::get_block},
               {"writ_getRawBlock", &Impl::get_raw_block},
               {"writ_getGenesis", &Impl::get_genesis},
               {"writ_getProof", &Impl::get_proof},
               {"writ_getLogs", &Impl::get_logs}};
    view_methods = {{"writ_call", &Impl::call}};
  }

  CallBudget new_budget() const {
    return {opts.request_call_gas,
            SteadyClock::now() + std::chrono::milliseconds(opts.request_call_ms),
            opts.max_log_receipts};
  }
  CallBudget* budget_ = nullptr;  // the running request's, while a method runs

  uint64_t block_time() const { return std::max(opts.clock(), chain.head().timestamp); }

  // REQUIRES: mu held.
  Chain::BlockResult produce(const std::vector<Transaction>& txs) {
    auto r = chain.produce_block(txs, block_time());
    if (!r.ok()) {
      const std::string& why = r.error().message;
      if (is_storage_unavailable(why)) {
        storage_failure = why;
        throw RpcError{kInternalError, why};
      }
      throw RpcError{kInternalError, "block production failed: " + why};
    }
    storage_failure.clear();
    self.blocks_produced_.fetch_add(1);
    if (self.on_block) self.on_block(r.value());
    return std::move(r.value());
  }

  json chain_id(const Params& p) {
    p.at_most(0);
    return chain.chain_id();
  }
  json block_number(const Params& p) {
    p.at_most(0);
    return chain.head().height;
  }

  std::mutex& chain_mu() const { return opts.chain_mutex ? *opts.chain_mutex : mu; }

  // writ_sendRawTransaction where a consensus engine makes the blocks: the
  // transaction goes to it (its mempool checks it as the chain would).
  json submit(const Params& p) {
    p.at_most(1);
    Bytes raw = p.bytes(0, "transaction");
    auto tx = decode_transaction(raw);
    if (!tx.ok()) Params::bad(0, "transaction", tx.error().to_string());
    const std::string why = opts.submit(tx.value(), raw);
    if (!why.empty()) throw RpcError{kTxRejected, "transaction rejected: " + why};
    return hx(tx->hash());
  }

  json send_raw_transaction(const Params& p) {
    p.at_most(1);
    Bytes raw = p.bytes(0, "transaction");
    auto tx = decode_transaction(raw);
    if (!tx.ok()) Params::bad(0, "transaction", tx.error().to_string());
    const Hash256 h = tx->hash();
    if (opts.block_per_tx) {
      throw_if_invalid(chain.validate(tx.value()));
      auto r = produce({tx.value()});
      if (!r.rejected.empty())
        throw RpcError{kTxRejected, "transaction rejected: " + r.rejected[0].reason};
      return hx(h);
    }
    // While the store refuses writes, queued transactions wait for it: take
    // no more (block_per_tx mode tries the store with each one instead).
    if (!storage_failure.empty()) throw RpcError{kInternalError, storage_failure};
    if (queued.count(h)) throw RpcError{kTxRejected, "transaction rejected: already queued"};
    if (queue.size() >= opts.max_pending)
      throw RpcError{kTxRejected, "transaction rejected: " + std::to_string(queue.size()) +
                                      " transactions queued already"};
    // The sender's transactions queued ahead of this one: its nonce must
    // follow them, and its balance cover what they may all spend (as CheckTx
    // does). Checking the nonce alone let one funded account fill the queue
    // with transactions that the block then rejected, without a fee.
    const Address sender = tx->sender();
    Chain::Pending ahead;
    for (const Transaction& q : queue) {
      if (q.sender() != sender) continue;
      ++ahead.count;
      ahead.spend = vm::add(ahead.spend, Chain::Pending::most_spent(q));
    }
    throw_if_invalid(chain.validate(tx.value(), ahead));
    queue.push_back(std::move(tx.value()));
    queued.insert(h);
    return hx(h);
  }

  json call(const Params& p, CallBudget& budget) {
    p.at_most(2);
    const json& c = p.get(0, "call");
    if (!c.is_object()) Params::bad(0, "call", "expected an object {from?, to, data?, gas?}");
    if (p.has(1) && p.p[1] != "latest") Params::bad(1, "block", "only \"latest\" is served");
    for (auto it = c.begin(); it != c.end(); ++it)
      if (it.key() != "from" && it.key() != "to" && it.key() != "data" && it.key() != "gas")
        Params::bad(0, "call", "unknown field \"" + it.key() + "\"");
    if (!c.contains("to")) Params::bad(0, "call.to", "missing");
    Address to = Params::address_of_json(c["to"], 0, "call.to");
    Address from{};
    if (c.contains("from")) from = Params::address_of_json(c["from"], 0, "call.from");
    Bytes data;
    if (c.contains("data")) data = Params::bytes_of_json(c["data"], 0, "call.data");
    uint64_t gas = opts.default_call_gas;
    if (c.contains("gas")) gas = u64_of_json(c["gas"], 0, "call.gas");
    // The VM cannot be interrupted, so a call's time is bounded by its gas
    // (about 1 ns each, docs/gas.md): the budget is checked before each call
    // and the call gets no more gas than the request has left.
    if (SteadyClock::now() >= budget.deadline)
      throw RpcError{kLimitExceeded, "the request's time for calls (" +
                                         std::to_string(opts.request_call_ms) +
                                         " ms) is spent: send fewer calls per request"};
    if (budget.gas_left == 0)
      throw RpcError{kLimitExceeded, "the request's gas for calls (" +
                                         std::to_string(opts.request_call_gas) +
                                         ") is spent: send fewer calls per request"};
    gas = std::min({gas, opts.call_gas_cap, kBlockGasLimit, budget.gas_left});
    // Not under mu: a view never waits for a block being produced.
    std::shared_ptr<const ChainView> view;
    if (auto v = chain.view(); v.ok()) view = std::move(v.value());
    Result<vm::ExecResult> called = vm::error_at(0, "");
    if (view) {
      called = view->call(from, to, data, gas);  // outside mu: blocks go on meanwhile
    } else {
      std::lock_guard<std::mutex> lock(chain_mu());  // a store without snapshots
      called = chain.call(from, to, data, gas);
    }
    if (!called.ok()) throw RpcError{kInternalError, called.error().message};
    const vm::ExecResult& r = called.value();
    uint64_t left = r.gas_left < 0 ? 0 : static_cast<uint64_t>(r.gas_left);
    budget.gas_left -= gas - std::min(left, gas);
    json j = {{"status", std::string(vm::status_name(r.status))},
              {"status_code", static_cast<int>(r.status)},
              {"output", to_hex(r.output)},
              {"gas_used", gas - std::min(left, gas)}};
    if (r.status != vm::Status::Ok) j["trap"] = trap_json(r.func, r.pc, r.detail);
    if (r.status == vm::Status::Revert) j["revert"] = to_hex(r.output);
    add_calls_json(j, r.calls, r.calls_omitted);
    return j;
  }

  json get_receipt(const Params& p) {
    p.at_most(1);
    auto r = stored(chain.receipt(p.hash(0, "tx_hash")));
    return r ? receipt_json(*r) : json(nullptr);
  }
  // writ_getTransaction: a committed transaction, found through its receipt
  // (height and index) and its block.
  json get_transaction(const Params& p) {
    p.at_most(1);
    const Hash256 h = p.hash(0, "tx_hash");
    auto r = stored(chain.receipt(h));
    if (!r) return nullptr;
    auto b = stored(chain.block(r->height));
    if (!b || r->index >= b->txs.size() || b->txs[r->index].hash() != h)
      throw RpcError{kInternalError,
                     std::string(kStoreDamaged) + "the block " + std::to_string(r->height) +
                         " does not hold the transaction of its receipt " + h.hex()};
    const Transaction& t = b->txs[r->index];
    json j = {{"hash", hx(h)},
              {"height", r->height},
              {"index", r->index},
              {"kind", t.kind == Transaction::Kind::Deploy ? "deploy" : "call"},
              {"from", hx(t.sender())},
              {"to", t.kind == Transaction::Kind::Deploy ? json(nullptr) : json(hx(t.to))},
              {"nonce", t.nonce},
              {"value", vm::to_dec_string(t.value)},
              {"gas_limit", t.gas_limit},
              {"gas_price", vm::to_dec_string(t.gas_price)},
              {"data", to_hex(t.data)}};
    if (t.kind == Transaction::Kind::Deploy) {
      j["code_hash"] = "0x" + vm::code_hash(t.code).hex();
    }
    return j;
  }
  json get_balance(const Params& p) {
    p.at_most(1);
    return vm::to_dec_string(stored(chain.balance(p.address(0, "address"))));
  }
  // "pending": after the sender's transactions queued for the next block
  // (interval mode), the nonce its next transaction must carry.
  json get_nonce(const Params& p) {
    p.at_most(2);
    const Address a = p.address(0, "address");
    bool pending = false;
    if (p.has(1)) {
      const std::string tag = p.string(1, "block");
      if (tag != "latest" && tag != "pending")
        Params::bad(1, "block", "expected latest or pending");
      pending = tag == "pending";
    }
    uint64_t nonce = stored(chain.account(a)).nonce;
    if (pending)  // chain_mu() is mu here: a node with a consensus engine queues nothing
      for (const Transaction& q : queue) nonce += q.sender() == a ? 1 : 0;
    return nonce;
  }
  json get_account(const Params& p) {
    p.at_most(1);
    return account_json(stored(chain.account(p.address(0, "address"))));
  }
  json get_storage(const Params& p) {
    p.at_most(2);
    Address a = p.address(0, "address");
    return word_hex(stored(chain.storage(a, p.word(1, "slot"))));
  }
  json get_code(const Params& p) {
    p.at_most(1);
    Account a = stored(chain.account(p.address(0, "address")));
    if (a.code_hash.is_zero()) return nullptr;
    auto code = stored(chain.code(a.code_hash));
    if (!code)  // an account's code is committed with it
      throw RpcError{kInternalError, std::string(kStoreDamaged) + "the code " + a.code_hash.hex() +
                                         " of the account is missing"};
    return json(to_hex(*code));
  }
  json get_block(const Params& p) {
    p.at_most(1);
    uint64_t h = chain.head().height;
    if (p.has(0) && !(p.p[0].is_string() && p.p[0] == "latest"))
      h = u64_of_json(p.p[0], 0, "height");
    auto b = stored(chain.block(h));
    return b ? block_json(*b) : json(nullptr);
  }
  // writ_getRawBlock: a block as the chain stores it (the header's and each
  // transaction's encoding), for clients that re-execute it.
  json get_raw_block(const Params& p) {
    p.at_most(1);
    auto b = stored(chain.block(u64_of_json(p.get(0, "height"), 0, "height")));
    if (!b) return nullptr;
    const std::string header = b->header.encode();
    json txs = json::array();
    for (const Transaction& t : b->txs) txs.push_back(to_hex(t.encode()));
    return {{"height", b->header.height},
            {"header", to_hex(std::span<const uint8_t>(
                           reinterpret_cast<const uint8_t*>(header.data()), header.size()))},
            {"transactions", txs}};
  }
  json get_genesis(const Params& p) {
    p.at_most(0);
    if (opts.genesis_json.empty()) return nullptr;
    json g = json::parse(opts.genesis_json, nullptr, false);
    if (g.is_discarded()) throw RpcError{kInternalError, "the node's genesis is not JSON"};
    return g;
  }
  json get_proof(const Params& p) {
    p.at_most(2);
    Address a = p.address(0, "address");
    if (p.has(1)) {
      auto sp = chain.prove_storage(a, p.word(1, "slot"));
      if (!sp.ok()) throw RpcError{kInternalError, sp.error().message};
      return storage_proof_obj(sp.value());
    }
    auto ap = chain.prove_account(a);
    if (!ap.ok()) throw RpcError{kInternalError, ap.error().message};
    return account_proof_obj(ap.value());
  }

  // writ_getLogs: the logs of committed blocks that match a filter, oldest
  // first. Filter fields (all optional): from_block and to_block (a height or
  // "latest"; default the head), address (one, or an array: any of them),
  // topics (per position: null for any, a hash, or an array of hashes: any
  // of them). The range is bounded, and so is the answer.
  static constexpr uint64_t kMaxLogBlocks = 10'000;
  static constexpr size_t kMaxLogs = 10'000;
  json get_logs(const Params& p) {
    p.at_most(1);
    const json filter = p.has(0) ? p.p[0] : json::object();
    if (!filter.is_object()) Params::bad(0, "filter", "expected an object");
    for (const auto& item : filter.items())
      if (item.key() != "from_block" && item.key() != "to_block" && item.key() != "address" &&
          item.key() != "topics")
        Params::bad(0, "filter", "unknown field \"" + item.key() + "\"");
    const uint64_t head = chain.head().height;
    auto height = [&](const char* field) -> uint64_t {
      auto it = filter.find(field);
      if (it == filter.end() || (it->is_string() && *it == "latest")) return head;
      const uint64_t h = u64_of_json(*it, 0, field);
      if (h > head)
        Params::bad(0, field, std::to_string(h) + " is above the head " + std::to_string(head));
      return h;
    };
    const uint64_t from = height("from_block"), to = height("to_block");
    if (from > to) Params::bad(0, "filter", "from_block is after to_block");
    if (to - from >= kMaxLogBlocks)
      Params::bad(0, "filter",
                  "a range of " + std::to_string(to - from + 1) + " blocks (limit " +
                      std::to_string(kMaxLogBlocks) + ")");
    auto hash_of = [](const json& v, const char* field) {
      auto h = v.is_string() ? Hash256::from_hex(v.get<std::string>()) : std::nullopt;
      if (!h) Params::bad(0, field, "expected 0x + 64 hex digits");
      return *h;
    };
    std::set<Address> addresses;  // empty: any
    if (auto it = filter.find("address"); it != filter.end()) {
      if (it->is_array()) {
        for (const json& a : *it) addresses.insert(Params::address_of_json(a, 0, "address"));
      } else {
        addresses.insert(Params::address_of_json(*it, 0, "address"));
      }
    }
    std::vector<std::set<Hash256>> topics;  // per position; empty: any
    if (auto it = filter.find("topics"); it != filter.end()) {
      if (!it->is_array()) Params::bad(0, "topics", "expected an array");
      for (const json& t : *it) {
        std::set<Hash256> any;
        if (t.is_array()) {
          for (const json& one : t) any.insert(hash_of(one, "topics"));
          if (any.empty()) Params::bad(0, "topics", "an empty alternative matches nothing");
        } else if (!t.is_null()) {
          any.insert(hash_of(t, "topics"));
        }
        topics.push_back(std::move(any));
      }
    }
    auto matches = [&](const Log& l) {
      if (!addresses.empty() && !addresses.count(l.address)) return false;
      if (topics.size() > l.topics.size()) return false;
      for (size_t i = 0; i < topics.size(); ++i)
        if (!topics[i].empty() && !topics[i].count(l.topics[i])) return false;
      return true;
    };
    json out = json::array();
    for (uint64_t h = from; h <= to; ++h) {
      auto b = stored(chain.block(h));
      if (!b)
        throw RpcError{kInternalError,
                       std::string(kStoreDamaged) + "block " + std::to_string(h) + " is missing"};
      uint32_t log_index = 0;  // within the block
      for (size_t i = 0; i < b->txs.size(); ++i) {
        if (budget_) {
          if (budget_->receipts_left == 0)
            throw RpcError{kLimitExceeded, "the request would read more than " +
                                               std::to_string(opts.max_log_receipts) +
                                               " receipts: narrow the block range"};
          --budget_->receipts_left;
        }
        auto r = stored(chain.receipt(b->txs[i].hash()));
        if (!r)
          throw RpcError{kInternalError, std::string(kStoreDamaged) + "a receipt of block " +
                                             std::to_string(h) + " is missing"};
        for (const Log& l : r->logs) {
          if (matches(l)) {
            if (out.size() == kMaxLogs)
              throw RpcError{kLimitExceeded,
                             "more than " + std::to_string(kMaxLogs) +
                                 " logs match: narrow the block range or the filter"};
            json t = json::array();
            for (const Hash256& topic : l.topics) t.push_back(hx(topic));
            out.push_back({{"height", h},
                           {"tx_hash", hx(r->tx_hash)},
                           {"tx_index", i},
                           {"log_index", log_index},
                           {"address", hx(l.address)},
                           {"topics", std::move(t)},
                           {"data", to_hex(l.data)}});
          }
          ++log_index;
        }
      }
    }
    return out;
  }

  // One request object to its response (null for a notification).
  json dispatch(const json& req, CallBudget& budget) {
    json id = nullptr;
    if (!req.is_object())
      return error_response(id, kInvalidRequest, "invalid request: expected a JSON object");
    bool notification = !req.contains("id");
    if (!notification) {
      id = req["id"];
      if (!id.is_null() && !id.is_string() && !id.is_number())
        return error_response(nullptr, kInvalidRequest,
                              "invalid request: id must be a string, a number or null");
    }
    if (!req.contains("jsonrpc") || req["jsonrpc"] != "2.0")
      return error_response(id, kInvalidRequest, "invalid request: \"jsonrpc\" must be \"2.0\"");
    if (!req.contains("method") || !req["method"].is_string())
      return error_response(id, kInvalidRequest, "invalid request: \"method\" must be a string");
    const std::string& name = req["method"].get_ref<const std::string&>();
    auto m = methods.find(name);
    json result;
    try {
      auto v = view_methods.find(name);
      if (m == methods.end() && v == view_methods.end())
        throw RpcError{kMethodNotFound, "method not found: " + name};
      json params = req.contains("params") ? req["params"] : json::array();
      if (params.is_object() && (name == "writ_call" || name == "writ_getLogs"))
        params = json::array({params});
      if (!params.is_array())
        throw RpcError{kInvalidParams, "params must be an array (positional)"};
      if (v != view_methods.end()) {
        result = (this->*(v->second))(Params{params}, budget);
      } else if (name == "writ_sendRawTransaction" && opts.submit) {
        result = submit(Params{params});  // without the lock: the consensus engine calls back
      } else {
        std::lock_guard<std::mutex> lock(chain_mu());
        budget_ = &budget;
        try {
          result = (this->*(m->second))(Params{params});
        } catch (...) {
          budget_ = nullptr;
          throw;
        }
        budget_ = nullptr;
      }
    } catch (const RpcError& e) {
      return notification ? json() : error_response(id, e.code, e.message);
    } catch (const std::exception& e) {
      return notification
                 ? json()
                 : error_response(id, kInternalError, std::string("internal error: ") + e.what());
    }
    if (notification) return json();
    return {{"jsonrpc", "2.0"}, {"id", id}, {"result", result}};
  }
};

RpcHandler::RpcHandler(Chain& chain, RpcOptions opts)
    : impl_(std::make_unique<Impl>(*this, chain, std::move(opts))) {}
RpcHandler::~RpcHandler() = default;

size_t RpcHandler::pending() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->queue.size();
}

size_t RpcHandler::produce_pending() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->queue.empty()) return 0;
  std::vector<Transaction> txs = std::move(impl_->queue);
  impl_->queue.clear();
  impl_->queued.clear();
  Chain::BlockResult block;
  try {
    block = impl_->produce(txs);
  } catch (const RpcError&) {
    // The commit failed: nothing changed. If the store refused the write (a
    // full disk), the transactions stay queued for the next try; otherwise
    // they are dropped, and their senders see no receipt.
    if (!impl_->storage_failure.empty()) {
      for (const Transaction& t : txs) impl_->queued.insert(t.hash());
      impl_->queue = std::move(txs);
      return 0;
    }
    return txs.size();
  }
  // What the block had no gas left for goes to the next one (a transaction
  // that fits an empty block), with the later transactions of its sender,
  // which the block refused as a nonce gap behind it.
  std::map<Hash256, Chain::RejectKind> refused;
  for (const Chain::Rejected& r : block.rejected) refused.emplace(r.hash, r.kind);
  std::set<Address> held;
  for (const Transaction& t : txs) {
    auto it = refused.find(t.hash());
    if (it == refused.end()) continue;
    const bool no_room = it->second == Chain::RejectKind::NoRoom && t.gas_limit <= kBlockGasLimit;
    if (no_room || (held.count(t.sender()) && it->second == Chain::RejectKind::NonceGap)) {
      held.insert(t.sender());
      impl_->queued.insert(t.hash());
      impl_->queue.push_back(t);
    }
  }
  return txs.size() - impl_->queue.size();
}

std::string RpcHandler::handle(std::string_view request) {
  try {
    auto parsed = parse_json_text(request);
    if (!parsed.ok())
      return dump(error_response(nullptr, kParseError, "parse error: " + parsed.error().message));
    json req = std::move(parsed.value());
    CallBudget budget = impl_->new_budget();  // one for the request, or the whole batch
    if (!req.is_array()) {
      json r = impl_->dispatch(req, budget);
      return r.is_null() ? std::string() : dump(r);
    }
    if (req.empty())
      return dump(error_response(nullptr, kInvalidRequest, "invalid request: empty batch"));
    if (req.size() > impl_->opts.max_batch)
      return dump(error_response(nullptr, kInvalidRequest,
                                 "invalid request: batch of " + std::to_string(req.size()) +
                                     " (limit " + std::to_string(impl_->opts.max_batch) + ")"));
    json out = json::array();
    for (const json& r : req) {
      json one = impl_->dispatch(r, budget);
      if (!one.is_null()) out.push_back(std::move(one));
    }
    return out.empty() ? std::string() : dump(out);
  } catch (const std::exception& e) {
    return dump(
        error_response(nullptr, kInternalError, std::string("internal error: ") + e.what()));
  }
}

}  // namespace writ::runtime
