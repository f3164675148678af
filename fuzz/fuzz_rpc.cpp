// libFuzzer target over the dev node's request path: the HTTP request head
// parser, then the JSON-RPC handler, on an in-memory chain with funded keys.
//
// An input is a whole HTTP request as a client sends it. For every input:
//   1. http_header_end and parse_http_head never crash; a rejected head gets
//      one of the documented statuses (http.hpp) and a reason; an accepted one
//      is a POST with a target, HTTP/1.0 or 1.1 and a Content-Length within
//      the body limit;
//   2. the body (what follows the head, or the whole input when there is no
//      head) goes to RpcHandler::handle, which never throws: its answer is
//      empty (notifications only) or JSON, either one response object or a
//      non-empty array of them, each with "jsonrpc": "2.0", an "id", and
//      exactly one of "result" and "error" (an integer code and a message);
//   3. a request that produced no block left the head block unchanged;
//   4. verify_proof_json on the body never crashes, and a proof the handler
//      itself served (writ_getProof) verifies.
// A broken invariant calls abort(): libFuzzer reports it as a crash.
//
// The chain (chain id 1, a fixed clock) lives for the whole run, so a valid
// signed payment in a seed is executed the first time and is a replay after.
// Seeds: fuzz/corpus/rpc/, written by this binary when WRIT_FUZZ_RPC_SEEDS
// names a directory (fuzz/make_seeds.sh): a request per method, batches,
// notifications, and signed payments from the funded keys.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "../runtime/http.hpp"
#include "writ/runtime/chain.hpp"
#include "writ/runtime/node.hpp"

namespace {

using namespace writ::runtime;
using json = nlohmann::json;

constexpr uint64_t kChainId = 1;
constexpr size_t kMaxBody = 1 << 20;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_rpc: invariant broken: %s\n", what.c_str());
  std::abort();
}

Keypair funded_key(uint8_t i) {
  std::array<uint8_t, 32> seed{};
  seed[0] = 0xF0;
  seed[1] = i;
  return keypair_from_seed(seed);
}

struct World {
  std::unique_ptr<Chain> chain;
  std::unique_ptr<RpcHandler> rpc;
};

World& world() {
  static World* w = [] {
    auto* out = new World;
    Genesis g;
    g.chain_id = kChainId;
    g.timestamp = 1'700'000'000;
    for (uint8_t i = 0; i < 2; ++i)
      g.accounts.push_back(
          {address_of(funded_key(i).pub), writ::vm::U256::from_u64(1'000'000'000)});
    auto c = Chain::open(open_memory_store(), g);
    if (!c.ok()) fail("the chain does not open: " + c.error().to_string());
    out->chain = std::move(c.value());
    out->chain->set_verify_threads(0);  // one thread: no pool to start per run
    RpcOptions o;
    o.clock = [] { return uint64_t{1'700'000'100}; };
    out->rpc = std::make_unique<RpcHandler>(*out->chain, o);
    return out;
  }();
  return *w;
}

void check_response_object(const json& r, const std::string& text) {
  if (!r.is_object()) fail("a response that is not an object: " + text);
  if (!r.contains("jsonrpc") || r["jsonrpc"] != "2.0") fail("no \"jsonrpc\": \"2.0\": " + text);
  if (!r.contains("id")) fail("a response without an id: " + text);
  const bool result = r.contains("result"), error = r.contains("error");
  if (result == error) fail("not exactly one of result and error: " + text);
  if (error) {
    const json& e = r["error"];
    if (!e.is_object() || !e.contains("code") || !e["code"].is_number_integer() ||
        !e.contains("message") || !e["message"].is_string())
      fail("a malformed error object: " + text);
  }
}

// A proof the handler served must verify offline.
void check_served_proofs(const json& r) {
  if (!r.is_object() || !r.contains("result") || !r["result"].is_object()) return;
  const json& p = r["result"];
  if (!p.contains("proof") || !p.contains("state_root")) return;
  auto v = verify_proof_json(p.dump());
  if (!v.ok() || !v.value()) fail("a served proof does not verify: " + p.dump());
}

std::string as_http_request(const std::string& body) {
  return "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
         "application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string request(const std::string& method, const json& params, int id = 1) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump();
}

Transaction payment(uint64_t nonce, uint8_t to, uint64_t value, uint64_t price) {
  Transaction t;
  t.kind = Transaction::Kind::Call;
  t.chain_id = kChainId;
  t.nonce = nonce;
  t.gas_limit = 5'000;
  t.gas_price = writ::vm::U256::from_u64(price);
  t.value = writ::vm::U256::from_u64(value);
  t.to = address_of(funded_key(to).pub);
  return t;
}

std::string payment_hex(uint8_t from, uint64_t nonce, uint8_t to, uint64_t value,
                        uint64_t price = 1) {
  Transaction t = payment(nonce, to, value, price);
  t.sign_with(funded_key(from));
  return to_hex(t.encode());
}

// The consensus rules' edge cases: a payment from a key that holds nothing,
// at gas price 0 (below the minimum) and at the minimum; and the small-order
// forgery (A = R = identity, S = 0), which the decoder refuses.
std::string unfunded_payment_hex(uint64_t price) {
  Transaction t = payment(0, 0, 0, price);
  t.sign_with(keypair_from_seed({0xEE}));
  return to_hex(t.encode());
}
std::string forged_payment_hex() {
  Transaction t = payment(0, 1, 5, 1);
  t.sender_key = PublicKey{};
  t.sender_key.bytes[0] = 1;
  t.signature = Signature{};
  t.signature.bytes[0] = 1;
  return to_hex(t.encode());
}

void write_seeds(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const std::string a = to_hex(address_of(funded_key(0).pub).bytes);
  const std::string b = to_hex(address_of(funded_key(1).pub).bytes);
  const std::vector<std::string> bodies = {
      request("writ_chainId", json::array()),
      request("writ_blockNumber", json::array()),
      request("writ_getBalance", {a}),
      request("writ_getNonce", {"0xB0B"}),
      request("writ_getAccount", {b}),
      request("writ_getStorage", {a, "0x0"}),
      request("writ_getCode", {a}),
      request("writ_getBlock", {"latest"}),
      request("writ_getBlock", {0}),
      request("writ_getProof", {a}),
      request("writ_getProof", {b, "0x01"}),
      request("writ_getProof", {"0xDEAD"}),
      request("writ_getReceipt", {word_hex(writ::vm::U256::from_u64(7))}),
      request("writ_call", json{{"from", a}, {"to", b}, {"data", "0x"}, {"gas", 100000}}),
      request("writ_sendRawTransaction", {payment_hex(0, 0, 1, 5)}),
      request("writ_sendRawTransaction", {payment_hex(1, 0, 0, 7)}),
      request("writ_sendRawTransaction", {payment_hex(0, 1, 1, 1'000'000'000'000)}),
      request("writ_sendRawTransaction", {"0x0100"}),
      request("writ_sendRawTransaction", {payment_hex(0, 0, 1, 5, 0)}),
      request("writ_sendRawTransaction", {unfunded_payment_hex(0)}),
      request("writ_sendRawTransaction", {unfunded_payment_hex(1)}),
      request("writ_sendRawTransaction", {forged_payment_hex()}),
      request("writ_getLogs", json::array()),
      request("writ_getLogs", json{{"from_block", 0},
                                   {"to_block", "latest"},
                                   {"address", json::array({a, b})},
                                   {"topics", json::array({nullptr, json::array({a})})}}),
      json::array({json::parse(request("writ_getBalance", {a}, 1)),
                   json{{"jsonrpc", "2.0"}, {"method", "writ_blockNumber"}},
                   json::parse(request("writ_nope", json::array(), 3))})
          .dump(),
      R"({"jsonrpc":"2.0","method":"writ_chainId"})",
      R"({"jsonrpc":"1.0","id":"x","method":"writ_chainId"})",
      R"([])",
      R"({"jsonrpc":"2.0","id":1,"method":"writ_getBalance","params":{"address":"0x1"}})",
  };
  int n = 0;
  auto put = [&](const std::string& bytes) {
    std::ofstream(dir / ("seed" + std::to_string(n++) + ".http"), std::ios::binary) << bytes;
  };
  for (const std::string& body : bodies) put(as_http_request(body));
  put("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  put("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  put("POST / HTTP/1.0\nContent-Length: 2\nExpect: 100-continue\n\n[]");
  put("POST / HTTP/2.0\r\nContent-Length: 1\r\n\r\n{");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("WRIT_FUZZ_RPC_SEEDS")) {
    write_seeds(dir);
    std::exit(0);
  }
  world();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // 1. The head.
  std::string_view body = input;
  const size_t at = http_header_end(input);
  if (at != std::string_view::npos) {
    if (at > input.size()) fail("the header end is past the input");
    HttpHead head;
    std::string why;
    const int status = parse_http_head(input.substr(0, at), kMaxBody, head, why);
    static const std::set<int> kStatuses = {0, 400, 405, 411, 413, 501, 505};
    if (!kStatuses.count(status)) fail("an undocumented status " + std::to_string(status));
    if (status != 0 && why.empty()) fail("a rejection without a reason");
    if (status == 0) {
      if (head.method != "POST" || head.target.empty() || !head.content_length ||
          *head.content_length > kMaxBody ||
          (head.version != "HTTP/1.1" && head.version != "HTTP/1.0"))
        fail("an accepted head breaks the rules");
    }
    body = input.substr(at);
  }

  // 2, 3. The JSON-RPC handler.
  World& w = world();
  const BlockHeader before = w.chain->head();
  const uint64_t produced = w.rpc->blocks_produced();
  const std::string answer = w.rpc->handle(body);
  if (w.rpc->blocks_produced() == produced && !(w.chain->head() == before))
    fail("the head changed without a block");
  if (!answer.empty()) {
    const json r = json::parse(answer, nullptr, false);
    if (r.is_discarded()) fail("an answer that is not JSON: " + answer);
    if (r.is_array()) {
      if (r.empty()) fail("an empty batch answer");
      for (const json& one : r) {
        check_response_object(one, answer);
        check_served_proofs(one);
      }
    } else {
      check_response_object(r, answer);
      check_served_proofs(r);
    }
  }

  // 4. The offline proof checker.
  (void)verify_proof_json(body);
  return 0;
}
