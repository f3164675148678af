// `writ debug`: a source-level debugger over a recorded trace
// (docs/debugger.md). The call runs once, traced on the interpreter, in a
// sandbox session; every step is kept (its contract, function, pc, gas and
// the frame's registers), with the storage writes and the hash2 preimages
// seen on the way, so stepping costs nothing in either direction and the
// storage of any contract can be shown at any step by variable name.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <tuple>

#include <nlohmann/json.hpp>

#include "args.hpp"
#include "chain_client.hpp"
#include "commands.hpp"
#include "decode.hpp"
#include "line_editor.hpp"
#include "project.hpp"
#include "storage_view.hpp"
#include "test_world.hpp"
#include "writ/compiler/abi_format.hpp"
#include "writ/contracts/system.hpp"
#include "writ/runtime/node.hpp"
#include "writ/runtime/sandbox.hpp"
#include "writ/vm/abi.hpp"
#include "writ/vm/opcodes.hpp"

namespace writ::cli {

const char* kDebugHelp =
    "usage: writ debug FILE.writ --call NAME [--arg V]... [--init-arg V]... [--contract C]\n"
    "       writ debug --test [Contract.]test_name [PATH...]\n"
    "       writ debug --tx HASH (--data DIR | --rpc HOST:PORT) [--build DIR]...\n"
    "       writ debug --dap   (the Debug Adapter Protocol on stdin/stdout; launch's\n"
    "                          \"args\" are the options above)\n"
    "Runs the call once, traced, and opens a debugger on its recorded trace:\n"
    "stepping in both directions is free. The first form compiles FILE, deploys\n"
    "its contracts in a fresh chain (the default genesis; C, or the last, with\n"
    "the --init-arg values) and calls NAME; the second runs a test of the\n"
    "project (writ test) after its setup(); the third replays a committed\n"
    "transaction of a node's data directory (the node stopped) or of a running\n"
    "node (its JSON-RPC): its chain is re-executed from the genesis up to it, with the contracts "
    "of the --build\n"
    "directories (writ build output) known by code hash. Commands are read from standard\n"
    "input (a terminal or a script); `help` lists them.\n";

namespace {

using compiler::AbiEntry;
using compiler::ContractOutput;
using runtime::Address;
using vm::Status;
using vm::U256;
using vm::ValType;
using vm::Value;

// ---- the recording ---------------------------------------------------------------

struct CallRec {
  const ContractOutput* contract = nullptr;
  const LineTable* lines = nullptr;
  U256 address{};
  int parent = -1;
  uint32_t nesting = 0;  // contract calls above it
  int64_t used = 0;      // gas the call used, its own calls included
};

struct StepRec {
  uint32_t call;
  uint32_t func, pc, depth;  // depth: internal frames below in this call
  int64_t gas_left, static_gas;
  uint8_t opcode;
  uint32_t regs_at, regs_len;    // Recording::regs
  uint32_t bufs_at, bufs_len;    // Recording::bufrefs: the buffers of the locals
  uint32_t stack_at, stack_len;  // Recording::fstack: the functions of the call, outermost first
  int32_t file;                  // Recording::files, -1: no source
  uint32_t line;
};

struct Write {
  size_t step;  // effective after this step
  U256 account, slot, value;
  size_t until = SIZE_MAX;  // rolled back from this step on (its call failed)
};

// A buffer's contents as a step saw them (the first kMaxBufferBytes).
struct Blob {
  std::vector<uint8_t> bytes;
  size_t size = 0;  // the buffer's whole length
};
struct BufRef {
  uint32_t reg, blob;  // a buffer local's register, Recording::blobs
};
constexpr size_t kMaxBufferBytes = 4096;

struct Recording {
  std::vector<CallRec> calls;
  std::vector<Blob> blobs;
  std::vector<BufRef> bufrefs;
  std::vector<StepRec> steps;
  std::vector<uint64_t> regs;
  std::vector<uint32_t> fstack;
  std::vector<std::string> files;
  std::vector<Write> writes;
  std::map<U256, std::pair<U256, U256>, U256Less> preimages;  // hash2 result -> its two words
  vm::ExecResult result;
  int64_t gas = 0;
  bool truncated = false;
  std::vector<runtime::Log> logs;  // what the call emitted (none when it failed)
  // The line tables the calls point at (CallRec::lines), one per contract.
  std::map<const ContractOutput*, std::unique_ptr<LineTable>> tables;
};

constexpr size_t kMaxSteps = 2'000'000;

// Slot offsets of a function's registers (vm/program.hpp's frame layout).
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

// ---- the debugger ------------------------------------------------------------------

struct Breakpoint {
  enum Kind { Line, Function, Pc } kind = Line;
  std::string file;  // Line: a suffix of the source path ("" any)
  uint32_t line = 0, pc = 0;
  std::string function;  // Function: "name" or "Contract.name"
  std::string cond_name, cond_op;
  U256 cond_value{};  // two's complement when cond_negative
  bool cond_negative = false;
  bool enabled = true;
};

// Whether `path` is the file `name` names: the whole path, or its last
// components (counter.writ, src/counter.writ; not ounter.writ).
bool names_file(const std::string& path, const std::string& name) {
  return path == name || (path.size() > name.size() && ends_with(path, name.c_str()) &&
                          path[path.size() - name.size() - 1] == '/');
}

class Debugger {
 public:
  // `before` reads a slot as it was before the call.
  using Reader = std::function<U256(const U256& account, const U256& slot)>;
  Debugger(const Recording& rec, Reader before, const ContractBook& book)
      : rec_(rec), before_(std::move(before)), book_(book) {
    for (size_t i = 0; i < rec_.steps.size(); ++i)
      if (i == 0 || key(i) != key(i - 1)) stops_.push_back(i);
    find_resumes();
  }

  // Where the debugger writes (the DAP server sends its text to stderr).
  void set_output(FILE* f) { out_ = f; }
  // What the session starts with: the recording's summary, a changed
  // source, the first stop. False when no instruction ran.
  bool begin() {
    std::fprintf(out_, "recorded %s steps in %zu contract call%s; %s%s\n",
                 with_commas(rec_.steps.size()).c_str(), rec_.calls.size(),
                 rec_.calls.size() == 1 ? "" : "s", outcome().c_str(),
                 rec_.truncated ? " (trace cut at 2,000,000 steps)" : "");
    check_sources();
    if (stops_.empty()) {
      std::fprintf(out_, "no instruction ran\n");
      return false;
    }
    show();
    return true;
  }

  int run(std::istream& in) {
    LineEditor editor(in, out_);
    if (!begin()) return kExitOk;
    std::string line, last;
    for (;;) {
      if (!editor.read("(writ debug) ", line)) {
        if (!editor.interactive()) std::fprintf(out_, "\n");
        break;
      }
      if (!editor.interactive())
        std::fprintf(out_, "%s\n", line.c_str());  // a script's transcript reads like a session
      if (line.empty() || line == "!!") line = last;
      if (line.empty()) continue;
      editor.remember(line);
      last = line;
      if (line == "history") {
        for (size_t k = 0; k < editor.history().size(); ++k)
          std::fprintf(out_, "%4zu  %s\n", k + 1, editor.history()[k].c_str());
        continue;
      }
      if (!command(line)) break;
    }
    return kExitOk;
  }

 private:
  // A source that is not the one a contract was compiled from (by the source
  // hash in its module's metadata) would show wrong lines: say so.
  void check_sources() const {
    std::vector<const ContractOutput*> seen;
    for (const CallRec& c : rec_.calls) {
      if (!c.contract || std::find(seen.begin(), seen.end(), c.contract) != seen.end()) continue;
      seen.push_back(c.contract);
      std::string want;
      for (const auto& m : c.contract->module.metadata)
        if (m.key == "source_sha256") want = m.value;
      const nlohmann::json d = nlohmann::json::parse(c.contract->debug_json, nullptr, false);
      if (want.empty() || !d.is_object() || !d.contains("files") || !d["files"].is_array() ||
          d["files"].empty() || !d["files"][0].is_string())
        continue;
      const std::string file = d["files"][0].get<std::string>();
      std::ifstream in(file, std::ios::binary);
      if (!in) {
        std::fprintf(out_, "note: %s, the source of %s, is not there: no source lines\n",
                     file.c_str(), c.contract->name.c_str());
        continue;
      }
      std::stringstream ss;
      ss << in.rdbuf();
      const std::string text = ss.str();
      const std::string got =
          runtime::sha256(
              std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()))
              .hex();
      if (got != want)
        std::fprintf(
            out_,
            "note: %s changed since %s was compiled (its source hash differs): the lines shown may "
            "not "
            "match the code\n",
            file.c_str(), c.contract->name.c_str());
    }
  }

  // ---- positions
  std::tuple<uint32_t, uint32_t, int32_t, uint32_t> key(size_t i) const {
    const StepRec& s = rec_.steps[i];
    return {s.call, s.depth, s.file, s.line};
  }
  std::pair<uint32_t, uint32_t> level(size_t i) const {
    const StepRec& s = rec_.steps[i];
    return {rec_.calls[s.call].nesting, s.depth};
  }
  // The stops where a frame resumes the line it was on when it made a call
  // (the step after the callee returns): `step` and `out` stop there, but
  // they start no line, so `next`, `back-next`, `until` and breakpoints pass
  // them by. Also each step's caller: the last step of the frame below
  // before this frame began (its call), for the stack.
  void find_resumes() {
    struct Frame {
      uint32_t call, depth;
      std::pair<uint32_t, uint32_t> level;
      std::tuple<uint32_t, uint32_t, int32_t, uint32_t> key;
      size_t caller, last;
    };
    std::vector<Frame> frames;
    resumes_.assign(rec_.steps.size(), false);
    caller_.assign(rec_.steps.size(), kNoStep);
    for (size_t i = 0; i < rec_.steps.size(); ++i) {
      const StepRec& s = rec_.steps[i];
      const auto lv = level(i);
      while (!frames.empty() && frames.back().level > lv) frames.pop_back();
      if (!frames.empty() && frames.back().call == s.call && frames.back().depth == s.depth) {
        resumes_[i] = i > 0 && level(i - 1) > lv && frames.back().key == key(i);
        frames.back().key = key(i);
      } else {
        if (!frames.empty() && frames.back().level == lv) frames.pop_back();
        frames.push_back(
            {s.call, s.depth, lv, key(i), frames.empty() ? kNoStep : frames.back().last, i});
      }
      frames.back().last = i;
      caller_[i] = frames.back().caller;
    }
  }
  bool starts_line(size_t i) const { return !resumes_[i]; }
  size_t step_index() const { return stops_[cur_]; }

  std::string outcome() const {
    const vm::ExecResult& r = rec_.result;
    std::string s = "the call " + std::string(r.status == Status::Ok ? "returned" : "failed: ") +
                    (r.status == Status::Ok ? "" : std::string(vm::status_name(r.status)));
    if (r.status == Status::Revert && !r.output.empty() && !rec_.calls.empty())
      s += " " + book_.revert(rec_.calls[0].contract, r.output);
    return s + ", " +
           with_commas(static_cast<uint64_t>(rec_.gas - (r.gas_left < 0 ? 0 : r.gas_left))) +
           " gas used";
  }
  static std::string with_commas(uint64_t n) {
    std::string s = std::to_string(n);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
      s.insert(static_cast<size_t>(i), ",");
    return s;
  }

  const CallRec& call_of(size_t i) const { return rec_.calls[rec_.steps[i].call]; }
  std::string function_of(size_t i) const {
    const CallRec& c = call_of(i);
    const std::string name = c.contract ? c.contract->name : vm::to_hex_string(c.address);
    return name + "." +
           (c.lines ? c.lines->function_name(rec_.steps[i].func)
                    : std::to_string(rec_.steps[i].func));
  }
  std::string where(size_t i) const {
    const StepRec& s = rec_.steps[i];
    std::string at = s.file >= 0
                         ? rec_.files[static_cast<size_t>(s.file)] + ":" + std::to_string(s.line)
                         : "pc " + std::to_string(s.pc);
    return function_of(i) + " at " + at;
  }
  std::string source_line(int32_t file, uint32_t line) const {
    if (file < 0) return "";
    std::ifstream in(rec_.files[static_cast<size_t>(file)]);
    std::string text;
    for (uint32_t n = 1; std::getline(in, text); ++n)
      if (n == line) return text;
    return "";
  }

  void show() const {
    const size_t i = step_index();
    const StepRec& s = rec_.steps[i];
    std::fprintf(out_, "%s  [step %zu of %zu, gas left %s]\n", where(i).c_str(), i + 1,
                 rec_.steps.size(),
                 with_commas(static_cast<uint64_t>(s.gas_left < 0 ? 0 : s.gas_left)).c_str());
    if (s.file >= 0) std::fprintf(out_, "%5u  %s\n", s.line, source_line(s.file, s.line).c_str());
    for (const std::string& w : watches_)
      std::fprintf(out_, "  watch %s\n", print_local(w).c_str());
  }

  // ---- moves (each goes to a stop: the first step of a source line)
  bool move_to(size_t stop) {
    if (stop == cur_) return false;
    cur_ = stop;
    return true;
  }
  void forward(const std::function<bool(size_t)>& want, bool at_breakpoints) {
    travel(true, want, at_breakpoints);
  }
  void backward(const std::function<bool(size_t)>& want, bool at_breakpoints) {
    travel(false, want, at_breakpoints);
  }
  // To the next stop (or the previous one) that `want` takes or, with
  // at_breakpoints, where a breakpoint holds; else to the trace's end (start).
  void travel(bool ahead, const std::function<bool(size_t)>& want, bool at_breakpoints) {
    last_ = Last{};
    const size_t n = stops_.size();
    for (size_t step = 1; ahead ? cur_ + step < n : step <= cur_; ++step) {
      const size_t k = ahead ? cur_ + step : cur_ - step;
      const bool at_break = at_breakpoints && starts_line(stops_[k]) && hits(stops_[k]);
      if (!at_break && !want(stops_[k])) continue;
      move_to(k);
      if (at_break) {
        last_.breakpoint = hit_;
        std::fprintf(out_, "breakpoint %d\n", hit_);
      }
      return show();
    }
    if (ahead) {
      move_to(n - 1);
      last_.end = true;
      std::fprintf(out_, "end of the trace: %s\n", outcome().c_str());
    } else {
      move_to(0);
      last_.start = true;
      std::fprintf(out_, "start of the trace\n");
    }
    show();
  }

  bool hits(size_t i) {
    const StepRec& s = rec_.steps[i];
    for (size_t b = 0; b < breaks_.size(); ++b) {
      const Breakpoint& bp = breaks_[b];
      if (!bp.enabled) continue;
      bool at = false;
      switch (bp.kind) {
        case Breakpoint::Line:
          at = s.file >= 0 && s.line == bp.line &&
               (bp.file.empty() || names_file(rec_.files[static_cast<size_t>(s.file)], bp.file));
          break;
        case Breakpoint::Function: {
          const std::string f = function_of(i);
          at = (f == bp.function || f.substr(f.find('.') + 1) == bp.function) &&
               (i == 0 || level(i - 1) < level(i));  // entered, not returned to
          break;
        }
        case Breakpoint::Pc:
          // Any step at the pc: stops are line starts, so find it within the line.
          for (size_t k = i; k < rec_.steps.size() && (k == i || key(k) == key(i)); ++k)
            if (rec_.steps[k].pc == bp.pc) at = true;
          break;
      }
      if (at && !bp.cond_name.empty()) at = condition_holds(i, bp);
      if (at) {
        hit_ = static_cast<int>(b + 1);
        return true;
      }
    }
    return false;
  }

  // ---- values
  std::optional<std::vector<Value>> local_values(size_t i, const LineTable::Local& l) const {
    const StepRec& s = rec_.steps[i];
    const CallRec& c = call_of(i);
    if (!c.contract || s.func >= c.contract->module.functions.size()) return std::nullopt;
    uint32_t total = 0;
    const std::vector<uint32_t> layout = slot_layout(c.contract->module.functions[s.func], total);
    std::vector<Value> vals;
    for (uint32_t r : l.registers) {
      if (r >= layout.size() || layout[r] >= s.regs_len) return std::nullopt;
      const uint64_t* p = rec_.regs.data() + s.regs_at + layout[r];
      switch (c.contract->module.functions[s.func].reg_type(r)) {
        case ValType::U64:
          vals.push_back(Value::u64(p[0]));
          break;
        case ValType::U256:
          vals.push_back(Value::u256(U256{{p[0], p[1], p[2], p[3]}}));
          break;
        default: {  // a buffer: its contents as the step saw them
          const BufRef* ref = nullptr;
          for (uint32_t k = s.bufs_at; k < s.bufs_at + s.bufs_len; ++k)
            if (rec_.bufrefs[k].reg == r) ref = &rec_.bufrefs[k];
          if (!ref) return std::nullopt;
          vals.push_back(Value::buf(rec_.blobs[ref->blob].bytes));
          break;
        }
      }
    }
    return vals;
  }
  const LineTable::Local* find_local(size_t i, const std::string& name) const {
    const CallRec& c = call_of(i);
    if (!c.lines) return nullptr;
    for (const auto& l : c.lines->locals(rec_.steps[i].func))
      if (l.name == name) return &l;
    return nullptr;
  }
  std::string print_local(const std::string& name) const {
    const size_t i = step_index();
    const LineTable::Local* l = find_local(i, name);
    if (!l) return name + ": no such local in " + function_of(i);
    auto vals = local_values(i, *l);
    if (!vals) return name + ": " + l->type + " (a buffer)";
    size_t k = 0;
    return name + ": " + l->type + " = " +
           call_of(i).lines->format(l->type, *vals, k, vals->size()) + cut_note(i, *l);
  }
  // What a buffer local's value leaves out: a step keeps the first
  // kMaxBufferBytes of each buffer.
  std::string cut_note(size_t i, const LineTable::Local& l) const {
    const StepRec& s = rec_.steps[i];
    for (uint32_t r : l.registers)
      for (uint32_t k = s.bufs_at; k < s.bufs_at + s.bufs_len; ++k)
        if (rec_.bufrefs[k].reg == r) {
          const Blob& b = rec_.blobs[rec_.bufrefs[k].blob];
          if (b.size > b.bytes.size())
            return " ... (the first " + with_commas(b.bytes.size()) + " of its " +
                   with_commas(b.size) + " bytes were recorded)";
        }
    return "";
  }
  bool condition_holds(size_t i, const Breakpoint& bp) const {
    const LineTable::Local* l = find_local(i, bp.cond_name);
    if (!l) return false;
    auto vals = local_values(i, *l);
    if (!vals || vals->size() != 1) return false;
    U256 v = (*vals)[0].word;
    const U256 w = bp.cond_value;
    const std::string& op = bp.cond_op;
    // A signed local (iN) compares as a signed value: its register holds
    // the two's complement of N bits or more, sign-extended here to 256.
    const unsigned bits = compiler::signed_bits(l->type);
    const bool is_signed = bits != 0;
    if (is_signed) v = vm::signextend(bits / 8 - 1, v);
    if (!is_signed && bp.cond_negative)  // an unsigned value is above any negative one
      return op == "!=" || op == ">" || op == ">=";
    const bool below = is_signed ? vm::slt(v, w) : vm::lt(v, w);
    const bool above = is_signed ? vm::slt(w, v) : vm::lt(w, v);
    if (op == "==") return v == w;
    if (op == "!=") return !(v == w);
    if (op == "<") return below;
    if (op == "<=") return !above;
    if (op == ">") return above;
    if (op == ">=") return !below;
    return false;
  }

  // The value of a slot of `account` after step `i`: the last write before
  // that no failed call has undone by then, else what the state held before
  // the call.
  U256 slot_at(size_t i, const U256& account, const U256& slot) const {
    for (size_t k = rec_.writes.size(); k-- > 0;) {
      const Write& w = rec_.writes[k];
      if (w.step < i && i < w.until && w.account == account && w.slot == slot) return w.value;
    }
    return before_(account, slot);
  }

  void show_storage() const {
    const size_t i = step_index();
    const CallRec& c = call_of(i);
    if (!c.contract)
      return (void)std::fprintf(out_, "no contract known at %s\n",
                                vm::to_hex_string(c.address).c_str());
    std::fprintf(out_, "storage of %s at %s (as of this step):\n%s", c.contract->name.c_str(),
                 vm::to_hex_string(c.address).c_str(), format_storage(storage_vars()).c_str());
  }

 public:
  // A local the views show.
  struct Var {
    std::string name, type, value;
  };
  // The storage of the contract the current step runs in, as of this step.
  std::vector<StorageVar> storage_vars() const {
    const size_t i = step_index();
    const CallRec& c = call_of(i);
    if (!c.contract) return {};
    return decode_storage(
        c.contract->abi_json, [&](const U256& slot) { return slot_at(i, c.address, slot); },
        rec_.preimages);
  }
  std::vector<Var> local_vars() const {
    std::vector<Var> out;
    const size_t i = step_index();
    const CallRec& c = call_of(i);
    if (!c.lines) return out;
    for (const auto& l : c.lines->locals(rec_.steps[i].func)) {
      auto vals = local_values(i, l);
      size_t k = 0;
      out.push_back(Var{
          l.name, l.type,
          vals ? c.lines->format(l.type, *vals, k, vals->size()) + cut_note(i, l) : "(a buffer)"});
    }
    return out;
  }
  struct FrameView {
    std::string name, file;
    uint32_t line = 0;
  };
  // The call stack across contracts, innermost first: each outer frame at
  // the call it made (find_resumes), a step per frame.
  std::vector<FrameView> frame_views() const {
    std::vector<FrameView> out;
    for (size_t at = step_index(); at != kNoStep; at = caller_[at]) {
      const StepRec& s = rec_.steps[at];
      const CallRec& cr = rec_.calls[s.call];
      const std::string name = cr.contract ? cr.contract->name : vm::to_hex_string(cr.address);
      const uint32_t fn = s.stack_len > 0 ? rec_.fstack[s.stack_at + s.stack_len - 1] : s.func;
      FrameView f;
      f.name = name + "." + (cr.lines ? cr.lines->function_name(fn) : std::to_string(fn));
      if (s.file >= 0) {
        f.file = rec_.files[static_cast<size_t>(s.file)];
        f.line = s.line;
      }
      out.push_back(std::move(f));
    }
    return out;
  }
  // How the last move ended.
  struct Last {
    int breakpoint = 0;  // the breakpoint that stopped it (1-based), 0: none
    bool end = false, start = false;
  };
  const Last& last() const { return last_; }
  // Replaces the line breakpoints of `file` (a suffix of the path); returns
  // how many were set.
  void set_line_breakpoints(const std::string& file,
                            const std::vector<std::pair<uint32_t, std::string>>& lines) {
    for (Breakpoint& b : breaks_)
      if (b.kind == Breakpoint::Line && b.file == file) b.enabled = false;
    for (const auto& [line, cond] : lines) {
      std::vector<std::string> w =
          words("break " + file + ":" + std::to_string(line) + (cond.empty() ? "" : " if " + cond));
      add_breakpoint(w);
    }
  }
  void set_function_breakpoints(const std::vector<std::string>& names) {
    for (Breakpoint& b : breaks_)
      if (b.kind == Breakpoint::Function) b.enabled = false;
    for (const std::string& n : names) add_breakpoint({"break", n});
  }

 private:
  void show_stack() const {
    const std::vector<FrameView> frames = frame_views();
    for (size_t k = 0; k < frames.size(); ++k)
      std::fprintf(out_, "#%zu  %s%s\n", k, frames[k].name.c_str(),
                   frames[k].file.empty()
                       ? ""
                       : (" at " + frames[k].file + ":" + std::to_string(frames[k].line)).c_str());
  }

  void show_locals() const {
    const size_t i = step_index();
    const CallRec& c = call_of(i);
    if (!c.lines || c.lines->locals(rec_.steps[i].func).empty())
      return (void)std::fprintf(out_, "no locals\n");
    for (const auto& l : c.lines->locals(rec_.steps[i].func))
      std::fprintf(out_, "  %s\n", print_local(l.name).c_str());
  }

  void show_list() const {
    const StepRec& s = rec_.steps[step_index()];
    if (s.file < 0) return (void)std::fprintf(out_, "no source for this step\n");
    std::ifstream in(rec_.files[static_cast<size_t>(s.file)]);
    std::string text;
    for (uint32_t n = 1; std::getline(in, text); ++n)
      if (n + 4 >= s.line && n <= s.line + 4)
        std::fprintf(out_, "%s %4u  %s\n", n == s.line ? "=>" : "  ", n, text.c_str());
  }

  // Gas per source line over the whole trace (as writ test --gas-profile).
  void show_gas_lines() const {
    std::map<std::pair<int32_t, uint32_t>, int64_t> by_line;
    for (size_t i = 0; i < rec_.steps.size(); ++i) {
      const StepRec& s = rec_.steps[i];
      by_line[{s.file, s.line}] += s.static_gas;
      // Dynamic: the fall to the next step of the same call, less that
      // step's static charge and what the contract calls made in between
      // used (their own lines have it).
      int64_t children = 0;
      uint32_t last_child = UINT32_MAX;
      for (size_t k = i + 1; k < rec_.steps.size(); ++k) {
        const StepRec& n = rec_.steps[k];
        if (n.call == s.call) {
          const int64_t d = s.gas_left - n.gas_left - n.static_gas - children;
          if (d > 0) by_line[{s.file, s.line}] += d;
          break;
        }
        if (rec_.calls[n.call].parent == static_cast<int>(s.call) && n.call != last_child) {
          children += rec_.calls[n.call].used;
          last_child = n.call;
        }
      }
    }
    std::fprintf(out_, "gas per source line over the trace:\n");
    for (const auto& [at, g] : by_line)
      if (g > 0)
        std::fprintf(out_, "%10s  %s\n", with_commas(static_cast<uint64_t>(g)).c_str(),
                     at.first >= 0 ? (rec_.files[static_cast<size_t>(at.first)] + ":" +
                                      std::to_string(at.second) + "  " +
                                      trim(source_line(at.first, at.second)))
                                         .c_str()
                                   : "(no source)");
  }
  static std::string trim(const std::string& s) {
    const size_t a = s.find_first_not_of(" \t");
    return a == std::string::npos ? "" : s.substr(a);
  }

  bool add_breakpoint(const std::vector<std::string>& w) {
    if (w.size() < 2)
      return std::fprintf(out_, "break LINE | FILE:LINE | FUNCTION | pc N  [if NAME OP VALUE]\n"),
             false;
    Breakpoint bp;
    size_t next = 2;
    const std::string& spec = w[1];
    if (spec == "pc" && w.size() >= 3) {
      auto v = vm::parse_u256(w[2]);
      if (!v || !v->fits_u64())
        return std::fprintf(out_, "break pc: %s is not a pc\n", w[2].c_str()), false;
      bp.kind = Breakpoint::Pc;
      bp.pc = static_cast<uint32_t>(v->low64());
      next = 3;
    } else if (!spec.empty() && std::isdigit(static_cast<unsigned char>(spec[0]))) {
      bp.line = static_cast<uint32_t>(std::stoul(spec));
      const StepRec& s = rec_.steps[step_index()];
      if (s.file >= 0) bp.file = rec_.files[static_cast<size_t>(s.file)];
    } else if (size_t colon = spec.rfind(':');
               colon != std::string::npos && colon + 1 < spec.size() &&
               std::isdigit(static_cast<unsigned char>(spec[colon + 1]))) {
      bp.file = spec.substr(0, colon);
      bp.line = static_cast<uint32_t>(std::stoul(spec.substr(colon + 1)));
    } else {
      bp.kind = Breakpoint::Function;
      bp.function = spec;
    }
    if (w.size() > next) {
      if (w[next] != "if" || w.size() != next + 4)
        return std::fprintf(out_, "a condition is: if NAME OP VALUE (OP one of == != < <= > >=)\n"),
               false;
      // A value may be negative: -N, compared with a signed local as such.
      const bool negative = w[next + 3].size() > 1 && w[next + 3][0] == '-';
      auto v = vm::parse_u256(negative ? w[next + 3].substr(1) : w[next + 3]);
      if (v && negative && vm::lt(U256::from_u64(0), *v) &&
          vm::lt(vm::shl(U256::from_u64(1), 255), *v))
        v.reset();  // below -2^255
      static const char* kOps[] = {"==", "!=", "<", "<=", ">", ">="};
      if (!v || std::find(std::begin(kOps), std::end(kOps), w[next + 2]) == std::end(kOps))
        return std::fprintf(out_, "a condition is: if NAME OP VALUE (OP one of == != < <= > >=)\n"),
               false;
      bp.cond_name = w[next + 1];
      bp.cond_op = w[next + 2];
      bp.cond_negative = negative && !(*v == U256{});
      bp.cond_value = bp.cond_negative ? vm::neg(*v) : *v;
    }
    breaks_.push_back(bp);
    std::fprintf(out_, "breakpoint %zu: %s\n", breaks_.size(), describe(bp).c_str());
    return true;
  }
  static std::string describe(const Breakpoint& bp) {
    std::string s = bp.kind == Breakpoint::Pc         ? "pc " + std::to_string(bp.pc)
                    : bp.kind == Breakpoint::Function ? "function " + bp.function
                                                      : bp.file + ":" + std::to_string(bp.line);
    if (!bp.cond_name.empty())
      s += " if " + bp.cond_name + " " + bp.cond_op + " " +
           (bp.cond_negative ? vm::to_signed_dec_string(bp.cond_value)
                             : vm::to_dec_string(bp.cond_value));
    return s + (bp.enabled ? "" : " (disabled)");
  }

  static std::vector<std::string> words(const std::string& line) {
    std::vector<std::string> w;
    std::istringstream ss(line);
    for (std::string x; ss >> x;) w.push_back(x);
    return w;
  }

 public:
  // One command of the REPL's; false to quit.
  bool command(const std::string& line) {
    const std::vector<std::string> w = words(line);
    if (w.empty()) return true;
    const std::string& c = w[0];
    const size_t here = step_index();
    const auto lv = level(here);
    if (c == "q" || c == "quit" || c == "exit") return false;
    if (c == "h" || c == "help") {
      std::fputs(kCommands, out_);
    } else if (c == "s" || c == "step") {
      forward([](size_t) { return true; }, false);
    } else if (c == "n" || c == "next") {
      forward([&](size_t i) { return level(i) <= lv && starts_line(i); }, true);
    } else if (c == "o" || c == "out" || c == "finish") {
      forward([&](size_t i) { return level(i) < lv; }, true);
    } else if (c == "b" || c == "back") {
      backward([](size_t) { return true; }, false);
    } else if (c == "rn" || c == "back-next") {
      backward([&](size_t i) { return level(i) <= lv && starts_line(i); }, true);
    } else if (c == "c" || c == "continue") {
      forward([](size_t) { return false; }, true);
    } else if (c == "rc" || c == "reverse-continue") {
      backward([](size_t) { return false; }, true);
    } else if ((c == "u" || c == "until") && w.size() == 2) {
      const uint32_t target = static_cast<uint32_t>(std::strtoul(w[1].c_str(), nullptr, 10));
      const int32_t file = rec_.steps[here].file;
      forward(
          [&](size_t i) {
            return rec_.steps[i].file == file && rec_.steps[i].line == target && starts_line(i);
          },
          false);
    } else if (c == "break" || c == "br") {
      add_breakpoint(w);
    } else if ((c == "delete" || c == "d") && w.size() == 2) {
      const size_t n = std::strtoul(w[1].c_str(), nullptr, 10);
      if (n == 0 || n > breaks_.size())
        std::fprintf(out_, "no breakpoint %s\n", w[1].c_str());
      else {
        breaks_[n - 1].enabled = false;
        std::fprintf(out_, "breakpoint %zu deleted\n", n);
      }
    } else if (c == "breakpoints" || c == "info") {
      if (breaks_.empty()) std::fprintf(out_, "no breakpoints\n");
      for (size_t k = 0; k < breaks_.size(); ++k)
        std::fprintf(out_, "%zu: %s\n", k + 1, describe(breaks_[k]).c_str());
    } else if (c == "w" || c == "where") {
      show();
    } else if (c == "l" || c == "list") {
      show_list();
    } else if (c == "bt" || c == "stack") {
      show_stack();
    } else if (c == "locals") {
      show_locals();
    } else if ((c == "p" || c == "print") && w.size() == 2) {
      std::fprintf(out_, "%s\n", print_local(w[1]).c_str());
    } else if (c == "storage") {
      show_storage();
    } else if (c == "gas") {
      const StepRec& s = rec_.steps[here];
      std::fprintf(out_, "gas left %s of %s; this line's block charged %s\n",
                   with_commas(static_cast<uint64_t>(s.gas_left < 0 ? 0 : s.gas_left)).c_str(),
                   with_commas(static_cast<uint64_t>(rec_.gas)).c_str(),
                   with_commas(static_cast<uint64_t>(s.static_gas)).c_str());
    } else if (c == "events") {
      if (rec_.logs.empty())
        std::fprintf(out_, "no events (%s)\n",
                     rec_.result.status == Status::Ok ? "none emitted" : "the call failed");
      for (const runtime::Log& l : rec_.logs) {
        std::vector<U256> topics;
        for (const auto& t : l.topics) topics.push_back(t.to_u256());
        const ContractOutput* emitter = book_.at(l.address.to_u256());
        auto ev = book_.event(emitter, topics, l.data);
        std::fprintf(
            out_, "  %s from %s\n", ev ? ev->c_str() : "(an event no known contract declares)",
            emitter ? emitter->name.c_str() : vm::to_hex_string(l.address.to_u256()).c_str());
      }
    } else if (c == "gas-lines") {
      show_gas_lines();
    } else if (c == "watch" && w.size() == 2) {
      watches_.push_back(w[1]);
      std::fprintf(out_, "watching %s\n", print_local(w[1]).c_str());
    } else {
      std::fprintf(out_, "unknown command '%s' (help lists them)\n", line.c_str());
    }
    return true;
  }

  static constexpr const char* kCommands =
      "moving (each stops at the start of a source line; breakpoints stop next,\n"
      "back-next, out, continue and reverse-continue):\n"
      "  s, step             the next line, into calls\n"
      "  n, next             the next line in this function or a caller (over calls)\n"
      "  o, out, finish      until this function returns\n"
      "  b, back             the previous line (step back), into calls\n"
      "  rn, back-next       the previous line in this function or a caller\n"
      "  c, continue         to the next breakpoint, or the end\n"
      "  rc, reverse-continue  to the previous breakpoint, or the start\n"
      "  u, until LINE       to LINE of this file\n"
      "breakpoints:\n"
      "  break LINE | FILE:LINE | FUNCTION | Contract.FUNCTION | pc N  [if NAME OP VALUE]\n"
      "  breakpoints, delete N\n"
      "looking:\n"
      "  w, where            where this step is, its source line and gas left\n"
      "  l, list             the source around it\n"
      "  bt, stack           the call stack across contracts\n"
      "  locals, p NAME      the function's locals by name and type\n"
      "  watch NAME          print NAME at every stop\n"
      "  storage             the contract's storage by variable name, as of this step\n"
      "                      (map entries: those this call reached)\n"
      "  gas                 gas left and this line's block charge\n"
      "  gas-lines           gas per source line over the whole trace\n"
      "  events              the events the call emitted, decoded by their contracts' ABIs\n"
      "  history             this session's commands (at a terminal, up and down recall\n"
      "                      them; left, right, home, end and backspace edit the line)\n"
      "  q, quit; an empty line repeats the last command\n";

 private:
  const Recording& rec_;
  Reader before_;
  FILE* out_ = stdout;
  Last last_;
  const ContractBook& book_;
  std::vector<size_t> stops_;
  std::vector<bool> resumes_;  // by step (find_resumes)
  static constexpr size_t kNoStep = SIZE_MAX;
  std::vector<size_t> caller_;  // by step: its caller's step, or kNoStep (find_resumes)
  size_t cur_ = 0;
  std::vector<Breakpoint> breaks_;
  std::vector<std::string> watches_;
  int hit_ = 0;
};

// The session the call runs in, and a twin left before it (storage as it was).
struct Scenario {
  std::unique_ptr<runtime::Sandbox::Session> run, before;
  std::unique_ptr<runtime::CallHooks> hooks_run, hooks_before;
  Address from, to;
  std::vector<uint8_t> input;
  uint64_t gas = runtime::kBlockGasLimit;
  U256 value{};
};

// Everything a debug session refers to, kept alive for it.
struct Target {
  using SlotKey = std::pair<U256, U256>;  // (account, slot)
  struct SlotLess {
    bool operator()(const SlotKey& a, const SlotKey& b) const {
      return vm::lt(a.first, b.first) || (a.first == b.first && vm::lt(a.second, b.second));
    }
  };
  FILE* msgs = stdout;  // the lines said before the session starts
  TestWorld world;      // a call or a test
  Scenario sc;
  ContractBook tx_book;  // a transaction
  std::unique_ptr<runtime::Chain> replica;
  std::optional<runtime::Block> block;
  std::map<SlotKey, U256, SlotLess> before;
  Recording rec;
  std::unique_ptr<Debugger> dbg;
};

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
  t.dbg = std::make_unique<Debugger>(
      rec,
      [&before](const U256& a, const U256& slot) {
        auto it = before.find({a, slot});
        return it == before.end() ? U256::zero() : it->second;
      },
      book);
  return kExitOk;
}

}  // namespace

namespace {

// Records the call, test or transaction `args` name (the command's options)
// into `t`, ready to debug. kExitOk, or the exit code after saying why.
// Runs `f` with what it writes to stderr also kept in `said` (then written
// to stderr as before): for the Debug Adapter Protocol, whose client shows
// a response's message but not the adapter's stderr.
int capturing_stderr(const std::function<int()>& f, std::string& said) {
  std::fflush(stderr);
  FILE* kept = std::tmpfile();
  const int saved = kept ? ::dup(2) : -1;
  if (saved < 0 || ::dup2(::fileno(kept), 2) < 0) {
    if (saved >= 0) ::close(saved);
    if (kept) std::fclose(kept);
    return f();
  }
  const int rc = f();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::rewind(kept);
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, kept)) > 0;) said.append(buf, n);
  std::fclose(kept);
  std::fputs(said.c_str(), stderr);
  return rc;
}

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
  t.dbg = std::make_unique<Debugger>(
      rec,
      [before](const U256& account, const U256& slot) {
        return before->storage(Address::from_u256(account), slot);
      },
      *book);
  return kExitOk;
}

// ---- the Debug Adapter Protocol ------------------------------------------------------
// `writ debug --dap`: the same debugger behind the Debug Adapter Protocol on
// standard input and output (Content-Length framed JSON), for VS Code and
// other clients. `launch` takes the command's options in `args` (["--test",
// "test_x"], [FILE, "--call", NAME, ...], ["--tx", HASH, "--data", DIR]); the
// call is one thread whose frames are the call stack across contracts, with
// the scopes Locals and Storage. stepBack and reverseContinue are supported.
// What the debugger would print goes to standard error.
class DapServer {
 public:
  DapServer(std::istream& in, std::ostream& out) : in_(in), out_(out) {}

  int run() {
    for (;;) {
      std::string body, why;
      const int got = read_message(body, why);
      if (got == 0) return kExitOk;  // the client closed the stream
      if (got < 0) {
        // The framing is lost: nothing after it can be trusted.
        std::fprintf(stderr, "writ debug --dap: %s\n", why.c_str());
        event("output", {{"category", "stderr"}, {"output", why + "\n"}});
        return kExitInput;
      }
      const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains("command") ||
          !j["command"].is_string() || j.value("type", "") != "request") {
        respond(j.is_object() ? j.value("seq", 0) : 0, "", false,
                "malformed message: not a JSON request with a command");
        continue;
      }
      if (!handle(j)) return kExitOk;
    }
  }

 private:
  static constexpr size_t kMaxMessage = 1 << 20;

  // 1: a message; 0: end of input; -1: a malformed frame (`why`).
  int read_message(std::string& body, std::string& why) {
    size_t length = 0;
    bool have_length = false;
    std::string line;
    for (;;) {
      if (!std::getline(in_, line)) {
        if (!have_length && line.empty()) return 0;
        why = "the input ended inside a message header";
        return -1;
      }
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) break;
      const std::string key = "Content-Length:";
      if (line.rfind(key, 0) == 0) {
        const std::string n = line.substr(key.size());
        char* end = nullptr;
        const unsigned long long v = std::strtoull(n.c_str(), &end, 10);
        if (end == n.c_str() || v > kMaxMessage) {
          why =
              "bad Content-Length '" + n + "' (at most " + std::to_string(kMaxMessage) + " bytes)";
          return -1;
        }
        length = static_cast<size_t>(v);
        have_length = true;
      }
    }
    if (!have_length) {
      why = "a message header without Content-Length";
      return -1;
    }
    body.resize(length);
    in_.read(body.data(), static_cast<std::streamsize>(length));
    if (static_cast<size_t>(in_.gcount()) != length) {
      why = "the input ended inside a message body";
      return -1;
    }
    return 1;
  }

  void send(nlohmann::json j) {
    j["seq"] = ++seq_;
    const std::string text = j.dump();
    out_ << "Content-Length: " << text.size() << "\r\n\r\n" << text;
    out_.flush();
  }
  void respond(int64_t request_seq, const std::string& command, bool ok,
               const std::string& message = "", nlohmann::json body = nlohmann::json::object()) {
    nlohmann::json r = {{"type", "response"},
                        {"request_seq", request_seq},
                        {"command", command},
                        {"success", ok},
                        {"body", std::move(body)}};
    if (!ok) r["message"] = message;
    send(std::move(r));
  }
  void event(const std::string& name, nlohmann::json body = nlohmann::json::object()) {
    send({{"type", "event"}, {"event", name}, {"body", std::move(body)}});
  }
  void stopped(const std::string& reason) {
    nlohmann::json b = {{"reason", reason}, {"threadId", 1}, {"allThreadsStopped", true}};
    const auto& last = target_->dbg->last();
    if (last.end) b["description"] = "end of the trace";
    if (last.start) b["description"] = "start of the trace";
    event("stopped", std::move(b));
  }

  void apply_breakpoints() {
    if (!target_ || !target_->dbg) return;
    for (const auto& [file, lines] : line_breaks_) target_->dbg->set_line_breakpoints(file, lines);
    target_->dbg->set_function_breakpoints(function_breaks_);
  }

  // False after disconnect.
  bool handle(const nlohmann::json& j) {
    const std::string cmd = j["command"].get<std::string>();
    const int64_t seq = j.value("seq", int64_t{0});
    const nlohmann::json args = j.contains("arguments") && j["arguments"].is_object()
                                    ? j["arguments"]
                                    : nlohmann::json::object();
    const bool ready = target_ && target_->dbg;
    if (cmd == "initialize") {
      respond(seq, cmd, true, "",
              {{"supportsConfigurationDoneRequest", true},
               {"supportsStepBack", true},
               {"supportsConditionalBreakpoints", true},
               {"supportsFunctionBreakpoints", true},
               {"supportsEvaluateForHovers", true}});
      event("initialized");
    } else if (cmd == "launch") {
      std::vector<std::string> a;
      if (args.contains("args") && args["args"].is_array())
        for (const auto& x : args["args"])
          if (x.is_string()) a.push_back(x.get<std::string>());
      if (args.contains("cwd") && args["cwd"].is_string()) {
        std::error_code ec;
        std::filesystem::current_path(args["cwd"].get<std::string>(), ec);
        if (ec) {
          respond(seq, cmd, false, "cwd: " + ec.message());
          return true;
        }
      }
      stop_on_entry_ = args.value("stopOnEntry", true);
      target_ = std::make_unique<Target>();
      target_->msgs = stderr;
      std::string said;
      const int rc = capturing_stderr([&] { return record_target(a, *target_); }, said);
      if (rc != kExitOk || !target_->dbg) {
        target_.reset();
        // The client shows the response, not the adapter's stderr: the reason goes in it.
        while (!said.empty() && (said.back() == '\n' || said.back() == ' ')) said.pop_back();
        if (said.size() > 4000) said = said.substr(0, 4000) + "...";
        respond(seq, cmd, false,
                said.empty() ? "launch failed (exit " + std::to_string(rc) + ")"
                             : "launch failed: " + said);
        return true;
      }
      target_->dbg->set_output(stderr);
      if (!target_->dbg->begin()) {
        respond(seq, cmd, false, "no instruction ran");
        target_.reset();
        return true;
      }
      apply_breakpoints();
      respond(seq, cmd, true);
    } else if (cmd == "setBreakpoints") {
      std::string path;
      if (args.contains("source") && args["source"].is_object())
        path = args["source"].value("path", std::string());
      std::vector<std::pair<uint32_t, std::string>> lines;
      nlohmann::json out = nlohmann::json::array();
      if (args.contains("breakpoints") && args["breakpoints"].is_array())
        for (const auto& b : args["breakpoints"]) {
          if (!b.is_object() || !b.contains("line") || !b["line"].is_number_unsigned()) continue;
          lines.push_back({b["line"].get<uint32_t>(), b.value("condition", std::string())});
          out.push_back({{"verified", true}, {"line", b["line"]}});
        }
      if (path.empty()) {
        respond(seq, cmd, false, "setBreakpoints needs source.path");
        return true;
      }
      line_breaks_[path] = lines;
      apply_breakpoints();
      respond(seq, cmd, true, "", {{"breakpoints", out}});
    } else if (cmd == "setFunctionBreakpoints") {
      function_breaks_.clear();
      nlohmann::json out = nlohmann::json::array();
      if (args.contains("breakpoints") && args["breakpoints"].is_array())
        for (const auto& b : args["breakpoints"])
          if (b.is_object() && b.contains("name") && b["name"].is_string()) {
            function_breaks_.push_back(b["name"].get<std::string>());
            out.push_back({{"verified", true}});
          }
      apply_breakpoints();
      respond(seq, cmd, true, "", {{"breakpoints", out}});
    } else if (cmd == "configurationDone") {
      respond(seq, cmd, true);
      if (ready) {
        if (stop_on_entry_) {
          stopped("entry");
        } else {
          target_->dbg->command("continue");
          stopped(target_->dbg->last().breakpoint ? "breakpoint" : "step");
        }
      }
    } else if (cmd == "threads") {
      respond(seq, cmd, true, "",
              {{"threads", nlohmann::json::array({{{"id", 1}, {"name", "call"}}})}});
    } else if (!ready && cmd != "disconnect" && cmd != "terminate") {
      respond(seq, cmd, false, "no program: launch first");
    } else if (cmd == "stackTrace") {
      nlohmann::json frames = nlohmann::json::array();
      const auto views = target_->dbg->frame_views();
      for (size_t k = 0; k < views.size(); ++k) {
        nlohmann::json f = {
            {"id", k}, {"name", views[k].name}, {"line", views[k].line}, {"column", 1}};
        if (!views[k].file.empty())
          f["source"] = {{"name", std::filesystem::path(views[k].file).filename().string()},
                         {"path", views[k].file}};
        frames.push_back(std::move(f));
      }
      respond(seq, cmd, true, "", {{"stackFrames", frames}, {"totalFrames", views.size()}});
    } else if (cmd == "scopes") {
      respond(seq, cmd, true, "",
              {{"scopes",
                nlohmann::json::array(
                    {{{"name", "Locals"}, {"variablesReference", 1}, {"expensive", false}},
                     {{"name", "Storage"}, {"variablesReference", 2}, {"expensive", false}}})}});
    } else if (cmd == "variables") {
      const int64_t ref = args.value("variablesReference", int64_t{0});
      nlohmann::json vars = nlohmann::json::array();
      if (ref == 1)
        for (const auto& v : target_->dbg->local_vars())
          vars.push_back(
              {{"name", v.name}, {"value", v.value}, {"type", v.type}, {"variablesReference", 0}});
      else if (ref == 2)
        for (const auto& v : target_->dbg->storage_vars())
          vars.push_back({{"name", v.path},
                          {"value", v.container ? v.type : v.value},
                          {"type", v.type},
                          {"variablesReference", 0}});
      else {
        respond(seq, cmd, false, "no variables with reference " + std::to_string(ref));
        return true;
      }
      respond(seq, cmd, true, "", {{"variables", vars}});
    } else if (cmd == "evaluate") {
      const std::string e = args.value("expression", std::string());
      for (const auto& v : target_->dbg->local_vars())
        if (v.name == e) {
          respond(seq, cmd, true, "",
                  {{"result", v.value}, {"type", v.type}, {"variablesReference", 0}});
          return true;
        }
      respond(seq, cmd, false, "no local named '" + e + "' here");
    } else if (cmd == "next" || cmd == "stepIn" || cmd == "stepOut" || cmd == "stepBack" ||
               cmd == "continue" || cmd == "reverseContinue") {
      static const std::map<std::string, std::string> kRepl = {
          {"next", "next"},     {"stepIn", "step"},       {"stepOut", "out"},
          {"stepBack", "back"}, {"continue", "continue"}, {"reverseContinue", "rc"}};
      respond(seq, cmd, true, "",
              cmd == "continue" ? nlohmann::json{{"allThreadsContinued", true}}
                                : nlohmann::json::object());
      target_->dbg->command(kRepl.at(cmd));
      stopped(target_->dbg->last().breakpoint ? "breakpoint" : "step");
    } else if (cmd == "disconnect" || cmd == "terminate") {
      respond(seq, cmd, true);
      if (cmd == "terminate") event("terminated");
      return cmd != "disconnect";
    } else {
      respond(seq, cmd, false, "unsupported request '" + cmd + "'");
    }
    return true;
  }

  std::istream& in_;
  std::ostream& out_;
  int64_t seq_ = 0;
  bool stop_on_entry_ = true;
  std::unique_ptr<Target> target_;
  std::map<std::string, std::vector<std::pair<uint32_t, std::string>>> line_breaks_;
  std::vector<std::string> function_breaks_;
};

int run_dap(std::istream& in, std::ostream& out) {
  DapServer server(in, out);
  return server.run();
}

}  // namespace

int cmd_debug(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      std::fputs(kDebugHelp, stdout);
      return kExitOk;
    }
    if (a == "--dap") return run_dap(std::cin, std::cout);
  }
  Target t;
  if (int rc = record_target(args, t); rc != kExitOk) return rc;
  return t.dbg->run(std::cin);
}

}  // namespace writ::cli
