// `writ debug`'s recording (contract in debug_record.hpp): the tracer that
// keeps every step, the sources a replayed transaction reads its chain
// from, and the setup of a call, a test or a transaction.
#include "debug_record.hpp"

#include <algorithm>
#include <cstring>
#include <iostream>

#include <nlohmann/json.hpp>

#include "args.hpp"
#include "chain_client.hpp"
#include "decode.hpp"
#include "storage_view.hpp"
#include "writ/compiler/abi_format.hpp"
#include "writ/contracts/system.hpp"
#include "writ/runtime/node.hpp"
#include "writ/vm/abi.hpp"
#include "writ/vm/opcodes.hpp"

namespace writ::cli::debug {

std::vector<uint32_t> slot_layout(const vm::Function& f, uint32_t& total) {
  std::vector<uint32_t> at;
  total = 0;
  for (size_t r = 0; r < f.register_count(); ++r) {
    at.push_back(total);
    total += f.reg_type(r) == ValType::U256 ? 4 : 1;
  }
  return at;
}

// The register operands of the instruction at `pc` (their register numbers).
std::vector<uint16_t> register_operands(const vm::Function& f, uint32_t pc) {
  std::vector<uint16_t> regs;
  if (pc >= f.code.size()) return regs;
  const uint8_t op = f.code[pc];
  if (op >= vm::kOpcodeCount) return regs;
  size_t at = pc + 1;
  for (char letter : vm::kOpInfo[op].operands) {
    const unsigned w = vm::operand_width(letter);
    if (at + w > f.code.size()) break;
    if (vm::is_register_operand(letter))
      regs.push_back(static_cast<uint16_t>(f.code[at] | (f.code[at + 1] << 8)));
    at += w;
  }
  return regs;
}

class Recorder final : public runtime::CallTracer {
 public:
  // `resolve` finds the contract at an address the book has not bound yet.
  using Resolver = std::function<const ContractOutput*(const U256&)>;
  Recorder(Recording& rec, const ContractBook& book, Resolver resolve = {})
      : rec_(rec), book_(book), resolve_(std::move(resolve)) {}

  void enter(const vm::Message& msg) override {
    CallRec c;
    c.address = msg.self;
    c.contract = book_.at(msg.self);
    if (!c.contract && resolve_) c.contract = resolve_(msg.self);
    if (c.contract) c.lines = table(c.contract);
    c.parent = live_.empty() ? -1 : live_.back().index;
    c.nesting = static_cast<uint32_t>(live_.size());
    rec_.calls.push_back(c);
    Live l;
    l.index = static_cast<int>(rec_.calls.size() - 1);
    l.writes_at = rec_.writes.size();
    live_.push_back(std::move(l));
  }
  void leave(const vm::Message& msg, const vm::ExecResult& r) override {
    if (live_.empty()) return;
    rec_.calls[static_cast<size_t>(live_.back().index)].used =
        msg.gas - (r.gas_left < 0 ? 0 : r.gas_left);
    // A failed call's writes, its callees' included, are undone with it.
    if (r.status != Status::Ok)
      for (size_t k = live_.back().writes_at; k < rec_.writes.size(); ++k)
        rec_.writes[k].until = std::min(rec_.writes[k].until, rec_.steps.size());
    live_.pop_back();
  }
  void on_step(const vm::TraceStep& s) override {
    if (live_.empty()) return;
    if (rec_.steps.size() >= kMaxSteps) {
      rec_.truncated = true;
      return;
    }
    Live& l = live_.back();
    const CallRec& c = rec_.calls[static_cast<size_t>(l.index)];
    if (l.stack.size() != s.frame_depth + 1) l.stack.resize(s.frame_depth + 1);
    l.stack[s.frame_depth] = s.func;
    StepRec st{};
    st.call = static_cast<uint32_t>(l.index);
    st.func = s.func;
    st.pc = s.pc;
    st.depth = s.frame_depth;
    st.gas_left = s.gas_left;
    st.static_gas = s.static_gas;
    st.opcode = s.opcode;
    const vm::Function* fn = c.contract && s.func < c.contract->module.functions.size()
                                 ? &c.contract->module.functions[s.func]
                                 : nullptr;
    uint32_t slots = 0;
    std::vector<uint32_t> layout = fn ? slot_layout(*fn, slots) : std::vector<uint32_t>{};
    st.regs_at = static_cast<uint32_t>(rec_.regs.size());
    st.regs_len = slots;
    rec_.regs.insert(rec_.regs.end(), s.regs, s.regs + slots);
    // The buffers the function's locals hold: a new blob when one changed
    // since this call last saw it.
    st.bufs_at = static_cast<uint32_t>(rec_.bufrefs.size());
    if (fn && c.lines && s.buffers)
      for (const auto& local : c.lines->locals(s.func))
        for (uint32_t r : local.registers) {
          if (r >= layout.size() || layout[r] >= slots || fn->reg_type(r) != ValType::Buf) continue;
          const uint64_t handle = s.regs[layout[r]];
          if (handle >= s.buffers->size()) continue;
          const vm::Buffer& b = (*s.buffers)[handle];
          const size_t n = std::min(b.size(), kMaxBufferBytes);
          auto seen = l.blobs.find(handle);
          if (seen == l.blobs.end() || rec_.blobs[seen->second].size != b.size() ||
              !std::equal(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n),
                          rec_.blobs[seen->second].bytes.begin(),
                          rec_.blobs[seen->second].bytes.end())) {
            rec_.blobs.push_back(
                Blob{std::vector<uint8_t>(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n)),
                     b.size()});
            l.blobs[handle] = static_cast<uint32_t>(rec_.blobs.size() - 1);
          }
          rec_.bufrefs.push_back(BufRef{r, l.blobs[handle]});
        }
    st.bufs_len = static_cast<uint32_t>(rec_.bufrefs.size()) - st.bufs_at;
    st.stack_at = static_cast<uint32_t>(rec_.fstack.size());
    st.stack_len = static_cast<uint32_t>(l.stack.size());
    rec_.fstack.insert(rec_.fstack.end(), l.stack.begin(), l.stack.end());
    st.file = -1;
    if (c.lines) {
      auto [file, line] = c.lines->at(s.func, s.pc);
      if (!file.empty()) {
        auto it = std::find(rec_.files.begin(), rec_.files.end(), file);
        if (it == rec_.files.end()) it = rec_.files.insert(rec_.files.end(), file);
        st.file = static_cast<int32_t>(it - rec_.files.begin());
        st.line = line;
      }
    }
    // A hash2 finished: its result is in the destination register now.
    if (l.hash_pending && l.hash_depth == s.frame_depth) {
      rec_.preimages[word(s.regs, l.hash_dest)] = {l.hash_a, l.hash_b};
      l.hash_pending = false;
    }
    if (fn) {
      if (s.opcode == static_cast<uint8_t>(vm::Op::HASH2)) {
        auto ops = register_operands(*fn, s.pc);
        if (ops.size() == 3 && ops[0] < layout.size() && ops[1] < layout.size() &&
            ops[2] < layout.size()) {
          l.hash_pending = true;
          l.hash_depth = s.frame_depth;
          l.hash_dest = layout[ops[0]];
          l.hash_a = word(s.regs, layout[ops[1]]);
          l.hash_b = word(s.regs, layout[ops[2]]);
        }
      } else if (s.opcode == static_cast<uint8_t>(vm::Op::SSTORE)) {
        auto ops = register_operands(*fn, s.pc);
        if (ops.size() == 2 && ops[0] < layout.size() && ops[1] < layout.size())
          rec_.writes.push_back({rec_.steps.size(), c.address, word(s.regs, layout[ops[0]]),
                                 word(s.regs, layout[ops[1]])});
      }
    }
    rec_.steps.push_back(st);
  }

 private:
  struct Live {
    int index = 0;
    size_t writes_at = 0;  // its first write in Recording::writes
    std::vector<uint32_t> stack;
    std::map<uint64_t, uint32_t> blobs;  // buffer handle -> its last blob
    bool hash_pending = false;
    uint32_t hash_depth = 0, hash_dest = 0;
    U256 hash_a{}, hash_b{};
  };
  static U256 word(const uint64_t* regs, uint32_t slot) {
    return U256{{regs[slot], regs[slot + 1], regs[slot + 2], regs[slot + 3]}};
  }
  const LineTable* table(const ContractOutput* c) {
    auto it = rec_.tables.find(c);
    if (it == rec_.tables.end()) it = rec_.tables.emplace(c, std::make_unique<LineTable>(*c)).first;
    return it->second.get();
  }
  Recording& rec_;
  const ContractBook& book_;
  Resolver resolve_;
  std::vector<Live> live_;
};

namespace {

// Where a replay reads the chain: a node's data directory (the node
// stopped), or a running node's JSON-RPC. Each call prints what went wrong
// and returns an exit code, kExitOk when it went well.
class ReplaySource {
 public:
  virtual ~ReplaySource() = default;
  const std::string& name() const { return name_; }
  // The committed transaction's receipt (height, index, status, gas used).
  virtual int receipt(const runtime::Hash256& tx, runtime::Receipt& out) = 0;
  virtual int genesis(std::string& json) = 0;
  virtual int block(uint64_t height, runtime::Block& out) = 0;

 protected:
  std::string name_;
};

class DataDirSource final : public ReplaySource {
 public:
  explicit DataDirSource(runtime::DataDir dir, const std::string& path) : dir_(std::move(dir)) {
    name_ = path;
  }
  int receipt(const runtime::Hash256& tx, runtime::Receipt& out) override {
    auto r = dir_.chain->receipt(tx);
    if (!r.ok()) return fail(r.error().message, kExitInput);
    if (!r.value())
      return fail("no transaction " + tx.hex() + " in the chain of " + name_ + " (head: block " +
                      std::to_string(dir_.chain->head().height) + ")",
                  kExitUsage);
    out = *r.value();
    return kExitOk;
  }
  int genesis(std::string& json) override {
    json = dir_.genesis_json;
    return kExitOk;
  }
  int block(uint64_t height, runtime::Block& out) override {
    auto b = dir_.chain->block(height);
    if (!b.ok() || !b.value())
      return fail(name_ + ": block " + std::to_string(height) + " cannot be read", kExitInput);
    out = *b.value();
    return kExitOk;
  }

 private:
  static int fail(const std::string& why, int rc) {
    std::fprintf(stderr, "writ debug: %s\n", why.c_str());
    return rc;
  }
  runtime::DataDir dir_;
};

class RpcSource final : public ReplaySource {
 public:
  RpcSource(std::unique_ptr<ChainClient> c, const std::string& endpoint) : c_(std::move(c)) {
    name_ = "the node at " + endpoint;
  }
  int receipt(const runtime::Hash256& tx, runtime::Receipt& out) override {
    nlohmann::json r;
    if (int rc = ask("writ_getReceipt", {"0x" + tx.hex()}, r)) return rc;
    if (r.is_null()) {
      std::fprintf(stderr, "writ debug: no transaction %s in the chain of %s\n", tx.hex().c_str(),
                   name_.c_str());
      return kExitUsage;
    }
    if (!r.is_object() || !r["height"].is_number_unsigned() || !r["index"].is_number_unsigned() ||
        !r["status_code"].is_number_unsigned() || !r["gas_used"].is_number_unsigned())
      return bad("writ_getReceipt");
    out.tx_hash = tx;
    out.height = r["height"].get<uint64_t>();
    out.index = r["index"].get<uint32_t>();
    out.status = static_cast<Status>(r["status_code"].get<int>());
    out.gas_used = r["gas_used"].get<uint64_t>();
    return kExitOk;
  }
  int genesis(std::string& json) override {
    nlohmann::json g;
    if (int rc = ask("writ_getGenesis", nlohmann::json::array(), g)) return rc;
    if (!g.is_object()) {
      std::fprintf(stderr, "writ debug: %s does not serve its genesis (writ_getGenesis)\n",
                   name_.c_str());
      return kExitInput;
    }
    json = g.dump();
    return kExitOk;
  }
  int block(uint64_t height, runtime::Block& out) override {
    nlohmann::json b;
    if (int rc = ask("writ_getRawBlock", {height}, b)) return rc;
    if (!b.is_object() || !b["header"].is_string() || !b["transactions"].is_array())
      return bad("writ_getRawBlock " + std::to_string(height));
    auto header = runtime::from_hex(b["header"].get<std::string>());
    if (!header) return bad("writ_getRawBlock " + std::to_string(height));
    auto h = runtime::BlockHeader::decode(
        std::string_view(reinterpret_cast<const char*>(header->data()), header->size()));
    if (!h.ok())
      return bad("writ_getRawBlock " + std::to_string(height) +
                 ": the header: " + h.error().message);
    out.header = h.value();
    out.txs.clear();
    for (const auto& t : b["transactions"]) {
      auto bytes = t.is_string() ? runtime::from_hex(t.get<std::string>()) : std::nullopt;
      if (!bytes) return bad("writ_getRawBlock " + std::to_string(height));
      auto tx = runtime::decode_transaction(*bytes);
      if (!tx.ok())
        return bad("writ_getRawBlock " + std::to_string(height) + ": transaction " +
                   std::to_string(out.txs.size()) + ": " + tx.error().message);
      out.txs.push_back(std::move(tx.value()));
    }
    return kExitOk;
  }

 private:
  int ask(const std::string& method, nlohmann::json params, nlohmann::json& result) {
    std::string err;
    if (c_->call(method, std::move(params), result, err)) return kExitOk;
    std::fprintf(stderr, "writ debug: %s: %s: %s\n", name_.c_str(), method.c_str(), err.c_str());
    return kExitInput;
  }
  int bad(const std::string& what) {
    std::fprintf(stderr, "writ debug: %s answered %s with something that is not one\n",
                 name_.c_str(), what.c_str());
    return kExitInput;
  }
  std::unique_ptr<ChainClient> c_;
};

// `writ debug --tx HASH --data DIR | --rpc HOST:PORT`: the chain re-built in
// memory from its genesis up to the transaction's block's parent (every block
// re-executed and checked against its header), then the block's transactions
// before it, then it, traced. The contracts are known from --build
// directories (by code hash) and the system contracts of this build.
int record_transaction(Target& t, const std::string& tx_text, ReplaySource& src,
                       const std::vector<std::string>& builds) {
  ContractBook& book = t.tx_book;
  std::string err;
  for (const std::string& d : builds)
    if (!book.add_build_dir(d, err)) {
      std::fprintf(stderr, "writ debug: --build %s\n", err.c_str());
      return kExitInput;
    }
  book.add_system_contracts();
  auto hash = runtime::Hash256::from_hex(tx_text);
  if (!hash) {
    std::fprintf(stderr, "writ debug: --tx %s is not a transaction hash (64 hex digits)\n",
                 tx_text.c_str());
    return kExitUsage;
  }
  runtime::Receipt stored;
  if (int rc = src.receipt(*hash, stored)) return rc;
  std::string genesis_text;
  if (int rc = src.genesis(genesis_text)) return rc;
  auto genesis = runtime::parse_genesis_json(genesis_text, ".");
  if (!genesis.ok()) {
    std::fprintf(stderr, "writ debug: the genesis of %s: %s\n", src.name().c_str(),
                 genesis.error().message.c_str());
    return kExitInput;
  }
  auto replica = runtime::Chain::open(runtime::open_memory_store(), genesis.value());
  if (!replica.ok()) {
    std::fprintf(stderr, "writ debug: the genesis of %s: %s\n", src.name().c_str(),
                 replica.error().message.c_str());
    return kExitInput;
  }
  t.replica = std::move(replica.value());
  runtime::Chain& mem = *t.replica;
  runtime::Block first;
  if (int rc = src.block(0, first)) return rc;
  if (first.header.hash() != mem.head().hash()) {
    std::fprintf(stderr,
                 "writ debug: %s: its genesis block is not the one its genesis file makes\n",
                 src.name().c_str());
    return kExitInput;
  }
  for (uint64_t h = 1; h < stored.height; ++h) {
    runtime::Block b;
    if (int rc = src.block(h, b)) return rc;
    auto applied = mem.apply_block(b);
    if (!applied.ok()) {
      std::fprintf(stderr, "writ debug: replaying %s: %s\n", src.name().c_str(),
                   applied.error().message.c_str());
      return kExitInput;
    }
  }
  runtime::Block the_block;
  if (int rc = src.block(stored.height, the_block)) return rc;
  if (stored.index >= the_block.txs.size() || the_block.txs[stored.index].hash() != *hash) {
    std::fprintf(stderr, "writ debug: %s: block %llu does not hold %s at position %u\n",
                 src.name().c_str(), static_cast<unsigned long long>(stored.height),
                 hash->hex().c_str(), stored.index);
    return kExitInput;
  }
  t.block = std::move(the_block);
  const runtime::Block* block_ptr = &*t.block;
  const runtime::Transaction& tx = block_ptr->txs.at(stored.index);
  // Contracts by the code at their address, as the replica holds it.
  auto resolve = [&](const U256& address) -> const ContractOutput* {
    auto acct = mem.account(runtime::Address::from_u256(address));
    if (!acct.ok() || acct.value().code_hash.is_zero()) return nullptr;
    vm::CodeHash ch;
    std::memcpy(ch.bytes, acct.value().code_hash.bytes.data(), 32);
    return book.bind_code(address, ch);
  };
  Recording& rec = t.rec;
  Recorder recorder(rec, book, resolve);
  auto traced = mem.trace_transaction(*block_ptr, stored.index, &recorder);
  if (!traced.ok()) {
    std::fprintf(stderr, "writ debug: %s\n", traced.error().message.c_str());
    return kExitInput;
  }
  rec.gas = static_cast<int64_t>(tx.gas_limit);
  rec.result.status = traced.value().status;
  rec.result.output = traced.value().output;
  rec.logs = traced.value().logs;
  rec.result.gas_left = static_cast<int64_t>(tx.gas_limit - traced.value().gas_used);
  std::fprintf(t.msgs, "transaction %s: block %llu, position %u; replayed from the genesis of %s\n",
               hash->hex().c_str(), static_cast<unsigned long long>(stored.height), stored.index,
               src.name().c_str());
  if (traced.value().status != stored.status || traced.value().gas_used != stored.gas_used)
    std::fprintf(t.msgs, "note: the replay differs from the stored receipt (%s, %llu gas there)\n",
                 std::string(vm::status_name(stored.status)).c_str(),
                 static_cast<unsigned long long>(stored.gas_used));
  // Storage before the transaction: the slots the debugger can show, read in
  // a second replay just before it runs (the views decoded there, as the
  // state was before the transaction and as it left it, name them).
  auto& before = t.before;
  auto second = mem.trace_transaction(
      *block_ptr, stored.index, nullptr, [&](const runtime::Chain::StateReader& read) {
        for (const CallRec& c : rec.calls) {
          if (!c.contract) continue;
          for (const bool after : {false, true})
            decode_storage(
                c.contract->abi_json,
                [&](const U256& slot) {
                  if (after)
                    for (size_t k = rec.writes.size(); k-- > 0;)
                      if (rec.writes[k].until == SIZE_MAX && rec.writes[k].account == c.address &&
                          rec.writes[k].slot == slot)
                        return rec.writes[k].value;
                  auto it = before.find({c.address, slot});
                  if (it == before.end())
                    it = before
                             .emplace(Target::SlotKey{c.address, slot},
                                      read(runtime::Address::from_u256(c.address), slot))
                             .first;
                  return it->second;
                },
                rec.preimages);
        }
      });
  if (!second.ok()) {
    std::fprintf(stderr, "writ debug: %s\n", second.error().message.c_str());
    return kExitInput;
  }
  t.read_before = [&before](const U256& a, const U256& slot) {
    auto it = before.find({a, slot});
    return it == before.end() ? U256::zero() : it->second;
  };
  t.book = &book;
  return kExitOk;
}

}  // namespace

int record_target(const std::vector<std::string>& args, Target& t) {
  Args a;
  if (!parse_args("debug", args,
                  {"--call", "--arg", "--init-arg", "--contract", "--test", "--stdlib", "--tx",
                   "--data", "--rpc", "--build"},
                  {"--dap"}, a))
    return kExitUsage;
  auto text = [&](const char* k) { return a.one(k) ? *a.one(k) : std::string(); };
  const std::string call = text("--call"), contract_name = text("--contract"),
                    test_name = text("--test"), tx = text("--tx"), data_dir = text("--data"),
                    rpc = text("--rpc");
  const std::vector<std::string> builds = a.all("--build"), call_args = a.all("--arg"),
                                 init_args = a.all("--init-arg");
  std::string file;
  std::vector<std::string> paths = a.pos;
  if (test_name.empty() && !paths.empty()) {
    file = paths.front();
    paths.erase(paths.begin());
  }
  compiler::CompileOptions opts;
  opts.stdlib_dir = a.one("--stdlib") ? *a.one("--stdlib") : default_stdlib_dir();
  if (!tx.empty() || !data_dir.empty() || !rpc.empty()) {
    if (tx.empty() || data_dir.empty() == rpc.empty()) {
      std::fprintf(stderr,
                   "writ debug: --tx HASH goes with one of --data DIR and --rpc HOST:PORT\n");
      return kExitUsage;
    }
    if (!rpc.empty()) {
      ChainAccess access;
      access.rpc = &rpc;
      std::unique_ptr<ChainClient> client;
      if (int rc = open_chain_client("debug", access, client)) return rc;
      RpcSource src(std::move(client), rpc);
      return record_transaction(t, tx, src, builds);
    }
    auto dir = runtime::open_data_dir(data_dir, "");
    if (!dir.ok()) {
      std::fprintf(stderr, "writ debug: %s\n", dir.error().message.c_str());
      return kExitInput;
    }
    DataDirSource src(std::move(dir.value()), data_dir);
    return record_transaction(t, tx, src, builds);
  }
  if (test_name.empty() && (file.empty() || call.empty())) {
    std::fputs(kDebugHelp, stderr);
    return kExitUsage;
  }

  Recording& rec = t.rec;
  TestWorld& world = t.world;
  Scenario& sc = t.sc;
  ContractBook* book = &world.book;
  if (!test_name.empty()) {
    if (!file.empty()) paths.insert(paths.begin(), file);
    if (int rc = load_test_world("debug", paths, opts, world); rc != kExitOk) return rc;
    const ContractOutput* tc = nullptr;
    const compiler::CompileOutput* tfile = nullptr;
    const AbiEntry* fn = nullptr;
    std::vector<std::string> found, matches;
    for (const auto& [f, out] : world.tests_by_file)
      for (size_t ci = 0; ci < out->contracts.size(); ++ci)
        for (const AbiEntry& e : out->contracts[ci].functions) {
          const ContractOutput& c = out->contracts[ci];
          if (e.name.rfind("test_", 0) != 0) continue;
          found.push_back(c.name + "." + e.name);
          if (test_name == e.name || test_name == c.name + "." + e.name) {
            tc = world.booked.at(out)[ci];
            tfile = out;
            fn = &e;
            matches.push_back(c.name + "." + e.name);
          }
        }
    if (matches.size() > 1) {
      std::string which;
      for (size_t k = 0; k < matches.size(); ++k) which += (k ? ", " : "") + matches[k];
      std::fprintf(stderr, "writ debug: more than one test is called %s (%s): name its contract\n",
                   test_name.c_str(), which.c_str());
      return kExitUsage;
    }
    if (!tc || !fn) {
      std::string known;
      for (size_t k = 0; k < found.size() && k < 12; ++k) known += (k ? ", " : "") + found[k];
      std::fprintf(stderr, "writ debug: no test %s (tests: %s)\n", test_name.c_str(),
                   known.empty() ? "none" : known.c_str());
      return kExitUsage;
    }
    if (!fn->inputs.empty()) {
      std::fprintf(stderr,
                   "writ debug: %s takes parameters: debug it through a test that calls it\n",
                   test_name.c_str());
      return kExitUsage;
    }
    TestSession run = open_test_session(world, *tfile, *tc, sc.gas),
                before = open_test_session(world, *tfile, *tc, sc.gas);
    if (!run.error.empty()) {
      std::fprintf(stderr, "writ debug: %s\n", run.error.c_str());
      return kExitTrap;
    }
    sc.run = std::move(run.s);
    sc.hooks_run = std::move(run.hooks);
    sc.before = std::move(before.s);
    sc.hooks_before = std::move(before.hooks);
    sc.from = Address::from_u256(U256::from_u64(0x7e575e4d));
    sc.to = run.self;
    sc.input = vm::call_input(fn->selector, std::vector<Value>{});
  } else {
    compiler::CompileOutput* out = &world.outputs.emplace_back(compiler::compile_file(file, opts));
    std::fputs(out->diagnostics.c_str(), stderr);
    if (!out->ok) {
      std::fprintf(stderr, "writ debug: %zu error%s\n", out->error_count,
                   out->error_count == 1 ? "" : "s");
      return kExitInput;
    }
    if (out->contracts.empty()) {
      std::fprintf(stderr, "writ debug: %s declares no contract\n", file.c_str());
      return kExitInput;
    }
    world.book.add_compiled(*out);
    world.book.add_system_contracts();
    auto box = runtime::Sandbox::create(contracts::default_genesis());
    if (!box.ok()) {
      std::fprintf(stderr, "writ debug: the genesis: %s\n", box.error().to_string().c_str());
      return kExitInput;
    }
    world.box = std::move(box.value());
    const ContractOutput* target = nullptr;
    for (const auto& e : world.book.entries())
      if (!e.system && (contract_name.empty() ? true : e.contract.name == contract_name))
        target = &e.contract;
    if (!target) {
      std::fprintf(stderr, "writ debug: no contract %s in %s\n", contract_name.c_str(),
                   file.c_str());
      return kExitUsage;
    }
    const AbiEntry* fn = nullptr;
    const AbiEntry* ctor = nullptr;
    for (const AbiEntry& e : target->functions) {
      if (e.constructor)
        ctor = &e;
      else if (e.name == call)
        fn = &e;
    }
    if (!fn) {
      std::fprintf(stderr, "writ debug: contract %s has no public function '%s'\n",
                   target->name.c_str(), call.c_str());
      return kExitUsage;
    }
    auto encode = [&](const AbiEntry& f, const std::vector<std::string>& texts,
                      std::vector<uint8_t>& input) {
      if (texts.size() != f.inputs.size()) {
        std::fprintf(stderr, "writ debug: %s takes %zu arguments, got %zu\n", f.name.c_str(),
                     f.inputs.size(), texts.size());
        return false;
      }
      std::vector<Value> vals;
      for (size_t k = 0; k < texts.size(); ++k) {
        std::string err;
        if (!compiler::parse_arg(f.inputs[k], texts[k], vals, err)) {
          std::fprintf(stderr, "writ debug: %s\n", err.c_str());
          return false;
        }
      }
      input = vm::call_input(f.selector, vals);
      return true;
    };
    std::vector<uint8_t> init;
    if (ctor && !encode(*ctor, init_args, init)) return kExitUsage;
    if (!encode(*fn, call_args, sc.input)) return kExitUsage;
    sc.from = Address::from_u256(U256::from_u64(0xCA11E2));
    for (auto* s : {&sc.run, &sc.before}) {
      *s = world.box->session();
      vm::ExecResult r;
      const Address at = runtime::contract_address(sc.from, (*s)->nonce(sc.from));
      world.book.bind(at.to_u256(), target);
      auto dep = (*s)->deploy(sc.from, target->bytecode, init, sc.gas, r);
      if (!dep.ok()) {
        std::fprintf(stderr, "writ debug: deploying %s: %s\n", target->name.c_str(),
                     dep.error().to_string().c_str());
        return kExitTrap;
      }
      sc.to = dep.value();
    }
  }

  Recorder recorder(rec, *book);
  sc.run->set_tracer(&recorder);
  rec.gas = static_cast<int64_t>(sc.gas);
  rec.result = sc.run->call(sc.from, sc.to, sc.input, sc.gas, sc.value, &rec.logs);
  sc.run->set_tracer(nullptr);
  runtime::Sandbox::Session* before = sc.before.get();
  t.read_before = [before](const U256& account, const U256& slot) {
    return before->storage(Address::from_u256(account), slot);
  };
  t.book = book;
  return kExitOk;
}

}  // namespace writ::cli::debug
