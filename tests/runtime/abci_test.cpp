// The ABCI++ application driven as CometBFT drives it: the call sequence of
// a chain's start and blocks, a crash between FinalizeBlock and Commit, the
// mempool's checks, bad input; and the socket server's framing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <thread>

#include "abci.pb.h"
#include "writ/runtime/abci.hpp"
#include "writ/runtime/node.hpp"

namespace writ::runtime {
namespace {

namespace fs = std::filesystem;
namespace pb = ::writ::abci;
using abci::App;
using abci::AppOptions;

const Keypair kAlice = keypair_from_seed({1});
const Keypair kBob = keypair_from_seed({2});
constexpr int64_t kTime = 1'700'000'000;

std::string genesis_json(uint64_t chain_id = 7) {
  return "{\"chain_id\": " + std::to_string(chain_id) +
         ", \"timestamp\": 1700000000, \"accounts\": [{\"address\": \"0x" +
         address_of(kAlice.pub).hex() + "\", \"balance\": \"1000000000\"}]}";
}

Transaction payment(const Keypair& from, uint64_t nonce, uint64_t value, uint64_t chain_id = 7) {
  Transaction t;
  t.kind = Transaction::Kind::Call;
  t.chain_id = chain_id;
  t.nonce = nonce;
  t.gas_limit = 5000;
  t.gas_price = U256::from_u64(1);
  t.value = U256::from_u64(value);
  t.to = address_of(kBob.pub);
  t.sign_with(from);
  return t;
}

std::string raw(const Transaction& t) {
  const Bytes b = t.encode();
  return std::string(b.begin(), b.end());
}

struct Driver {
  fs::path dir;
  std::vector<std::string> logged;
  std::unique_ptr<App> app;

  explicit Driver(const std::string& name) {
    dir = fs::temp_directory_path() / ("writ-abci-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    restart();
  }
  ~Driver() {
    app.reset();
    fs::remove_all(dir);
  }
  void restart() {  // a new process on the same data directory
    app.reset();
    AppOptions o;
    o.data_dir = dir.string();
    o.log = [this](const std::string& l) { logged.push_back(l); };
    app = std::make_unique<App>(o);
  }
  pb::Response send(const pb::Request& req) {
    pb::Response res;
    EXPECT_TRUE(res.ParseFromString(app->handle(req.SerializeAsString())));
    return res;
  }
  pb::InfoResponse info() {
    pb::Request r;
    r.mutable_info()->set_version("0.38.26");
    return send(r).info();
  }
  pb::Response init_chain(const std::string& app_state) {
    pb::Request r;
    r.mutable_init_chain()->set_chain_id("test-chain");
    r.mutable_init_chain()->set_app_state_bytes(app_state);
    r.mutable_init_chain()->set_initial_height(1);
    return send(r);
  }
  pb::Response check(const std::string& tx, bool recheck = false) {
    pb::Request r;
    r.mutable_check_tx()->set_tx(tx);
    r.mutable_check_tx()->set_type(recheck ? pb::RECHECK : pb::NEW);
    return send(r);
  }
  pb::Response prepare(int64_t height, const std::vector<std::string>& txs, int64_t max = 1 << 20) {
    pb::Request r;
    auto* p = r.mutable_prepare_proposal();
    p->set_height(height);
    p->set_max_tx_bytes(max);
    for (const auto& t : txs) p->add_txs(t);
    return send(r);
  }
  pb::Response process(int64_t height, const std::vector<std::string>& txs) {
    pb::Request r;
    auto* p = r.mutable_process_proposal();
    p->set_height(height);
    for (const auto& t : txs) p->add_txs(t);
    return send(r);
  }
  pb::Response finalize(int64_t height, const std::vector<std::string>& txs) {
    pb::Request r;
    auto* f = r.mutable_finalize_block();
    f->set_height(height);
    f->mutable_time()->set_seconds(kTime + 5 * height);
    for (const auto& t : txs) f->add_txs(t);
    return send(r);
  }
  pb::Response commit() {
    pb::Request r;
    r.mutable_commit();
    return send(r);
  }
};

Hash256 hash_of(const std::string& bytes) {
  Hash256 h;
  EXPECT_EQ(bytes.size(), 32u);
  std::memcpy(h.bytes.data(), bytes.data(), std::min<size_t>(32, bytes.size()));
  return h;
}

// CometBFT's sequence for a new chain and three blocks: the chain the app
// builds is the one produce_block builds from the same transactions and
// times, and the app hash is its state root.
TEST(Abci, CometBftsCallSequenceBuildsTheChainProduceBlockWould) {
  Driver d("sequence");
  EXPECT_EQ(d.info().last_block_height(), 0);
  EXPECT_TRUE(d.info().last_block_app_hash().empty());  // no chain before InitChain
  auto g = parse_genesis_json(genesis_json(), ".");
  ASSERT_TRUE(g.ok());
  auto twin = Chain::open(open_memory_store(), g.value());
  ASSERT_TRUE(twin.ok());

  pb::Response init = d.init_chain(genesis_json());
  ASSERT_EQ(init.value_case(), pb::Response::kInitChain) << init.DebugString();
  EXPECT_EQ(hash_of(init.init_chain().app_hash()), twin.value()->head().state_root);

  uint64_t nonce = 0;
  for (int64_t h = 1; h <= 3; ++h) {
    const Transaction a = payment(kAlice, nonce, 100), b = payment(kAlice, nonce + 1, 200);
    const Transaction gap = payment(kAlice, nonce + 5, 1);
    pb::Response prep = d.prepare(h, {raw(a), raw(gap), raw(b)});
    ASSERT_EQ(prep.value_case(), pb::Response::kPrepareProposal);
    ASSERT_EQ(prep.prepare_proposal().txs_size(), 2);  // the nonce gap is left out
    EXPECT_EQ(prep.prepare_proposal().txs(0), raw(a));
    EXPECT_EQ(prep.prepare_proposal().txs(1), raw(b));
    EXPECT_EQ(d.process(h, {raw(a), raw(b)}).process_proposal().status(),
              pb::ProcessProposalResponse::ACCEPT);

    pb::Response fin = d.finalize(h, {raw(a), raw(b)});
    ASSERT_EQ(fin.value_case(), pb::Response::kFinalizeBlock) << fin.DebugString();
    ASSERT_EQ(fin.finalize_block().tx_results_size(), 2);
    for (const auto& r : fin.finalize_block().tx_results()) {
      EXPECT_EQ(r.code(), 0u) << r.log();
      EXPECT_EQ(r.gas_used(), static_cast<int64_t>(kTxBaseGas));
      ASSERT_GE(r.events_size(), 1);
      EXPECT_EQ(r.events(0).type(), "writ.tx");
    }
    // Not committed yet: Info still says the last block.
    EXPECT_EQ(d.info().last_block_height(), h - 1);
    ASSERT_EQ(d.commit().value_case(), pb::Response::kCommit);
    auto made = twin.value()->produce_block({a, b}, static_cast<uint64_t>(kTime + 5 * h));
    ASSERT_TRUE(made.ok());
    EXPECT_EQ(hash_of(fin.finalize_block().app_hash()), made.value().block.header.state_root);
    EXPECT_EQ(d.info().last_block_height(), h);
    EXPECT_EQ(hash_of(d.info().last_block_app_hash()), made.value().block.header.state_root);
    nonce += 2;
  }
  auto lock = d.app->lock();
  ASSERT_NE(d.app->chain(), nullptr);
  EXPECT_EQ(d.app->chain()->head(), twin.value()->head());
  EXPECT_EQ(d.app->chain()->balance(address_of(kBob.pub)).value(), U256::from_u64(900));
}

// A crash after FinalizeBlock and before Commit: nothing was written, Info
// reports the block before, and CometBFT's replay of the block commits it
// with the same app hash. Restarts before block 1 get InitChain again.
TEST(Abci, ACrashBetweenFinalizeBlockAndCommitLosesNothing) {
  Driver d("crash");
  ASSERT_EQ(d.init_chain(genesis_json()).value_case(), pb::Response::kInitChain);
  d.restart();  // CometBFT restarts before block 1: InitChain again, same genesis
  const std::string again = d.init_chain(genesis_json()).init_chain().app_hash();
  EXPECT_EQ(again.size(), 32u);
  ASSERT_EQ(d.init_chain(genesis_json(8)).value_case(), pb::Response::kException);

  const Transaction a = payment(kAlice, 0, 100);
  ASSERT_EQ(d.finalize(1, {raw(a)}).value_case(), pb::Response::kFinalizeBlock);
  ASSERT_EQ(d.commit().value_case(), pb::Response::kCommit);
  const Transaction b = payment(kAlice, 1, 50);
  const std::string hash2 = d.finalize(2, {raw(b)}).finalize_block().app_hash();
  d.restart();  // killed before Commit
  EXPECT_EQ(d.info().last_block_height(), 1);
  pb::Response replayed = d.finalize(2, {raw(b)});
  ASSERT_EQ(replayed.value_case(), pb::Response::kFinalizeBlock);
  EXPECT_EQ(replayed.finalize_block().app_hash(), hash2);
  ASSERT_EQ(d.commit().value_case(), pb::Response::kCommit);
  EXPECT_EQ(d.info().last_block_height(), 2);
  EXPECT_EQ(d.info().last_block_app_hash(), hash2);
}

// CheckTx admits a sender's transactions in nonce order after those the
// mempool holds; Commit forgets the mempool's, and RECHECK rebuilds it.
TEST(Abci, CheckTxCountsTheMempoolsEarlierTransactions) {
  Driver d("checktx");
  EXPECT_EQ(d.check(raw(payment(kAlice, 0, 1))).value_case(),
            pb::Response::kException);  // no chain
  d.init_chain(genesis_json());
  EXPECT_EQ(d.check(raw(payment(kAlice, 0, 1))).check_tx().code(), 0u);
  EXPECT_EQ(d.check(raw(payment(kAlice, 1, 1))).check_tx().code(), 0u);
  pb::CheckTxResponse gap = d.check(raw(payment(kAlice, 5, 1))).check_tx();
  EXPECT_EQ(gap.code(), 2u);
  EXPECT_NE(gap.log().find("nonce"), std::string::npos) << gap.log();
  EXPECT_EQ(d.check(raw(payment(kBob, 0, 1))).check_tx().code(), 2u);        // bob has nothing
  EXPECT_EQ(d.check(raw(payment(kAlice, 2, 1, 99))).check_tx().code(), 2u);  // another chain
  Transaction forged = payment(kAlice, 2, 1);
  forged.value = U256::from_u64(2);  // the signature no longer covers it
  EXPECT_NE(d.check(raw(forged)).check_tx().log().find("signature"), std::string::npos);
  pb::CheckTxResponse junk = d.check("not a transaction").check_tx();
  EXPECT_EQ(junk.code(), 1u);
  // Over the balance with the mempool's spend counted.
  EXPECT_EQ(d.check(raw(payment(kAlice, 2, 999'990'000))).check_tx().code(), 2u);

  ASSERT_EQ(d.finalize(1, {raw(payment(kAlice, 0, 1))}).value_case(), pb::Response::kFinalizeBlock);
  ASSERT_EQ(d.commit().value_case(), pb::Response::kCommit);
  // CometBFT rechecks what the block left in the mempool: nonce 1.
  EXPECT_EQ(d.check(raw(payment(kAlice, 1, 1)), true).check_tx().code(), 0u);
  EXPECT_EQ(d.check(raw(payment(kAlice, 0, 1))).check_tx().code(), 2u);  // a replay now
  EXPECT_EQ(d.check(raw(payment(kAlice, 2, 1))).check_tx().code(), 0u);
}

TEST(Abci, BadInputGetsAnExceptionOrARefusalNeverACrash) {
  Driver d("bad");
  pb::Response r;
  ASSERT_TRUE(r.ParseFromString(d.app->handle(std::string("\x0a\xff\xff", 3))));
  EXPECT_EQ(r.value_case(), pb::Response::kException);
  ASSERT_TRUE(r.ParseFromString(d.app->handle("")));
  EXPECT_EQ(r.value_case(), pb::Response::kException);  // a request of no kind
  EXPECT_EQ(d.init_chain("{\"chain_id\": \"seven\"}").value_case(), pb::Response::kException);
  // An error quoting bytes that are not UTF-8 is still a message that
  // parses (protobuf strings are UTF-8; CometBFT would drop the connection).
  EXPECT_EQ(d.init_chain("{\"chai\x94\xa0id\": 7}").value_case(), pb::Response::kException);
  pb::Response utf8 = d.check("\xff\xfe");  // before InitChain: an exception
  EXPECT_EQ(utf8.value_case(), pb::Response::kException);
  EXPECT_EQ(d.finalize(1, {}).value_case(), pb::Response::kException);  // before InitChain
  d.init_chain(genesis_json());
  EXPECT_EQ(d.commit().value_case(), pb::Response::kException);  // Commit without FinalizeBlock
  EXPECT_EQ(d.finalize(3, {}).value_case(), pb::Response::kException);  // not the next height
  EXPECT_EQ(d.info().last_block_height(), 0);

  // A proposal with an invalid transaction is rejected; a finalized block's
  // undecodable and invalid transactions get their codes, the rest runs.
  const Transaction good = payment(kAlice, 0, 5), replay = payment(kAlice, 0, 6);
  EXPECT_EQ(d.process(1, {raw(good), "junk"}).process_proposal().status(),
            pb::ProcessProposalResponse::REJECT);
  EXPECT_EQ(d.process(1, {raw(good), raw(replay)}).process_proposal().status(),
            pb::ProcessProposalResponse::REJECT);
  // The first refused transaction decides: nothing after it is checked (a
  // proposer's block of forged signatures cost every validator one check
  // each). The good one after a forged one leaves no verdict behind.
  Transaction forged = payment(kAlice, 0, 7);
  forged.signature.bytes[3] ^= 1;
  const Transaction after = payment(kAlice, 0, 8);
  size_t kept = 0;
  {
    auto lock = d.app->lock();
    kept = d.app->chain()->verdicts_kept();
  }
  EXPECT_EQ(d.process(1, {raw(forged), raw(after)}).process_proposal().status(),
            pb::ProcessProposalResponse::REJECT);
  {
    auto lock = d.app->lock();
    EXPECT_EQ(d.app->chain()->verdicts_kept(), kept);
  }
  pb::Response fin = d.finalize(1, {"junk", raw(good), raw(replay)});
  ASSERT_EQ(fin.value_case(), pb::Response::kFinalizeBlock);
  ASSERT_EQ(fin.finalize_block().tx_results_size(), 3);
  EXPECT_EQ(fin.finalize_block().tx_results(0).code(), 1u);
  EXPECT_EQ(fin.finalize_block().tx_results(1).code(), 0u);
  EXPECT_EQ(fin.finalize_block().tx_results(2).code(), 2u);
  EXPECT_NE(fin.finalize_block().tx_results(2).log().find("replay"), std::string::npos);
  ASSERT_EQ(d.commit().value_case(), pb::Response::kCommit);
  auto lock = d.app->lock();
  EXPECT_EQ(d.app->chain()->block(1).value()->txs.size(), 1u);
  EXPECT_FALSE(d.logged.empty());  // each refusal was logged
}

// A FinalizeBlock for a height that does not follow, between a block's
// FinalizeBlock and its Commit, is refused and leaves the staged block as it
// was (it was dropped, and the Commit then failed).
TEST(Abci, AFinalizeBlockOutOfOrderLeavesTheStagedBlock) {
  Driver d("out-of-order");
  d.init_chain(genesis_json());
  pb::Response fin = d.finalize(1, {raw(payment(kAlice, 0, 7))});
  ASSERT_EQ(fin.value_case(), pb::Response::kFinalizeBlock);
  EXPECT_EQ(d.finalize(3, {}).value_case(), pb::Response::kException);
  EXPECT_EQ(d.finalize(0, {}).value_case(), pb::Response::kException);
  ASSERT_EQ(d.commit().value_case(), pb::Response::kCommit);
  EXPECT_EQ(d.info().last_block_height(), 1);
  EXPECT_EQ(d.info().last_block_app_hash(), fin.finalize_block().app_hash());
}

// Query /rpc serves the chain's reads; no request through it, however its
// method is spelled, makes a block outside consensus.
TEST(Abci, QueryServesReadsAndNeverMakesABlock) {
  Driver d("query");
  d.init_chain(genesis_json());
  auto query = [&](const std::string& body) {
    pb::Request r;
    r.mutable_query()->set_path("/rpc");
    r.mutable_query()->set_data(body);
    return d.send(r).query();
  };
  pb::QueryResponse balance =
      query("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"writ_getBalance\",\"params\":[\"0x" +
            address_of(kAlice.pub).hex() + "\"]}");
  EXPECT_EQ(balance.code(), 0u);
  EXPECT_NE(balance.value().find("\"result\":\"1000000000\""), std::string::npos)
      << balance.value();
  const std::string tx = to_hex(payment(kAlice, 0, 5).encode());
  for (const std::string method : {"writ_sendRawTransaction", "writ_sendRaw\\u0054ransaction"}) {
    pb::QueryResponse sent = query("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"" + method +
                                   "\",\"params\":[\"" + tx + "\"]}");
    EXPECT_EQ(sent.value().find("\"result\""), std::string::npos) << sent.value();
  }
  EXPECT_EQ(d.info().last_block_height(), 0);
  pb::Request other;
  other.mutable_query()->set_path("/store");
  EXPECT_EQ(d.send(other).query().code(), 1u);
  // A height other than the last committed one (or 0, "the latest") is
  // refused, not answered from the latest block as if it were that height.
  for (int64_t h : {0, 1, 99999999}) {
    pb::Request at;
    at.mutable_query()->set_path("/rpc");
    at.mutable_query()->set_height(h);
    at.mutable_query()->set_data("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"writ_blockNumber\"}");
    pb::QueryResponse r = d.send(at).query();
    EXPECT_EQ(r.height(), 0) << h;
    if (h == 0) {
      EXPECT_EQ(r.code(), 0u) << r.log();
    } else {
      EXPECT_EQ(r.code(), 2u) << h;
      EXPECT_NE(r.log().find("height " + std::to_string(h) +
                             " is not served: Query answers at the last committed block "
                             "(height 0) only"),
                std::string::npos)
          << r.log();
    }
  }
}

// CometBFT sends Query on a connection of its own, beside FinalizeBlock and
// Commit on the consensus connection: a call through Query runs on a view of
// the head and takes no lock, so however long it runs it never holds up a
// block. Here the app's lock is held (as a block being finalized holds it)
// while a writ_call arrives through Query: it is answered all the same.
TEST(Abci, ACallThroughQueryDoesNotWaitForTheAppsLock) {
  Driver d("query-unlocked");
  ASSERT_EQ(d.init_chain(genesis_json()).value_case(), pb::Response::kInitChain);
  ASSERT_EQ(d.finalize(1, {raw(payment(kAlice, 0, 100))}).value_case(),
            pb::Response::kFinalizeBlock);
  ASSERT_EQ(d.commit().value_case(), pb::Response::kCommit);
  auto query = [&](const std::string& body) {
    pb::Request r;
    r.mutable_query()->set_path("/rpc");
    r.mutable_query()->set_data(body);
    return d.send(r).query();
  };
  const std::string bob = address_of(kBob.pub).hex();
  EXPECT_NE(query("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"writ_getBalance\",\"params\":[\"0x" +
                  bob + "\"]}")
                .value()
                .find("\"result\":\"100\""),
            std::string::npos);
  const std::string call =
      "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"writ_call\",\"params\":[{\"to\":\"0x" + bob +
      "\"}]}";
  auto lock = d.app->lock();
  auto answered = std::async(std::launch::async, [&] { return query(call); });
  const bool in_time = answered.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  lock.unlock();
  ASSERT_TRUE(in_time) << "writ_call through Query waited for the app's lock";
  const pb::QueryResponse r = answered.get();
  EXPECT_EQ(r.code(), 0u);
  EXPECT_EQ(r.height(), 1);
  // Bob has no code: the call ran, on the view of block 1, and says so.
  EXPECT_NE(r.value().find("\"status\":\"NoCode\""), std::string::npos) << r.value();
}

TEST(Abci, FramesAreVarintLengthPrefixedAndBounded) {
  std::string_view payload;
  size_t used = 0;
  std::string why;
  const std::string f = abci::frame(std::string(300, 'x'));
  EXPECT_EQ(static_cast<uint8_t>(f[0]), 0xacu);  // 300 = 0b10_0101100
  EXPECT_EQ(static_cast<uint8_t>(f[1]), 0x02u);
  EXPECT_EQ(abci::read_frame(f.substr(0, 100), payload, used, why), abci::FrameStatus::kMore);
  const std::string with_more = f + "rest";
  ASSERT_EQ(abci::read_frame(with_more, payload, used, why), abci::FrameStatus::kFrame);
  EXPECT_EQ(payload, std::string(300, 'x'));
  EXPECT_EQ(used, 302u);
  EXPECT_EQ(abci::read_frame(std::string(11, '\xff'), payload, used, why), abci::FrameStatus::kBad);
  EXPECT_NE(why.find("not a 64-bit varint"), std::string::npos) << why;
  // 2^28 bytes announced: over kMaxFrame, refused before any of it arrives.
  EXPECT_EQ(abci::read_frame(std::string("\x80\x80\x80\x80\x01", 5), payload, used, why),
            abci::FrameStatus::kBad);
  EXPECT_NE(why.find("limit"), std::string::npos) << why;
}

// CometBFT lets a chain's consensus parameters raise block.max_bytes to
// 100 MiB (104,857,600; -1 means that much), and a FinalizeBlock or
// ProcessProposal request carries the block's transactions beside its
// commit and evidence: a frame that large is awaited, not refused (a
// refusal closes the connection, and the node stops at that block).
TEST(Abci, AFrameAsLargeAsCometBftsLargestBlockIsAwaited) {
  std::string_view payload;
  size_t used = 0;
  std::string why;
  std::string announced;  // the varint of 100 MiB + 8 MiB
  for (uint64_t n = 104857600 + (8u << 20);; n >>= 7) {
    announced.push_back(static_cast<char>(n >= 0x80 ? (n & 0x7f) | 0x80 : n));
    if (n < 0x80) break;
  }
  EXPECT_EQ(abci::read_frame(announced + "partial", payload, used, why), abci::FrameStatus::kMore)
      << why;
}

int connect_to(const std::string& address) {  // "tcp://127.0.0.1:PORT"
  const size_t colon = address.rfind(':');
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  return fd;
}

std::vector<pb::Response> read_responses(int fd, size_t n) {
  std::vector<pb::Response> out;
  std::string buf;
  char chunk[4096];
  while (out.size() < n) {
    std::string_view payload;
    size_t used = 0;
    std::string why;
    if (abci::read_frame(buf, payload, used, why) == abci::FrameStatus::kFrame) {
      pb::Response r;
      EXPECT_TRUE(r.ParseFromArray(payload.data(), static_cast<int>(payload.size())));
      out.push_back(r);
      buf.erase(0, used);
      continue;
    }
    const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
    if (got <= 0) break;
    buf.append(chunk, static_cast<size_t>(got));
  }
  return out;
}

// The server answers a connection's requests in order, however they arrive
// (here three in one write, the next split byte by byte), and closes a
// connection that sends a frame over the limit, after an exception.
TEST(Abci, TheServerAnswersEachConnectionInOrderAndRefusesOversizeFrames) {
  Driver d("server");
  abci::Server server(*d.app, {.address = "tcp://127.0.0.1:0"});
  ASSERT_TRUE(server.start().ok);
  std::thread t([&] { server.run(); });
  const int fd = connect_to(server.address());
  pb::Request echo, flush, info;
  echo.mutable_echo()->set_message("hello");
  flush.mutable_flush();
  info.mutable_info();
  const std::string three = abci::frame(echo.SerializeAsString()) +
                            abci::frame(flush.SerializeAsString()) +
                            abci::frame(info.SerializeAsString());
  ASSERT_EQ(::send(fd, three.data(), three.size(), 0), static_cast<ssize_t>(three.size()));
  auto rs = read_responses(fd, 3);
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_EQ(rs[0].echo().message(), "hello");
  EXPECT_EQ(rs[1].value_case(), pb::Response::kFlush);
  EXPECT_EQ(rs[2].value_case(), pb::Response::kInfo);
  const std::string one = abci::frame(echo.SerializeAsString());
  for (char c : one) ASSERT_EQ(::send(fd, &c, 1, 0), 1);
  ASSERT_EQ(read_responses(fd, 1).at(0).echo().message(), "hello");
  const std::string huge("\x80\x80\x80\x80\x01", 5);  // a 256 MiB frame announced
  ASSERT_EQ(::send(fd, huge.data(), huge.size(), 0), 5);
  auto refused = read_responses(fd, 1);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].value_case(), pb::Response::kException);
  char c;
  EXPECT_EQ(::recv(fd, &c, 1, 0), 0);  // closed
  ::close(fd);
  server.stop();
  t.join();
}

}  // namespace
}  // namespace writ::runtime

namespace writ::runtime {
namespace {

TEST(Abci, TextsForProtobufStringsAreMadeUtf8) {
  EXPECT_EQ(abci::utf8_text("plain, \xc3\xa9, \xe2\x82\xac, \xf0\x9f\x92\xb8"),
            "plain, \xc3\xa9, \xe2\x82\xac, \xf0\x9f\x92\xb8");
  EXPECT_EQ(abci::utf8_text("a\xffz"), "a\\xffz");
  EXPECT_EQ(abci::utf8_text("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
  EXPECT_EQ(abci::utf8_text("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(abci::utf8_text("\xe2\x82"), "\\xe2\\x82");           // cut short
}

}  // namespace
}  // namespace writ::runtime
