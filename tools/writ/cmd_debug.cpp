// `writ debug`: a source-level debugger over a recorded trace
// (docs/debugger.md). The recording (debug_record.hpp) keeps every step of
// the call, with the storage writes and the hash2 preimages seen on the
// way, so stepping costs nothing in either direction and the storage of
// any contract can be shown at any step by variable name. Here: the
// debugger's commands, and the same behind the Debug Adapter Protocol.
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

#include "commands.hpp"
#include "debug_record.hpp"
#include "decode.hpp"
#include "line_editor.hpp"
#include "storage_view.hpp"
#include "writ/compiler/abi_format.hpp"

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


namespace debug {
namespace {

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

// The debugger on a recorded target.
std::unique_ptr<Debugger> open_debugger(const Target& t) {
  return std::make_unique<Debugger>(t.rec, t.read_before, *t.book);
}

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
    const auto& last = dbg_->last();
    if (last.end) b["description"] = "end of the trace";
    if (last.start) b["description"] = "start of the trace";
    event("stopped", std::move(b));
  }

  void apply_breakpoints() {
    if (!dbg_) return;
    for (const auto& [file, lines] : line_breaks_) dbg_->set_line_breakpoints(file, lines);
    dbg_->set_function_breakpoints(function_breaks_);
  }

  // False after disconnect.
  bool handle(const nlohmann::json& j) {
    const std::string cmd = j["command"].get<std::string>();
    const int64_t seq = j.value("seq", int64_t{0});
    const nlohmann::json args = j.contains("arguments") && j["arguments"].is_object()
                                    ? j["arguments"]
                                    : nlohmann::json::object();
    const bool ready = dbg_ != nullptr;
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
      dbg_.reset();  // it reads the target it was opened on
      target_ = std::make_unique<Target>();
      target_->msgs = stderr;
      std::string said;
      const int rc = capturing_stderr([&] { return record_target(a, *target_); }, said);
      if (rc != kExitOk || target_->book == nullptr) {
        target_.reset();
        // The client shows the response, not the adapter's stderr: the reason goes in it.
        while (!said.empty() && (said.back() == '\n' || said.back() == ' ')) said.pop_back();
        if (said.size() > 4000) said = said.substr(0, 4000) + "...";
        respond(seq, cmd, false,
                said.empty() ? "launch failed (exit " + std::to_string(rc) + ")"
                             : "launch failed: " + said);
        return true;
      }
      dbg_ = open_debugger(*target_);
      dbg_->set_output(stderr);
      if (!dbg_->begin()) {
        respond(seq, cmd, false, "no instruction ran");
        dbg_.reset();
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
          dbg_->command("continue");
          stopped(dbg_->last().breakpoint ? "breakpoint" : "step");
        }
      }
    } else if (cmd == "threads") {
      respond(seq, cmd, true, "",
              {{"threads", nlohmann::json::array({{{"id", 1}, {"name", "call"}}})}});
    } else if (!ready && cmd != "disconnect" && cmd != "terminate") {
      respond(seq, cmd, false, "no program: launch first");
    } else if (cmd == "stackTrace") {
      nlohmann::json frames = nlohmann::json::array();
      const auto views = dbg_->frame_views();
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
        for (const auto& v : dbg_->local_vars())
          vars.push_back(
              {{"name", v.name}, {"value", v.value}, {"type", v.type}, {"variablesReference", 0}});
      else if (ref == 2)
        for (const auto& v : dbg_->storage_vars())
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
      for (const auto& v : dbg_->local_vars())
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
      dbg_->command(kRepl.at(cmd));
      stopped(dbg_->last().breakpoint ? "breakpoint" : "step");
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
  std::unique_ptr<Debugger> dbg_;  // on *target_ (so declared after it)
  std::map<std::string, std::vector<std::pair<uint32_t, std::string>>> line_breaks_;
  std::vector<std::string> function_breaks_;
};

int run_dap(std::istream& in, std::ostream& out) {
  DapServer server(in, out);
  return server.run();
}

}  // namespace
}  // namespace debug

int cmd_debug(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      std::fputs(kDebugHelp, stdout);
      return kExitOk;
    }
    if (a == "--dap") return debug::run_dap(std::cin, std::cout);
  }
  debug::Target t;
  if (int rc = debug::record_target(args, t); rc != kExitOk) return rc;
  if (t.book == nullptr) return kExitInput;  // (record_target sets it when it succeeds)
  return debug::open_debugger(t)->run(std::cin);
}

}  // namespace writ::cli