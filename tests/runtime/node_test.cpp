// The dev node over real HTTP: every JSON-RPC method, malformed HTTP, JSON and
// params, invalid transactions, slow clients, the connection limit, heavy
// read calls beside blocks and other requests, interval blocks, data
// directories, and shutdown. Every server binds 127.0.0.1:0 and is stopped
// (and its thread joined) by the fixture, with exit_after_ms as a backstop.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "test_token.hpp"
#include "writ/compiler/compiler.hpp"
#include "writ/runtime/node.hpp"
#include "writ/vm/abi.hpp"

namespace writ::runtime {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using vm::Value;
using namespace std::chrono_literals;

Bytes token_code() {
  auto out = compiler::compile_source("token.writ", fixtures::test_token_source(), {});
  EXPECT_TRUE(out.ok) << out.diagnostics;
  return out.ok ? out.contracts[0].bytecode : Bytes{};
}

Bytes call_data(const std::string& name, std::vector<vm::ValType> types, std::vector<Value> args) {
  return vm::call_input(vm::selector_of(name, types), args);
}

Bytes transfer_data(const Address& to, uint64_t amount) {
  return call_data("transfer", {vm::ValType::U256, vm::ValType::U256},
                   {Value::u256(to.to_u256()), Value::u256(U256::from_u64(amount))});
}

// Slot of balances[who]: the map is storage field 0, an entry at sha256(key || 0).
U256 balance_slot(const Address& who) {
  uint8_t in[64];
  vm::to_be_bytes(who.to_u256(), in);
  vm::to_be_bytes(U256::zero(), in + 32);
  return sha256(std::span<const uint8_t>(in, 64)).to_u256();
}

size_t thread_count() {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator("/proc/self/task")) n += e.is_directory() ? 1 : 0;
  return n;
}

// ---- a tiny HTTP client, independent of the node's own -----------------------------

struct Reply {
  int status = 0;  // 0: the server closed without a reply
  std::string body;
};

int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void send_raw(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;  // the server may refuse early (413, 431)
    off += static_cast<size_t>(n);
  }
}

Reply read_reply(int fd) {
  std::string buf;
  char tmp[4096];
  for (;;) {
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) break;
    buf.append(tmp, static_cast<size_t>(n));
  }
  ::close(fd);
  Reply r;
  if (buf.rfind("HTTP/1.1 ", 0) != 0) return r;
  r.status = std::atoi(buf.c_str() + 9);
  size_t at = buf.find("\r\n\r\n");
  if (at != std::string::npos) r.body = buf.substr(at + 4);
  return r;
}

Reply http_exchange(uint16_t port, const std::string& raw) {
  int fd = connect_to(port);
  if (fd < 0) return {};
  send_raw(fd, raw);
  return read_reply(fd);
}

std::string post(const std::string& body) {
  return "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// ---- the fixture ----------------------------------------------------------------------

class Node : public ::testing::Test {
 protected:
  Keypair alice = keypair_from_seed({1});
  Keypair bob = keypair_from_seed({2});
  fs::path dir;
  std::unique_ptr<Chain> chain;
  std::unique_ptr<RpcHandler> handler;
  std::unique_ptr<RpcServer> server;
  std::thread thread;
  uint16_t port = 0;
  int next_id = 1;
  std::string genesis_json;  // the data directory's, as open_data_dir kept it

  void SetUp() override {
    static int counter = 0;
    dir = fs::temp_directory_path() /
          ("writ-node-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override {
    stop();
    server.reset();
    handler.reset();
    chain.reset();
    fs::remove_all(dir);
  }

  fs::path write_genesis(uint64_t chain_id = 7) {
    fs::path g = dir / "genesis.json";
    std::ofstream(g) << "{\"chain_id\": " << chain_id
                     << ", \"timestamp\": 1700000000, \"accounts\": [{\"address\": \""
                     << hx(address_of(alice.pub)) << "\", \"balance\": \"1000000000\"}]}";
    return g;
  }
  static std::string hx(const Hash256& h) { return "0x" + h.hex(); }

  void open_chain(bool rocks = true) {
    if (rocks) {
      auto d = open_data_dir((dir / "data").string(), write_genesis().string(), {.create = true});
      ASSERT_TRUE(d.ok()) << d.error().to_string();
      chain = std::move(d->chain);
      genesis_json = d->genesis_json;
    } else {
      Genesis g;
      g.chain_id = 7;
      g.timestamp = 1'700'000'000;
      g.accounts.push_back({address_of(alice.pub), U256::from_u64(1'000'000'000)});
      auto c = Chain::open(open_memory_store(), g);
      ASSERT_TRUE(c.ok());
      chain = std::move(c.value());
    }
  }

  void start(ServerOptions so = {}, RpcOptions ro = {}, bool rocks = true) {
    open_chain(rocks);
    ASSERT_TRUE(chain);
    ro.clock = [] { return uint64_t{1'700'000'100}; };
    if (ro.genesis_json.empty()) ro.genesis_json = genesis_json;
    handler = std::make_unique<RpcHandler>(*chain, ro);
    so.bind = "127.0.0.1:0";
    if (so.exit_after_ms == 0) so.exit_after_ms = 60'000;  // never outlive a hung test
    server = std::make_unique<RpcServer>(*handler, so);
    Status s = server->start();
    ASSERT_TRUE(s.ok) << s.message;
    port = server->port();
    ASSERT_NE(port, 0);
    thread = std::thread([this] { server->run(); });
  }
  void stop() {
    if (server) server->stop();
    if (thread.joinable()) thread.join();
  }

  json rpc(const std::string& method, json params = json::array()) {
    json req = {{"jsonrpc", "2.0"}, {"id", next_id++}, {"method", method}, {"params", params}};
    Reply r = http_exchange(port, post(req.dump()));
    EXPECT_EQ(r.status, 200) << r.body;
    json j = json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.body;
    return j;
  }
  json result(const std::string& method, json params = json::array()) {
    json j = rpc(method, params);
    EXPECT_TRUE(j.contains("result")) << method << ": " << j.dump();
    return j.contains("result") ? j["result"] : json();
  }
  json error(const std::string& method, json params = json::array()) {
    json j = rpc(method, params);
    EXPECT_TRUE(j.contains("error")) << method << ": " << j.dump();
    return j.contains("error") ? j["error"] : json::object();
  }

  Transaction tx(const Keypair& k, uint64_t nonce, Address to, Bytes data, uint64_t value = 0,
                 uint64_t gas = 2'000'000) {
    Transaction t;
    t.kind = Transaction::Kind::Call;
    t.chain_id = 7;
    t.nonce = nonce;
    t.gas_limit = gas;
    t.gas_price = U256::from_u64(1);
    t.value = U256::from_u64(value);
    t.to = to;
    t.data = std::move(data);
    t.sign_with(k);
    return t;
  }
  Transaction deploy(uint64_t nonce, uint64_t supply) {
    Transaction t =
        tx(alice, nonce, Address{},
           call_data("$init", {vm::ValType::U256}, {Value::u256(U256::from_u64(supply))}));
    t.kind = Transaction::Kind::Deploy;
    t.code = token_code();
    t.sign_with(alice);
    return t;
  }
  std::string raw(const Transaction& t) { return to_hex(t.encode()); }
};

TEST_F(Node, ServesEveryMethodOverHttp) {
  start();
  const Address a = address_of(alice.pub), b = address_of(bob.pub);
  EXPECT_EQ(result("writ_chainId"), 7);
  EXPECT_EQ(result("writ_blockNumber"), 0);
  EXPECT_EQ(result("writ_getBalance", {hx(a)}), "1000000000");
  EXPECT_EQ(result("writ_getNonce", {hx(a)}), 0);

  // Deploy: answered after its block commits.
  Transaction d = deploy(0, 1000);
  EXPECT_EQ(result("writ_sendRawTransaction", {raw(d)}), hx(d.hash()));
  EXPECT_EQ(result("writ_blockNumber"), 1);
  json rc = result("writ_getReceipt", {hx(d.hash())});
  ASSERT_TRUE(rc.is_object());
  EXPECT_EQ(rc["status"], "Ok");
  EXPECT_EQ(rc["height"], 1);
  const Address token = contract_address(a, 0);
  EXPECT_EQ(rc["contract"], hx(token));
  EXPECT_GT(rc["gas_used"].get<uint64_t>(), kTxBaseGas);
  EXPECT_EQ(result("writ_getCode", {hx(token)}), to_hex(token_code()));
  EXPECT_TRUE(result("writ_getCode", {hx(b)}).is_null());
  EXPECT_EQ(result("writ_getNonce", {hx(a)}), 1);

  // A transfer: logs with address, topics and data.
  Transaction t = tx(alice, 1, token, transfer_data(b, 250));
  EXPECT_EQ(result("writ_sendRawTransaction", {raw(t)}), hx(t.hash()));
  rc = result("writ_getReceipt", {hx(t.hash())});
  EXPECT_EQ(rc["status"], "Ok");
  EXPECT_TRUE(rc["contract"].is_null());
  ASSERT_EQ(rc["logs"].size(), 1u);
  EXPECT_EQ(rc["logs"][0]["address"], hx(token));
  ASSERT_EQ(rc["logs"][0]["topics"].size(), 3u);
  EXPECT_EQ(rc["logs"][0]["topics"][1], hx(a));
  EXPECT_EQ(rc["logs"][0]["topics"][2], hx(b));
  EXPECT_EQ(rc["logs"][0]["data"],
            to_hex(vm::abi_encode(std::vector<Value>{Value::u256(U256::from_u64(250))})));
  EXPECT_EQ(rc["output"], to_hex(vm::abi_encode(std::vector<Value>{Value::u64(1)})));

  // Read-only calls: results, reverts with their data, nothing committed.
  Hash256 root = chain->head().state_root;
  json c = result("writ_call", {{{"to", hx(token)},
                                 {"data", to_hex(call_data("balance_of", {vm::ValType::U256},
                                                           {Value::u256(b.to_u256())}))}}});
  EXPECT_EQ(c["status"], "Ok");
  EXPECT_EQ(c["output"], word_hex(U256::from_u64(250)));
  EXPECT_GT(c["gas_used"].get<uint64_t>(), 0u);
  c = result("writ_call", {{{"from", hx(b)},
                            {"to", hx(token)},
                            {"data", to_hex(transfer_data(a, 5000))},
                            {"gas", 100000}}});
  EXPECT_EQ(c["status"], "Revert");
  EXPECT_EQ(c["status_code"], 1);
  EXPECT_TRUE(c["revert"].is_string());
  EXPECT_EQ(c["revert"], c["output"]);
  EXPECT_TRUE(c.contains("trap"));
  c = result(
      "writ_call",
      {{{"from", hx(a)}, {"to", hx(token)}, {"data", to_hex(transfer_data(b, 1))}}, "latest"});
  EXPECT_EQ(c["status"], "Ok");
  EXPECT_EQ(chain->head().state_root, root);  // the call changed nothing

  // Storage, accounts, blocks.
  EXPECT_EQ(result("writ_getStorage", {hx(token), word_hex(balance_slot(b))}),
            word_hex(U256::from_u64(250)));
  EXPECT_EQ(result("writ_getStorage", {hx(token), "12345"}), word_hex(U256::zero()));
  json acct = result("writ_getAccount", {hx(token)});
  EXPECT_EQ(acct["nonce"], 0);
  EXPECT_NE(acct["code_hash"], hx(Hash256{}));
  json blk = result("writ_getBlock", {1});
  EXPECT_EQ(blk["height"], 1);
  EXPECT_EQ(blk["transactions"], json::array({hx(d.hash())}));
  EXPECT_EQ(blk["hash"], hx(chain->block(1).value()->header.hash()));
  json latest = result("writ_getBlock", {"latest"});
  EXPECT_EQ(latest["height"], 2);
  EXPECT_EQ(latest["state_root"], hx(chain->head().state_root));
  EXPECT_EQ(latest["parent_hash"], blk["hash"]);
  EXPECT_EQ(result("writ_getBlock").value("height", 0), 2);
  EXPECT_TRUE(result("writ_getBlock", {99}).is_null());
  EXPECT_TRUE(result("writ_getReceipt", {hx(sha256(std::string_view("none"), {}))}).is_null());

  // Proofs: verified by the node, and again offline from the JSON alone.
  json p = result("writ_getProof", {hx(a)});
  EXPECT_EQ(p["kind"], "account");
  EXPECT_EQ(p["verified"], true);
  EXPECT_EQ(p["state_root"], hx(chain->head().state_root));
  EXPECT_EQ(p["height"], 2);
  auto v = verify_proof_json(p.dump());
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_TRUE(v.value());
  json forged = p;
  forged["account"]["balance"] = "999999999999";
  EXPECT_FALSE(verify_proof_json(forged.dump()).value());
  json sp = result("writ_getProof", {hx(token), word_hex(balance_slot(b))});
  EXPECT_EQ(sp["kind"], "storage");
  EXPECT_EQ(sp["present"], true);
  EXPECT_EQ(sp["value"], word_hex(U256::from_u64(250)));
  EXPECT_EQ(sp["verified"], true);
  EXPECT_TRUE(verify_proof_json(sp.dump()).value());
  forged = sp;
  forged["value"] = word_hex(U256::from_u64(251));
  EXPECT_FALSE(verify_proof_json(forged.dump()).value());
  json absent = result("writ_getProof", {"0xDEAD"});
  EXPECT_TRUE(absent["account"].is_null());
  EXPECT_EQ(absent["verified"], true);
  EXPECT_FALSE(verify_proof_json("{\"kind\": \"account\"}").ok());
}

// writ_getGenesis and writ_getRawBlock give a client what it needs to rebuild
// the chain elsewhere (writ debug --tx --rpc): the same blocks, re-executed,
// reach the same state root.
TEST_F(Node, TheGenesisAndRawBlocksRebuildTheChainElsewhere) {
  start();
  const Address a = address_of(alice.pub), b = address_of(bob.pub);
  Transaction d = deploy(0, 1000);
  ASSERT_EQ(result("writ_sendRawTransaction", {raw(d)}), hx(d.hash()));
  Transaction t = tx(alice, 1, contract_address(a, 0), transfer_data(b, 250));
  ASSERT_EQ(result("writ_sendRawTransaction", {raw(t)}), hx(t.hash()));
  ASSERT_EQ(result("writ_blockNumber"), 2);

  json g = result("writ_getGenesis");
  ASSERT_TRUE(g.is_object());
  EXPECT_EQ(g["chain_id"], 7);
  auto genesis = parse_genesis_json(g.dump(), ".");
  ASSERT_TRUE(genesis.ok()) << genesis.error().message;
  auto replica = Chain::open(open_memory_store(), genesis.value());
  ASSERT_TRUE(replica.ok()) << replica.error().message;
  for (uint64_t h = 0; h <= 2; ++h) {
    json raw_block = result("writ_getRawBlock", {h});
    ASSERT_TRUE(raw_block.is_object());
    EXPECT_EQ(raw_block["height"], h);
    auto header_bytes = from_hex(raw_block["header"].get<std::string>());
    ASSERT_TRUE(header_bytes);
    auto header = BlockHeader::decode(std::string_view(
        reinterpret_cast<const char*>(header_bytes->data()), header_bytes->size()));
    ASSERT_TRUE(header.ok()) << header.error().message;
    EXPECT_EQ(hx(header.value().hash()), result("writ_getBlock", {h})["hash"]);
    Block block{header.value(), {}};
    for (const json& tx : raw_block["transactions"]) {
      auto bytes = from_hex(tx.get<std::string>());
      ASSERT_TRUE(bytes);
      auto decoded = decode_transaction(*bytes);
      ASSERT_TRUE(decoded.ok()) << decoded.error().message;
      block.txs.push_back(decoded.value());
    }
    EXPECT_EQ(block.txs.size(), h == 0 ? 0u : 1u);
    if (h == 0) {
      EXPECT_EQ(header.value().hash(), replica.value()->head().hash());  // the same genesis
      continue;
    }
    auto applied = replica.value()->apply_block(block);
    ASSERT_TRUE(applied.ok()) << applied.error().message;
  }
  EXPECT_EQ(replica.value()->head().state_root, chain->head().state_root);
  EXPECT_TRUE(result("writ_getRawBlock", {99}).is_null());
  EXPECT_EQ(error("writ_getRawBlock")["code"], -32602);
  EXPECT_EQ(error("writ_getGenesis", {1})["code"], -32602);
}

TEST_F(Node, MalformedHttpGetsA4xxAndTheServerKeepsServing) {
  ServerOptions so;
  so.max_body = 1024;
  so.max_header = 2048;
  start(so);
  EXPECT_EQ(http_exchange(port, "hello\r\n\r\n").status, 400);
  EXPECT_EQ(
      http_exchange(port, "POST / HTTP/1.1\r\nno colon here\r\nContent-Length: 2\r\n\r\n{}").status,
      400);
  EXPECT_EQ(http_exchange(port, "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n").status, 400);
  EXPECT_EQ(
      http_exchange(port, "POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}")
          .status,
      400);
  EXPECT_EQ(http_exchange(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").status, 405);
  EXPECT_EQ(http_exchange(port, "POST / HTTP/1.1\r\nHost: x\r\n\r\n").status, 411);
  EXPECT_EQ(http_exchange(port, "POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n").status, 413);
  EXPECT_EQ(http_exchange(
                port, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
                .status,
            501);
  EXPECT_EQ(http_exchange(port, "POST / HTTP/2.0\r\nContent-Length: 2\r\n\r\n{}").status, 505);
  EXPECT_EQ(http_exchange(port, "POST / HTTP/1.1\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n")
                .status,
            431);
  // Expect: 100-continue gets the interim reply, then the real one.
  std::string body = R"({"jsonrpc":"2.0","id":1,"method":"writ_chainId"})";
  int fd = connect_to(port);
  ASSERT_GE(fd, 0);
  send_raw(fd, "POST / HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) +
                   "\r\nExpect: 100-continue\r\n\r\n");
  char interim[64] = {};
  ASSERT_GT(::recv(fd, interim, sizeof interim - 1, 0), 0);
  EXPECT_EQ(std::string(interim).rfind("HTTP/1.1 100 Continue\r\n\r\n", 0), 0u) << interim;
  send_raw(fd, body);
  Reply r = read_reply(fd);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["result"], 7);
  // Bare-LF clients are tolerated.
  r = http_exchange(
      port, "POST / HTTP/1.0\nContent-Length: " + std::to_string(body.size()) + "\n\n" + body);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["result"], 7);
  EXPECT_EQ(result("writ_chainId"), 7);
  EXPECT_GE(server->requests_served(), 2u);
}

// writ_getLogs reads at most max_log_receipts receipts for a request, a
// batch's requests together: a filter that matches nothing was bounded only
// by the logs it returned, and the scan holds the chain's lock.
TEST_F(Node, GetLogsReadsABoundedNumberOfReceipts) {
  ServerOptions so;
  RpcOptions ro;
  ro.max_log_receipts = 4;
  start(so, ro);
  const Address b = address_of(bob.pub);
  for (uint64_t n = 0; n < 6; ++n)
    ASSERT_TRUE(result("writ_sendRawTransaction", {raw(tx(alice, n, b, {}, 1, 5000))}).is_string());
  ASSERT_EQ(result("writ_blockNumber"), 6);
  json e = error("writ_getLogs", {{{"from_block", 1}, {"to_block", 6}}});
  EXPECT_EQ(e["code"], -32005) << e.dump();
  EXPECT_NE(e.value("message", "").find("more than 4 receipts"), std::string::npos) << e.dump();
  EXPECT_TRUE(result("writ_getLogs", {{{"from_block", 1}, {"to_block", 4}}}).is_array());
  // A batch shares the bound: 3 receipts, then 3 more past it.
  Reply r = http_exchange(
      port,
      post(
          R"([{"jsonrpc":"2.0","id":1,"method":"writ_getLogs","params":[{"from_block":1,"to_block":3}]},
                    {"jsonrpc":"2.0","id":2,"method":"writ_getLogs","params":[{"from_block":4,"to_block":6}]}])"));
  json batch = json::parse(r.body, nullptr, false);
  ASSERT_TRUE(batch.is_array()) << r.body;
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_TRUE(batch[0]["result"].is_array()) << batch.dump();
  EXPECT_EQ(batch[1]["error"]["code"], -32005) << batch.dump();
}

TEST_F(Node, GetLogsFiltersCommittedLogsByRangeAddressAndTopics) {
  start();
  const Address a = address_of(alice.pub), b = address_of(bob.pub);
  const Address carol = Hash256::from_u256(U256::from_u64(0xCA401));
  // A block per transaction: 1, 2 deploy two tokens; 3: a -> b 10 and 4:
  // a -> carol 20 on the first; 5: a -> b 30 on the second; 6: a transfer
  // that reverts (no logs).
  Transaction d1 = deploy(0, 1000), d2 = deploy(1, 1000);
  ASSERT_EQ(result("writ_sendRawTransaction", {raw(d1)}), hx(d1.hash()));
  ASSERT_EQ(result("writ_sendRawTransaction", {raw(d2)}), hx(d2.hash()));
  const Address t1 = contract_address(a, 0), t2 = contract_address(a, 1);
  Transaction p1 = tx(alice, 2, t1, transfer_data(b, 10));
  Transaction p2 = tx(alice, 3, t1, transfer_data(carol, 20));
  Transaction p3 = tx(alice, 4, t2, transfer_data(b, 30));
  Transaction bad = tx(alice, 5, t1, transfer_data(b, 1'000'000));
  for (const Transaction* t : {&p1, &p2, &p3, &bad})
    ASSERT_EQ(result("writ_sendRawTransaction", {raw(*t)}), hx(t->hash()));
  ASSERT_EQ(result("writ_blockNumber"), 6);  // a block per transaction
  const std::string transfer_topic =
      result("writ_getReceipt", {hx(p1.hash())})["logs"][0]["topics"][0];

  auto amounts = [](const json& logs) {
    std::vector<uint64_t> out;
    for (const json& l : logs) {
      auto data = from_hex(l["data"].get<std::string>());
      out.push_back(data ? vm::from_be_bytes(data->data()).low64() : 0);
    }
    return out;
  };
  // Everything: the three transfers, oldest first.
  json all = result("writ_getLogs", {{{"from_block", 0}, {"to_block", "latest"}}});
  EXPECT_EQ(amounts(all), (std::vector<uint64_t>{10, 20, 30})) << all.dump();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0]["height"], 3);
  EXPECT_EQ(all[0]["tx_hash"], hx(p1.hash()));
  EXPECT_EQ(all[0]["tx_index"], 0);
  EXPECT_EQ(all[0]["log_index"], 0);
  EXPECT_EQ(all[0]["address"], hx(t1));
  EXPECT_EQ(all[2]["address"], hx(t2));
  // The default range is the head block alone (the reverted transfer: none).
  EXPECT_EQ(result("writ_getLogs"), json::array());
  EXPECT_EQ(result("writ_getLogs", {{{"from_block", 4}, {"to_block", 4}}}).size(), 1u);
  // By address, one or any of several.
  EXPECT_EQ(amounts(result("writ_getLogs", {{{"from_block", 0}, {"address", hx(t2)}}})),
            (std::vector<uint64_t>{30}));
  EXPECT_EQ(amounts(result("writ_getLogs",
                           {{{"from_block", 0}, {"address", json::array({hx(t2), hx(t1)})}}})),
            (std::vector<uint64_t>{10, 20, 30}));
  // By topic: position 2 is the indexed recipient; null matches anything.
  EXPECT_EQ(amounts(result("writ_getLogs", {{{"from_block", 0},
                                             {"topics", json::array({nullptr, nullptr, hx(b)})}}})),
            (std::vector<uint64_t>{10, 30}));
  EXPECT_EQ(amounts(result(
                "writ_getLogs",
                {{{"from_block", 0},
                  {"address", hx(t1)},
                  {"topics", json::array({transfer_topic, hx(a), json::array({hx(carol)})})}}})),
            (std::vector<uint64_t>{20}));
  EXPECT_EQ(result("writ_getLogs", {{{"from_block", 0}, {"topics", json::array({hx(b)})}}}),
            json::array());
  // Bad filters name the field.
  auto message = [&](json filter) {
    json e = error("writ_getLogs", {filter});
    EXPECT_EQ(e.value("code", 0), -32602) << e.dump();
    return e.value("message", std::string());
  };
  EXPECT_NE(message({{"from_block", 9}}).find("from_block"), std::string::npos);
  EXPECT_NE(message({{"from_block", 5}, {"to_block", 2}}).find("after"), std::string::npos);
  EXPECT_NE(message({{"address", "zz"}}).find("address"), std::string::npos);
  EXPECT_NE(message({{"topics", json::array({"0x12"})}}).find("topics"), std::string::npos);
  EXPECT_NE(message({{"fromBlock", 0}}).find("unknown field \"fromBlock\""), std::string::npos);
  EXPECT_NE(message(json::array()).find("expected an object"), std::string::npos);
}

TEST_F(Node, MalformedJsonRpcGetsProperErrors) {
  start();
  auto err_of = [&](const std::string& body) {
    Reply r = http_exchange(port, post(body));
    EXPECT_EQ(r.status, 200) << body;
    json j = json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"] : json::object();
  };
  EXPECT_EQ(err_of("{nope")["code"], -32700);
  EXPECT_EQ(err_of("")["code"], -32700);
  EXPECT_EQ(err_of("[]")["code"], -32600);
  EXPECT_EQ(err_of("42")["code"], -32600);
  EXPECT_EQ(err_of(R"({"id":1,"method":"writ_chainId"})")["code"], -32600);  // no "jsonrpc"
  EXPECT_EQ(err_of(R"({"jsonrpc":"2.0","id":1,"method":5})")["code"], -32600);
  EXPECT_EQ(err_of(R"({"jsonrpc":"2.0","id":{},"method":"writ_chainId"})")["code"], -32600);
  EXPECT_EQ(error("writ_nope")["code"], -32601);
  EXPECT_EQ(error("eth_blockNumber")["code"], -32601);

  auto bad = [&](const std::string& method, json params, const std::string& says) {
    json e = error(method, params);
    EXPECT_EQ(e["code"], -32602) << method;
    EXPECT_NE(e.value("message", "").find(says), std::string::npos) << method << ": " << e.dump();
  };
  bad("writ_getBalance", json::array(), "missing param 0 (address)");
  bad("writ_getBalance", {"zz"}, "param 0 (address): invalid address");
  bad("writ_getBalance", {42}, "param 0 (address)");
  bad("writ_getBalance", {"0xB0B", 1}, "too many params");
  bad("writ_getStorage", {"0xB0B"}, "missing param 1 (slot)");
  bad("writ_getStorage", {"0xB0B", "-1"}, "param 1 (slot)");
  bad("writ_getReceipt", {"0x12"}, "param 0 (tx_hash)");
  bad("writ_getBlock", {-1}, "param 0 (height)");
  bad("writ_sendRawTransaction", {"0x1234"}, "param 0 (transaction)");
  bad("writ_sendRawTransaction", {"xyz"}, "param 0 (transaction)");
  bad("writ_call", {{{"data", "0x"}}}, "call.to");
  bad("writ_call", {{{"to", "0xB0B"}, {"value", 1}}}, "unknown field \"value\"");
  bad("writ_call", {{{"to", "0xB0B"}, {"gas", "lots"}}}, "call.gas");
  bad("writ_call", {{{"to", "0xB0B"}}, "pending"}, "param 1 (block)");
  bad("writ_chainId", {1}, "too many params");
  EXPECT_EQ(rpc("writ_getBalance", {{"address", "0xB0B"}})["error"]["code"], -32602);

  // Batches answer each request, notifications are not answered.
  Reply r = http_exchange(port, post(R"([{"jsonrpc":"2.0","id":"a","method":"writ_chainId"},
                                    {"jsonrpc":"2.0","method":"writ_blockNumber"},
                                    {"jsonrpc":"2.0","id":"c","method":"writ_nope"}])"));
  ASSERT_EQ(r.status, 200);
  json batch = json::parse(r.body);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0]["id"], "a");
  EXPECT_EQ(batch[0]["result"], 7);
  EXPECT_EQ(batch[1]["id"], "c");
  EXPECT_EQ(batch[1]["error"]["code"], -32601);
  r = http_exchange(port, post(R"({"jsonrpc":"2.0","method":"writ_chainId"})"));
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.empty());
  // Bytes that are not UTF-8, and deep nesting, are answered, not fatal.
  r = http_exchange(port, "P\xff\xfeST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(r.status, 405);
  EXPECT_NE(r.body.find("JSON-RPC requests are POSTed"), std::string::npos);
  r = http_exchange(port, post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}"));
  EXPECT_EQ(json::parse(r.body, nullptr, false).value("error", json::object()).value("code", 0),
            -32700);
  // Nested past 256 levels: refused before it is parsed. A request nested
  // 200,000 deep in "params" or "id" was copied level by level and
  // overflowed the server thread's stack (the node died of SIGSEGV).
  const auto nested = [](size_t n) { return std::string(n, '[') + std::string(n, ']'); };
  for (const std::string& body :
       {nested(300'000),
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"writ_chainId\",\"params\":" + nested(200'000) +
            "}",
        "{\"jsonrpc\":\"2.0\",\"id\":" + nested(200'000) + ",\"method\":\"writ_chainId\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"writ_chainId\",\"params\":" + nested(257) +
            "}"}) {
    r = http_exchange(port, post(body));
    ASSERT_EQ(r.status, 200);
    json deep = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(deep.is_object()) << r.body.substr(0, 200);
    EXPECT_EQ(deep["error"]["code"], -32700);
    EXPECT_NE(deep["error"]["message"].get<std::string>().find("nested deeper than 256 levels"),
              std::string::npos);
  }
  // 256 levels are parsed (and the params refused for what they are); so is
  // a bracket inside a string, which is not nesting.
  r = http_exchange(port,
                    post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"writ_chainId\",\"params\":" +
                         nested(255) + "}"));
  EXPECT_EQ(json::parse(r.body, nullptr, false)["error"]["code"], -32602) << r.body.substr(0, 200);
  r = http_exchange(port, post("{\"jsonrpc\":\"2.0\",\"id\":\"" + std::string(1000, '[') +
                               "\",\"method\":\"writ_chainId\"}"));
  EXPECT_EQ(json::parse(r.body, nullptr, false)["result"], 7) << r.body.substr(0, 200);
  // Still serving, and the chain did not move.
  EXPECT_EQ(result("writ_blockNumber"), 0);
}

TEST_F(Node, InvalidTransactionsAreRejectedAndChangeNothing) {
  start();
  const Address b = address_of(bob.pub);
  const Hash256 root = chain->head().state_root;
  Transaction good = tx(alice, 0, b, {}, 5, 5000);
  Transaction bad_sig = good;
  bad_sig.signature.bytes[0] ^= 1;
  json e = error("writ_sendRawTransaction", {raw(bad_sig)});
  EXPECT_EQ(e["code"], -32000);
  EXPECT_EQ(e["message"], "transaction rejected: bad signature");
  e = error("writ_sendRawTransaction", {raw(tx(alice, 3, b, {}, 5, 5000))});
  EXPECT_NE(e.value("message", "").find("nonce gap"), std::string::npos) << e.dump();
  e = error("writ_sendRawTransaction", {raw(tx(bob, 0, b, {}, 5, 5000))});
  EXPECT_NE(e.value("message", "").find("insufficient balance"), std::string::npos) << e.dump();
  Transaction other_chain = good;
  other_chain.chain_id = 8;
  other_chain.sign_with(alice);
  e = error("writ_sendRawTransaction", {raw(other_chain)});
  EXPECT_NE(e.value("message", "").find("wrong chain id 8"), std::string::npos) << e.dump();
  EXPECT_EQ(chain->head().height, 0u);
  EXPECT_EQ(chain->head().state_root, root);
  EXPECT_EQ(handler->blocks_produced(), 0u);
  EXPECT_TRUE(result("writ_getReceipt", {hx(bad_sig.hash())}).is_null());
  // The valid one goes through; replaying it is refused.
  EXPECT_EQ(result("writ_sendRawTransaction", {raw(good)}), hx(good.hash()));
  EXPECT_EQ(result("writ_getBalance", {hx(b)}), "5");
  e = error("writ_sendRawTransaction", {raw(good)});
  EXPECT_NE(e.value("message", "").find("replay"), std::string::npos) << e.dump();
  EXPECT_EQ(chain->head().height, 1u);
}

TEST_F(Node, SlowAndSilentClientsDoNotHoldTheServer) {
  ServerOptions so;
  so.io_timeout_ms = 400;
  start(so);
  // A client that stops half-way through its body, and one that says nothing.
  int slow = connect_to(port);
  ASSERT_GE(slow, 0);
  send_raw(slow, "POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\"");
  int silent = connect_to(port);
  ASSERT_GE(silent, 0);
  // Others are served meanwhile, promptly.
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(result("writ_chainId"), 7);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 300ms);
  // The slow one gets 408 once its deadline passes; the silent one is closed.
  Reply r = read_reply(slow);
  EXPECT_EQ(r.status, 408);
  auto t1 = std::chrono::steady_clock::now();
  Reply s = read_reply(silent);
  EXPECT_EQ(s.status, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t1, 2s);
  EXPECT_EQ(result("writ_blockNumber"), 0);
}

TEST_F(Node, ConnectionsBeyondTheLimitGet503) {
  ServerOptions so;
  so.io_timeout_ms = 1000;
  so.max_connections = 2;
  start(so);
  int c1 = connect_to(port), c2 = connect_to(port);
  ASSERT_GE(c1, 0);
  ASSERT_GE(c2, 0);
  send_raw(c1, "POST / HTTP/1.1\r\n");
  send_raw(c2, "POST / HTTP/1.1\r\n");
  std::this_thread::sleep_for(100ms);  // both accepted
  Reply r = http_exchange(port, post(R"({"jsonrpc":"2.0","id":1,"method":"writ_chainId"})"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(read_reply(c1).status, 408);
  EXPECT_EQ(read_reply(c2).status, 408);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(result("writ_chainId"), 7);
}

TEST_F(Node, IntervalModeQueuesTransactionsForTheNextBlock) {
  ServerOptions so;
  so.block_interval_ms = 150;
  RpcOptions ro;
  ro.block_per_tx = false;
  start(so, ro);
  const Address b = address_of(bob.pub);
  Transaction t0 = tx(alice, 0, b, {}, 10, 5000), t1 = tx(alice, 1, b, {}, 20, 5000);
  EXPECT_EQ(result("writ_sendRawTransaction", {raw(t0)}), hx(t0.hash()));
  // Nonce 1 follows the queued nonce 0; a gap or a duplicate is refused.
  EXPECT_EQ(result("writ_sendRawTransaction", {raw(t1)}), hx(t1.hash()));
  json e = error("writ_sendRawTransaction", {raw(tx(alice, 5, b, {}, 1, 5000))});
  EXPECT_NE(e.value("message", "").find("nonce gap: nonce 5, the account's next nonce is 2"),
            std::string::npos)
      << e.dump();
  // What the queued ones may spend counts too: alice's 1,000,000,000 cover
  // them (10,030 at most) but not 999,999,000 more and its fee. The nonce
  // alone was checked: a funded sender could queue what its balance could
  // not pay, and the block rejected it, without a fee, after it had held
  // the queue.
  e = error("writ_sendRawTransaction", {raw(tx(alice, 2, b, {}, 999'999'000, 5000))});
  EXPECT_NE(e.value("message", "").find("insufficient balance"), std::string::npos) << e.dump();
  e = error("writ_sendRawTransaction", {raw(t1)});
  EXPECT_EQ(e["code"], -32000);
  json rc;
  for (int i = 0; i < 100 && !(rc = result("writ_getReceipt", {hx(t1.hash())})).is_object(); ++i)
    std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(rc.is_object()) << "no block within 2 s";
  EXPECT_EQ(rc["status"], "Ok");
  EXPECT_TRUE(result("writ_getReceipt", {hx(t0.hash())}).is_object());
  EXPECT_EQ(result("writ_getBalance", {hx(b)}), "30");
  EXPECT_EQ(handler->pending(), 0u);
  // No empty blocks while nothing is queued.
  uint64_t h = chain->head().height;
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(result("writ_blockNumber"), h);
}

// A queued transaction the block has no gas left for goes to the next
// block, with its sender's later ones (which the block refused as a nonce
// gap behind it); they were dropped with no receipt.
TEST_F(Node, IntervalModeCarriesWhatTheBlockHasNoGasFor) {
  ServerOptions so;
  so.block_interval_ms = 600'000;  // the test produces the blocks
  RpcOptions ro;
  ro.block_per_tx = false;
  start(so, ro);
  const Address b = address_of(bob.pub);
  Transaction t0 = tx(alice, 0, b, {}, 1, kBlockGasLimit),
              t1 = tx(alice, 1, b, {}, 2, kBlockGasLimit), t2 = tx(alice, 2, b, {}, 4, 5000);
  for (const Transaction& t : {t0, t1, t2})
    EXPECT_EQ(result("writ_sendRawTransaction", {raw(t)}), hx(t.hash()));
  // The next nonce after what is queued ("pending"), and in the state (a
  // client that signs one after another needs the first).
  EXPECT_EQ(result("writ_getNonce", {hx(address_of(alice.pub)), "pending"}), 3);
  EXPECT_EQ(result("writ_getNonce", {hx(address_of(alice.pub))}), 0);
  EXPECT_EQ(result("writ_getNonce", {hx(address_of(alice.pub)), "latest"}), 0);
  EXPECT_EQ(result("writ_getNonce", {hx(b), "pending"}), 0);
  EXPECT_NE(error("writ_getNonce", {hx(b), "soon"})
                .value("message", "")
                .find("param 1 (block): expected latest or pending"),
            std::string::npos);
  EXPECT_EQ(handler->produce_pending(), 1u);
  EXPECT_EQ(result("writ_getNonce", {hx(address_of(alice.pub)), "pending"}), 3);
  EXPECT_EQ(result("writ_getNonce", {hx(address_of(alice.pub))}), 1);
  EXPECT_EQ(handler->pending(), 2u);
  EXPECT_TRUE(result("writ_getReceipt", {hx(t0.hash())}).is_object());
  EXPECT_TRUE(result("writ_getReceipt", {hx(t1.hash())}).is_null());
  EXPECT_EQ(handler->produce_pending(), 2u);
  EXPECT_EQ(handler->pending(), 0u);
  EXPECT_TRUE(result("writ_getReceipt", {hx(t1.hash())}).is_object());
  EXPECT_TRUE(result("writ_getReceipt", {hx(t2.hash())}).is_object());
  EXPECT_EQ(result("writ_getBalance", {hx(b)}), "7");
}

// Stopping the node produces a last block of what it queued: an accepted
// transaction is not dropped.
TEST_F(Node, StoppingInIntervalModeCommitsWhatIsQueued) {
  ServerOptions so;
  so.block_interval_ms = 600'000;
  RpcOptions ro;
  ro.block_per_tx = false;
  start(so, ro);
  const Address b = address_of(bob.pub);
  Transaction t0 = tx(alice, 0, b, {}, 9, 5000);
  EXPECT_EQ(result("writ_sendRawTransaction", {raw(t0)}), hx(t0.hash()));
  const uint64_t h = chain->head().height;
  stop();
  EXPECT_EQ(handler->pending(), 0u);
  EXPECT_EQ(chain->head().height, h + 1);
  auto bal = chain->balance(b);
  ASSERT_TRUE(bal.ok());
  EXPECT_EQ(bal.value(), U256::from_u64(9));
}

TEST_F(Node, ExitAfterBlocksStopsByItselfAfterAnswering) {
  ServerOptions so;
  so.exit_after_blocks = 1;
  start(so);
  Transaction t = tx(alice, 0, address_of(bob.pub), {}, 1, 5000);
  EXPECT_EQ(result("writ_sendRawTransaction", {raw(t)}), hx(t.hash()));
  auto done = std::async(std::launch::async, [this] { thread.join(); });
  EXPECT_EQ(done.wait_for(3s), std::future_status::ready);
  done.wait();
  EXPECT_EQ(chain->head().height, 1u);
  EXPECT_EQ(connect_to(port), -1);  // nobody listens any more
}

TEST_F(Node, StopJoinsEveryThreadEvenWithClientsMidRequest) {
  size_t before = thread_count();
  ServerOptions so;
  so.io_timeout_ms = 30'000;  // stop() must not wait for these
  start(so, {}, /*rocks=*/false);
  int c1 = connect_to(port), c2 = connect_to(port);
  send_raw(c1, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n{");
  send_raw(c2, "POS");
  EXPECT_EQ(result("writ_chainId"), 7);
  std::this_thread::sleep_for(100ms);
  EXPECT_GT(thread_count(), before);
  auto t0 = std::chrono::steady_clock::now();
  stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_EQ(thread_count(), before);
  EXPECT_EQ(read_reply(c1).status, 0);
  EXPECT_EQ(read_reply(c2).status, 0);
}

TEST_F(Node, BindsLoopbackOnly) {
  open_chain(false);
  RpcHandler h(*chain);
  for (const char* addr : {"0.0.0.0:0", "192.168.1.10:0", "[::]:0", "example.com:80", "127.0.0.1",
                           "127.0.0.1:99999"}) {
    ServerOptions so;
    so.bind = addr;
    RpcServer s(h, so);
    Status st = s.start();
    EXPECT_FALSE(st.ok) << addr;
  }
  ServerOptions so;
  so.bind = "0.0.0.0:0";
  EXPECT_NE(RpcServer(h, so).start().message.find("not a loopback address"), std::string::npos);
  EXPECT_TRUE(parse_loopback_endpoint("127.1.2.3:8545").ok());
  auto ep = parse_loopback_endpoint("localhost:8545");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->host, "127.0.0.1");
  auto v6 = parse_loopback_endpoint("[::1]:0");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->to_string(), "[::1]:0");
  EXPECT_FALSE(http_post(Endpoint{"10.0.0.1", 80}, "/", "{}", 100).ok());
}

// A server whose handler comes later (a validator's, before InitChain) holds
// its address from start(): a second server cannot take it, and a client that
// connected before the handler came is answered once it runs.
TEST_F(Node, AServerBindsBeforeItsHandlerComes) {
  ServerOptions so;
  so.bind = "127.0.0.1:0";
  so.exit_after_ms = 60'000;
  RpcServer early(so);
  ASSERT_TRUE(early.start().ok);
  const Endpoint at = early.endpoint();
  ASSERT_NE(at.port, 0);
  open_chain(false);
  RpcHandler other_handler(*chain);
  ServerOptions same;
  same.bind = at.to_string();
  Status taken = RpcServer(other_handler, same).start();
  EXPECT_FALSE(taken.ok);
  EXPECT_NE(taken.message.find("cannot listen on " + at.to_string()), std::string::npos)
      << taken.message;
  early.run();  // no handler yet: returns at once, serving nothing

  std::string answer;
  std::thread client([&] {
    auto r = http_post(at, "/", R"({"jsonrpc":"2.0","id":3,"method":"writ_chainId"})", 10'000);
    answer = r.ok() ? r->body : "error: " + r.error().message;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the client waits, queued
  RpcHandler late(*chain);
  early.attach(late);
  std::thread serving([&] { early.run(); });
  client.join();
  early.stop();
  serving.join();
  json j = json::parse(answer, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << answer;
  EXPECT_EQ(j["result"], 7) << answer;
}

TEST_F(Node, TheLibraryClientTalksToTheServer) {
  start();
  auto r = http_post(server->endpoint(), "/", R"({"jsonrpc":"2.0","id":9,"method":"writ_chainId"})",
                     5000);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["result"], 7);
  EXPECT_EQ(json::parse(r->body)["id"], 9);
  stop();
  auto refused = http_post(server->endpoint(), "/", "{}", 1000);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("cannot connect"), std::string::npos);
}

TEST_F(Node, DataDirectoriesKeepTheirGenesisAndResume) {
  const std::string data = (dir / "data").string();
  auto none = open_data_dir(data, "");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("no chain in " + data), std::string::npos);
  EXPECT_NE(none.error().message.find("--init"), std::string::npos);
  // A genesis file alone does not create a chain either.
  auto implicit = open_data_dir(data, write_genesis().string());
  ASSERT_FALSE(implicit.ok());
  EXPECT_NE(implicit.error().message.find("no chain in " + data), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "data" / "chain"));
  Hash256 root;
  {
    auto d = open_data_dir(data, write_genesis().string(), {.create = true});
    ASSERT_TRUE(d.ok()) << d.error().to_string();
    EXPECT_TRUE(d->created);
    RpcHandler h(*d->chain);
    Transaction t = tx(alice, 0, address_of(bob.pub), {}, 42, 5000);
    json reply = json::parse(h.handle(json{
        {"jsonrpc", "2.0"}, {"id", 1}, {"method", "writ_sendRawTransaction"}, {"params", {raw(t)}}}
                                          .dump()));
    EXPECT_EQ(reply["result"], hx(t.hash()));
    EXPECT_EQ(h.blocks_produced(), 1u);
    root = d->chain->head().state_root;
  }
  EXPECT_TRUE(fs::exists(dir / "data" / "genesis.json"));
  fs::remove(dir / "genesis.json");  // the original is not needed any more
  {
    auto d = open_data_dir(data, "");
    ASSERT_TRUE(d.ok()) << d.error().to_string();
    EXPECT_FALSE(d->created);
    EXPECT_EQ(d->chain->chain_id(), 7u);
    EXPECT_EQ(d->chain->head().height, 1u);
    EXPECT_EQ(d->chain->head().state_root, root);
    EXPECT_EQ(d->chain->balance(address_of(bob.pub)).value(), U256::from_u64(42));
  }
  auto other = open_data_dir(data, write_genesis(9).string());
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("database holds chain 7"), std::string::npos);
  auto again = open_data_dir(data, write_genesis().string(), {.create = true});
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("already holds a chain"), std::string::npos);
}

// ---- availability under load (issue 8) ----------------------------------------------

TEST_F(Node, SlowClientsCostOnlyTheirOwnConnections) {
  ServerOptions so;
  so.io_timeout_ms = 3000;
  start(so);
  // 40 clients that each send one byte and then nothing.
  std::vector<int> slow;
  for (int i = 0; i < 40; ++i) {
    int fd = connect_to(port);
    ASSERT_GE(fd, 0);
    send_raw(fd, "P");
    slow.push_back(fd);
  }
  std::this_thread::sleep_for(100ms);  // all accepted
  // A normal client is answered while they are connected, and so is a second.
  for (int i = 0; i < 2; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(result("writ_chainId"), 7);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  }
  // Each slow one gets 408 once its deadline passes.
  for (int fd : slow) EXPECT_EQ(read_reply(fd).status, 408);
}

TEST_F(Node, TheConnectionLimitAnswersAReadable503) {
  ServerOptions so;
  so.io_timeout_ms = 2000;
  so.max_connections = 4;
  start(so);
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) {
    int fd = connect_to(port);
    ASSERT_GE(fd, 0);
    send_raw(fd, "POST / HTTP/1.1\r\n");
    held.push_back(fd);
  }
  std::this_thread::sleep_for(100ms);  // all accepted
  // Whole requests beyond the limit: each reads a 503 with a JSON-RPC error.
  for (int i = 0; i < 10; ++i) {
    Reply r = http_exchange(port, post(R"({"jsonrpc":"2.0","id":1,"method":"writ_chainId"})"));
    ASSERT_EQ(r.status, 503) << i;
    json j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_NE(j["error"]["message"].get<std::string>().find("too many connections"),
              std::string::npos);
  }
  for (int fd : held) EXPECT_EQ(read_reply(fd).status, 408);
  EXPECT_EQ(result("writ_chainId"), 7);  // a slot is free again
}

TEST_F(Node, FinishedConnectionsFreeTheirSlotAtOnce) {
  ServerOptions so;
  so.max_connections = 32;
  start(so);
  // 8 well-behaved clients, each doing 200 request/response connections one
  // after the other: never more than 8 open at once, so never a 503.
  std::atomic<int> ok{0}, refused{0}, other{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c)
    clients.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        Reply r = http_exchange(port, post(R"({"jsonrpc":"2.0","id":1,"method":"writ_chainId"})"));
        if (r.status == 200)
          ++ok;
        else if (r.status == 503)
          ++refused;
        else
          ++other;
      }
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(refused.load(), 0);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(ok.load(), 1600);
}

TEST_F(Node, HeavyReadCallsDoNotStallBlocksOrOtherReaders) {
  RpcOptions ro;
  start({}, ro);
  Transaction d = deploy(0, 1000);
  ASSERT_EQ(result("writ_sendRawTransaction", {raw(d)}), hx(d.hash()));
  const Address token = contract_address(address_of(alice.pub), 0);
  // 8 clients send batches of 50 calls of spin() (a loop that only ends when
  // its gas does) asking for the whole block gas limit each: under a lock
  // held by calls, each batch would keep every other request waiting for
  // seconds.
  json spin_call = {
      {"to", hx(token)}, {"data", to_hex(call_data("spin", {}, {}))}, {"gas", kBlockGasLimit}};
  json batch = json::array();
  for (int i = 0; i < 50; ++i)
    batch.push_back(
        {{"jsonrpc", "2.0"}, {"id", i}, {"method", "writ_call"}, {"params", {spin_call}}});
  const std::string batch_text = batch.dump();
  std::atomic<bool> done{false};
  std::atomic<int> batches{0}, capped{0}, limited{0}, failures{0};
  std::vector<std::thread> heavy;
  for (int c = 0; c < 8; ++c)
    heavy.emplace_back([&] {
      for (int n = 0; n < 20 && !done.load(); ++n) {
        auto r = http_post(server->endpoint(), "/", batch_text, 120'000);
        if (!r.ok() || r->status != 200) {
          ++failures;
          return;
        }
        json out = json::parse(r->body, nullptr, false);
        if (!out.is_array()) {
          ++failures;
          return;
        }
        for (const json& one : out) {
          if (one.contains("result") && one["result"]["status"] == "OutOfGas" &&
              one["result"]["gas_used"] == RpcOptions().call_gas_cap)
            ++capped;
          else if (one.contains("error") && one["error"]["code"] == -32005)
            ++limited;
          else
            ++failures;
        }
        ++batches;
      }
    });
  std::this_thread::sleep_for(300ms);  // the heavy calls are running
  // Meanwhile another client is answered promptly, and its transaction is
  // executed in its own block.
  for (int i = 0; i < 3; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(result("writ_blockNumber"), 1 + i);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    Transaction t = tx(alice, 1 + i, address_of(bob.pub), {}, 5, 5000);
    t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(result("writ_sendRawTransaction", {raw(t)}), hx(t.hash()));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  }
  EXPECT_EQ(result("writ_getBalance", {hx(address_of(bob.pub))}), "15");
  done.store(true);
  for (auto& t : heavy) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GE(batches.load(), 8);
  // Every call ran on at most call_gas_cap gas, and a batch stopped running
  // calls once their gas reached the request's budget.
  EXPECT_GT(capped.load(), 0);
  EXPECT_GT(limited.load(), 0);
  EXPECT_EQ(capped.load() + limited.load(), batches.load() * 50);
}

TEST_F(Node, ReadCallLimitsCountAWholeBatchAsOneRequest) {
  open_chain(false);
  RpcOptions ro;
  ro.call_gas_cap = 10'000;
  ro.request_call_gas = 25'000;
  RpcHandler h(*chain, ro);
  auto one = [](const std::string& method, json params, int id = 1) {
    return json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
  };
  json sent = json::parse(h.handle(one("writ_sendRawTransaction", {raw(deploy(0, 1000))}).dump()));
  ASSERT_TRUE(sent.contains("result")) << sent.dump();
  const Address token = contract_address(address_of(alice.pub), 0);
  const json spin = {
      {"to", hx(token)}, {"data", to_hex(call_data("spin", {}, {}))}, {"gas", 1u << 30}};
  json batch = json::array();
  for (int i = 0; i < 4; ++i) batch.push_back(one("writ_call", {spin}, i));
  json out = json::parse(h.handle(batch.dump()));
  ASSERT_TRUE(out.is_array() && out.size() == 4) << out.dump();
  // Each call is capped at 10,000 gas; the third gets what the batch has left.
  EXPECT_EQ(out[0]["result"]["gas_used"], 10'000) << out.dump();
  EXPECT_EQ(out[1]["result"]["gas_used"], 10'000);
  EXPECT_EQ(out[2]["result"]["gas_used"], 5'000);
  EXPECT_EQ(out[2]["result"]["status"], "OutOfGas");
  EXPECT_EQ(out[3]["error"]["code"], -32005);
  EXPECT_NE(out[3]["error"]["message"].get<std::string>().find("gas for calls (25000) is spent"),
            std::string::npos);
  // A new request has a new budget; five views (each the first read of a
  // slot) fit in it.
  const json view = {{"to", hx(token)},
                     {"data", to_hex(call_data("balance_of", {vm::ValType::U256},
                                               {Value::u256(address_of(alice.pub).to_u256())}))}};
  batch = json::array();
  for (int i = 0; i < 5; ++i) batch.push_back(one("writ_call", {view}, i));
  out = json::parse(h.handle(batch.dump()));
  ASSERT_EQ(out.size(), 5u);
  for (const json& r : out) EXPECT_EQ(r["result"]["status"], "Ok") << r.dump();
  // No time for calls: nothing runs.
  RpcOptions none = ro;
  none.request_call_ms = 0;
  RpcHandler late(*chain, none);
  json e = json::parse(late.handle(one("writ_call", {view}).dump()));
  EXPECT_EQ(e["error"]["code"], -32005) << e.dump();
  EXPECT_NE(e["error"]["message"].get<std::string>().find("time for calls (0 ms) is spent"),
            std::string::npos);
  // Other methods are not limited by it, and nothing changed.
  EXPECT_EQ(json::parse(late.handle(one("writ_blockNumber", json::array()).dump()))["result"], 1);
}

TEST_F(Node, ReadCallsDoNotWaitForABlockBeingProduced) {
  start();
  Transaction d = deploy(0, 1000);
  ASSERT_EQ(result("writ_sendRawTransaction", {raw(d)}), hx(d.hash()));
  const Address token = contract_address(address_of(alice.pub), 0);
  // The next block holds the node's lock until the test lets it go (on_block
  // runs under it, after the commit), as a long block would.
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  handler->on_block = [&, released](const Chain::BlockResult&) {
    entered.set_value();
    released.wait_for(10s);
  };
  Transaction t = tx(alice, 1, token, transfer_data(address_of(bob.pub), 250));
  auto sending = std::async(std::launch::async, [&] {
    return http_post(server->endpoint(), "/",
                     json{{"jsonrpc", "2.0"},
                          {"id", 1},
                          {"method", "writ_sendRawTransaction"},
                          {"params", {raw(t)}}}
                         .dump(),
                     20'000);
  });
  ASSERT_EQ(entered.get_future().wait_for(5s), std::future_status::ready);
  // A call is answered meanwhile, on the committed head (the transfer's block).
  const json view = {{"to", hx(token)},
                     {"data", to_hex(call_data("balance_of", {vm::ValType::U256},
                                               {Value::u256(address_of(bob.pub).to_u256())}))}};
  auto t0 = std::chrono::steady_clock::now();
  json r = result("writ_call", {view});
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_EQ(r["status"], "Ok") << r.dump();
  EXPECT_EQ(r["output"], word_hex(U256::from_u64(250)));
  release.set_value();
  auto sent = sending.get();
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_EQ(json::parse(sent->body)["result"], hx(t.hash()));
  handler->on_block = nullptr;
}

TEST(NodeText, AddressesAndHex) {
  EXPECT_EQ(parse_address_text("0xB0B"), Hash256::from_u256(U256::from_u64(0xB0B)));
  EXPECT_EQ(parse_address_text("2827"), Hash256::from_u256(U256::from_u64(2827)));
  EXPECT_FALSE(parse_address_text("-1"));
  EXPECT_FALSE(parse_address_text("0xZZ"));
  EXPECT_FALSE(parse_address_text(""));
  EXPECT_EQ(to_hex(Bytes{0x00, 0xab}), "0x00ab");
  EXPECT_EQ(from_hex("0x00ab"), (Bytes{0x00, 0xab}));
  EXPECT_EQ(from_hex("00AB"), (Bytes{0x00, 0xab}));
  EXPECT_FALSE(from_hex("0xabc"));
  EXPECT_FALSE(from_hex("0xzz"));
  EXPECT_EQ(word_hex(U256::from_u64(255)), "0x" + std::string(62, '0') + "ff");
}

// Issue: 1e400 and a 5000-digit integer were answered "not valid JSON",
// though they are valid JSON that cannot be represented.
TEST(NodeJson, NumbersOutOfRangeAreNamedAsSuchNotAsInvalidJson) {
  Genesis g;
  g.chain_id = 7;
  auto chain = Chain::open(open_memory_store(), g);
  ASSERT_TRUE(chain.ok());
  RpcHandler h(*chain.value());
  auto error_of = [&](const std::string& body) {
    json r = json::parse(h.handle(body));
    EXPECT_EQ(r["error"]["code"], -32700) << body;
    return r["error"].value("message", "");
  };
  const std::string huge(5000, '7');
  for (const std::string& number : {std::string("1e400"), std::string("-1e400"), huge}) {
    const std::string message =
        error_of(R"({"jsonrpc":"2.0","id":1,"method":"writ_getBlock","params":[)" + number + "]}");
    EXPECT_EQ(message.find("not valid JSON"), std::string::npos) << message;
    EXPECT_NE(message.find("is valid JSON but out of range"), std::string::npos) << message;
    EXPECT_NE(message.find("decimal strings"), std::string::npos) << message;
    EXPECT_LT(message.size(), 300u) << "the number is shortened, not echoed whole";
  }
  EXPECT_NE(error_of(huge).find("the number 777777"), std::string::npos);
  EXPECT_NE(error_of(huge).find("(5000 characters)"), std::string::npos);
  // Text that is not JSON is still called that, with where it stopped.
  const std::string broken = error_of(R"({"jsonrpc":"2.0","id":1,"method")");
  EXPECT_NE(broken.find("not valid JSON"), std::string::npos) << broken;
  EXPECT_NE(broken.find("at byte"), std::string::npos) << broken;

  // The genesis reader says the same.
  auto genesis = parse_genesis_json(R"({"chain_id": 1e400})", ".");
  ASSERT_FALSE(genesis.ok());
  EXPECT_NE(
      genesis.error().message.find("genesis: the number 1e400 is valid JSON but out of range"),
      std::string::npos)
      << genesis.error().message;
  auto syntax = parse_genesis_json("{\"chain_id\": 7,}", ".");
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.error().message.find("genesis: not valid JSON"), std::string::npos);
}

}  // namespace
}  // namespace writ::runtime
