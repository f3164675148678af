// `writ build` and `writ run`: the language-level verbs.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "args.hpp"
#include "commands.hpp"
#include "decode.hpp"
#include "project.hpp"
#include "writ/compiler/abi_format.hpp"
#include "writ/compiler/compiler.hpp"
#include "writ/runtime/chain.hpp"
#include "writ/vm/abi.hpp"
#include "writ/vm/interpreter.hpp"
#include "writ/vm/memory_host.hpp"

namespace writ::cli {

using namespace writ::vm;
using compiler::AbiEntry;
using compiler::AbiParam;
using compiler::CompileOutput;
using compiler::ContractOutput;
using compiler::decode_log;
using compiler::decode_revert;
using compiler::flat_of;
using compiler::format_typed;
using compiler::parse_arg;

const char* kBuildHelp =
    "usage: writ build FILE.writ [-o DIR] [--stdlib DIR]\n"
    "       writ build [--force]      (in a project: every file of src/ into out/)\n"
    "Compiles every contract in FILE and writes, per contract NAME, into DIR\n"
    "(default: the current directory):\n"
    "  NAME.wbc         the verified module\n"
    "  NAME.abi.json    functions with selectors, events, errors, storage layout\n"
    "  NAME.debug.json  pc -> source spans, function boundaries, local registers\n"
    "Errors print as FILE:LINE:COL: error: message, with the source line and a caret.\n"
    "In a project (writ.json here or above) without FILE, builds every source file\n"
    "into the project's out/ directory, skipping those whose outputs are up to date:\n"
    "the same compiler, the same text of the file and of every file it imports\n"
    "(out/.build-cache.json); --force rebuilds them all.\n";

const char* kRunHelp =
    "usage: writ run FILE.writ --call NAME [--arg V]... [--init-arg V]... [--contract C]\n"
    "                [--gas N] [--value V] [--json] [--stdlib DIR]\n"
    "Compiles FILE and deploys every contract in it into an in-memory host, the k-th\n"
    "at address 0xC0D0 + k (the others' init runs first, when it takes no\n"
    "arguments); runs the init of the contract called (C, or the last one) with the\n"
    "--init-arg values, then calls NAME with the --arg values. Prints the results,\n"
    "gas used, the events of every contract decoded by the ABI, or the trap with its\n"
    "source line and the revert decoded as the contract's error with its fields;\n"
    "when the failure came through nested calls, the chain of calls with each\n"
    "callee's error and source line (--json: \"calls\", innermost first).\n"
    "Values: integers in decimal or 0x-hex (negative for signed types), wad/ray as\n"
    "decimals (1.5), bool as true/false, bytes as 0x-hex, strings as \"text\".\n";

namespace {}  // namespace

bool write_file(const std::filesystem::path& p, const void* data, size_t n, std::string& err) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
  f.close();
  if (!f) {
    err = p.string() + ": cannot write";
    return false;
  }
  return true;
}

bool emit_contract(const ContractOutput& c, const std::filesystem::path& dir, std::string& err) {
  const std::string& abi = c.abi_json;
  if (!write_file(dir / (c.name + ".wbc"), c.bytecode.data(), c.bytecode.size(), err) ||
      !write_file(dir / (c.name + ".abi.json"), abi.data(), abi.size(), err) ||
      !write_file(dir / (c.name + ".debug.json"), c.debug_json.data(), c.debug_json.size(), err))
    return false;
  size_t code = 0;
  for (const auto& f : c.module.functions) code += f.code.size();
  std::printf("%s: %zu bytes (%zu functions, %zu bytes of code), %zu exports -> %s\n",
              c.name.c_str(), c.bytecode.size(), c.module.functions.size(), code,
              c.module.exports.size(), (dir / (c.name + ".wbc")).string().c_str());
  for (const AbiEntry& f : c.functions) {
    char sel[16];
    std::snprintf(sel, sizeof sel, "0x%08x", f.selector);
    std::string sig = f.name + "(";
    for (size_t k = 0; k < f.inputs.size(); ++k)
      sig += (k ? ", " : "") + f.inputs[k].name + ": " + f.inputs[k].type;
    sig += ")";
    if (!f.outputs.empty()) {
      sig += " -> ";
      for (size_t k = 0; k < f.outputs.size(); ++k) sig += (k ? ", " : "") + f.outputs[k].type;
    }
    std::printf("  %s  %s%s%s%s\n", sel, sig.c_str(), f.view ? " view" : "",
                f.payable ? " payable" : "", f.reentrant ? " reentrant" : "");
  }
  return true;
}

int cmd_build(const std::vector<std::string>& args) {
  std::string in, out_dir = ".";
  bool force = false;
  compiler::CompileOptions opts;
  opts.stdlib_dir = default_stdlib_dir();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kBuildHelp, stdout);
      return kExitOk;
    } else if (a == "-o" && i + 1 < args.size()) {
      out_dir = args[++i];
    } else if (a == "--stdlib" && i + 1 < args.size()) {
      opts.stdlib_dir = args[++i];
    } else if (a == "--force") {
      force = true;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "writ build: unknown option %s\n", a.c_str());
      return kExitUsage;
    } else if (in.empty()) {
      in = a;
    } else {
      std::fprintf(stderr, "writ build: more than one input file\n");
      return kExitUsage;
    }
  }
  if (in.empty()) {
    std::string err;
    std::optional<Project> project = find_project(std::filesystem::current_path(), err);
    if (!err.empty()) {
      std::fprintf(stderr, "writ build: %s\n", err.c_str());
      return kExitInput;
    }
    if (!project) {
      std::fputs(kBuildHelp, stderr);
      return kExitUsage;
    }
    return build_project(*project, opts, force);
  }
  CompileOutput out = compiler::compile_file(in, opts);
  std::fputs(out.diagnostics.c_str(), stderr);
  if (!out.ok) {
    std::fprintf(stderr, "writ build: %zu error%s\n", out.error_count,
                 out.error_count == 1 ? "" : "s");
    return kExitInput;
  }
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  for (const ContractOutput& c : out.contracts) {
    std::string err;
    if (!emit_contract(c, out_dir, err)) {
      std::fprintf(stderr, "writ build: %s\n", err.c_str());
      return kExitInput;
    }
  }
  if (out.contracts.empty()) std::printf("%s: no contracts (checked only)\n", in.c_str());
  return kExitOk;
}

int cmd_run(const std::vector<std::string>& args) {
  Args a;
  if (!parse_args("run", args,
                  {"--call", "--arg", "--init-arg", "--contract", "--stdlib", "--gas", "--value"},
                  {"--json"}, a))
    return kExitUsage;
  if (a.help) {
    std::fputs(kRunHelp, stdout);
    return kExitOk;
  }
  if (a.pos.size() > 1) {
    std::fprintf(stderr, "writ run: more than one input file\n");
    return kExitUsage;
  }
  if (a.pos.empty() || !a.one("--call")) {
    std::fputs(kRunHelp, stderr);
    return kExitUsage;
  }
  const std::string& in = a.pos[0];
  const std::string name = *a.one("--call");
  const std::string which = a.one("--contract") ? *a.one("--contract") : "";
  const std::vector<std::string> call_args = a.all("--arg"), init_args = a.all("--init-arg");
  const std::string value_text = a.one("--value") ? *a.one("--value") : "";
  const bool json = a.has("--json");
  uint64_t gas_limit = 10'000'000;
  if (a.one("--gas") && !parse_gas("run", *a.one("--gas"), 0, gas_limit)) return kExitUsage;
  const auto gas = static_cast<int64_t>(gas_limit);
  compiler::CompileOptions opts;
  opts.stdlib_dir = a.one("--stdlib") ? *a.one("--stdlib") : default_stdlib_dir();
  CompileOutput out = compiler::compile_file(in, opts);
  std::fputs(out.diagnostics.c_str(), stderr);
  if (!out.ok) {
    std::fprintf(stderr, "writ run: %zu error%s\n", out.error_count,
                 out.error_count == 1 ? "" : "s");
    return kExitInput;
  }
  if (out.contracts.empty()) {
    std::fprintf(stderr, "writ run: %s declares no contract\n", in.c_str());
    return kExitInput;
  }
  const ContractOutput* c = &out.contracts.back();
  if (!which.empty()) {
    c = nullptr;
    for (const auto& x : out.contracts)
      if (x.name == which) c = &x;
    if (!c) {
      std::fprintf(stderr, "writ run: no contract %s in %s\n", which.c_str(), in.c_str());
      return kExitUsage;
    }
  }
  MemoryHost host;
  host.block_context().number = 1;
  host.block_context().timestamp = 1'700'000'000;
  host.block_context().chain_id = 1;
  const U256 caller = U256::from_u64(0xCA11E2);
  host.block_context().origin = caller;
  // Contract k of the file at 0xC0D0 + k, as in the language tests, so that
  // contracts of one file can call each other by address.
  ContractBook book;
  book.add_compiled(out);
  U256 addr{};
  for (size_t k = 0; k < out.contracts.size(); ++k) {
    const U256 at = U256::from_u64(0xC0D0 + k);
    auto dep = host.deploy(at, out.contracts[k].bytecode);
    if (!dep.ok()) {
      std::fprintf(stderr, "writ run: internal error: %s\n", dep.error().to_string().c_str());
      return kExitInput;
    }
    book.bind(at, &book.entries()[k].contract);
    if (&out.contracts[k] == c) addr = at;
  }
  const ContractOutput* called = book.at(addr);
  U256 value = U256::zero();
  if (!value_text.empty()) {
    auto v = parse_u256(value_text);
    if (!v || value_text[0] == '-') {
      std::fprintf(stderr, "writ run: --value %s is not an amount\n", value_text.c_str());
      return kExitUsage;
    }
    value = *v;
    host.set_balance(caller, value);
  }

  auto find = [&](const std::string& n) -> const AbiEntry* {
    for (const auto& f : c->functions)
      if (f.name == n) return &f;
    return nullptr;
  };
  auto encode = [&](const AbiEntry& f, const std::vector<std::string>& texts,
                    std::vector<uint8_t>& input) {
    if (texts.size() != f.inputs.size()) {
      std::fprintf(stderr, "writ run: %s takes %zu arguments, got %zu\n", f.name.c_str(),
                   f.inputs.size(), texts.size());
      return false;
    }
    std::vector<Value> vals;
    for (size_t i = 0; i < texts.size(); ++i) {
      std::string err;
      if (!parse_arg(f.inputs[i], texts[i], vals, err)) {
        std::fprintf(stderr, "writ run: %s\n", err.c_str());
        return false;
      }
    }
    input = call_input(f.selector, vals);
    return true;
  };
  auto exec = [&](const std::vector<uint8_t>& input, const U256& val, bool deploy = false) {
    Message msg;
    msg.is_deploy = deploy;
    msg.caller = caller;
    msg.self = addr;
    msg.value = val;
    msg.input = input;
    msg.gas = gas;
    return host.call(msg);
  };

  // The other contracts' constructors, when they take no arguments.
  for (size_t k = 0; k < out.contracts.size(); ++k) {
    const ContractOutput& other = out.contracts[k];
    if (&other == c) continue;
    for (const AbiEntry& fn : other.functions) {
      if (!fn.constructor) continue;
      if (!fn.inputs.empty()) {
        std::fprintf(stderr, "writ run: note: the init of %s takes arguments; it did not run\n",
                     other.name.c_str());
        break;
      }
      std::vector<uint8_t> input = call_input(fn.selector, std::vector<Value>{});
      Message msg;
      msg.is_deploy = true;
      msg.caller = caller;
      msg.self = U256::from_u64(0xC0D0 + k);
      msg.input = input;
      msg.gas = gas;
      ExecResult r = host.call(msg);
      if (r.status != Status::Ok) {
        std::fprintf(stderr, "writ run: init of %s failed: %s %s\n", other.name.c_str(),
                     std::string(status_name(r.status)).c_str(),
                     decode_revert(other, r.output).c_str());
        return kExitTrap;
      }
    }
  }
  if (const AbiEntry* init = find("$init")) {
    std::vector<uint8_t> input;
    if (!encode(*init, init_args, input)) return kExitUsage;
    ExecResult r = exec(input, U256::zero(), true);
    if (r.status != Status::Ok) {
      std::fprintf(stderr, "writ run: init of %s failed: %s %s\n", c->name.c_str(),
                   std::string(status_name(r.status)).c_str(), decode_revert(*c, r.output).c_str());
      return kExitTrap;
    }
  } else if (!init_args.empty()) {
    std::fprintf(stderr, "writ run: %s has no init to take --init-arg\n", c->name.c_str());
    return kExitUsage;
  }
  const AbiEntry* f = find(name);
  if (!f || f->constructor) {
    std::string names;
    for (const auto& x : c->functions)
      if (!x.constructor) names += (names.empty() ? "" : ", ") + x.name;
    std::fprintf(stderr, "writ run: contract %s has no public function '%s' (public: %s)\n",
                 c->name.c_str(), name.c_str(), names.empty() ? "none" : names.c_str());
    return kExitUsage;
  }
  std::vector<uint8_t> input;
  if (!encode(*f, call_args, input)) return kExitUsage;
  size_t logs_before = host.logs().size();
  ExecResult r = exec(input, value);
  int64_t used = gas - r.gas_left;

  std::string results;
  std::vector<std::string> result_list;
  if (r.status == Status::Ok) {
    auto dec = abi_decode(flat_of(f->outputs, false, false), r.output);
    if (dec.ok()) {
      size_t i = 0;
      for (const AbiParam& p : f->outputs)
        result_list.push_back(compiler::format_param(p, dec.value(), i));
    }
  }
  // Events of every contract of the file, by the emitter's ABI; the emitter
  // is named when it is not the contract called.
  std::vector<std::string> events;
  for (size_t i = logs_before; i < host.logs().size(); ++i) {
    const auto& l = host.logs()[i];
    const ContractOutput* emitter = book.at(l.account);
    auto ev = book.event(emitter, l.topics, l.data);
    std::string e = ev ? *ev : decode_log(*c, l.topics, l.data);
    if (!(l.account == addr))
      e += " from " + (emitter ? emitter->name + " at " : std::string()) + to_hex_string(l.account);
    events.push_back(e);
  }
  std::string revert = r.status == Status::Revert ? book.revert(called, r.output) : "";
  std::string where;
  SourceSpot spot;
  uint32_t trap_func = r.func;
  if (vm::is_refusal(r.status)) {
    // Refused before the function ran (not payable, bad arguments): at the
    // function called, not at the trap's pc (function 0, pc 0, by default).
    if (const vm::Export* ex = c->module.find_selector(f->selector)) {
      trap_func = ex->func;
      where = c->module.functions[ex->func].name + ", before it ran";
      spot = source_spot(*c, ex->func, 0);
    }
  } else if (r.status != Status::Ok && r.func < c->module.functions.size()) {
    where = c->module.functions[r.func].name + " pc " + std::to_string(r.pc);
    spot = source_spot(*c, r.func, r.pc);
  }
  Frame top;
  top.address = addr;
  top.selector = f->selector;
  top.selector_known = true;
  top.status = r.status;
  top.func = r.func;
  top.pc = r.pc;
  top.detail = r.detail;

  if (json) {
    std::string o = "{\"status\":\"" + std::string(status_name(r.status)) + "\",\"contract\":\"" +
                    json_escape(c->name) + "\",\"function\":\"" + json_escape(name) +
                    "\",\"results\":[";
    for (size_t i = 0; i < result_list.size(); ++i)
      o += (i ? ",\"" : "\"") + json_escape(result_list[i]) + "\"";
    o += "],\"gas_used\":" + std::to_string(used) + ",\"events\":[";
    for (size_t i = 0; i < events.size(); ++i)
      o += (i ? ",\"" : "\"") + json_escape(events[i]) + "\"";
    o += "]";
    if (r.status != Status::Ok)
      o += ",\"trap\":{\"code\":\"" + std::string(status_name(r.status)) + "\",\"function\":\"" +
           json_escape(trap_func < c->module.functions.size() ? c->module.functions[trap_func].name
                                                              : "") +
           "\",\"pc\":" + std::to_string(r.pc) + ",\"source\":\"" + json_escape(spot.where) +
           "\",\"detail\":\"" + json_escape(r.detail) + "\"}";
    if (r.status == Status::Revert)
      o += ",\"revert\":\"" + json_escape(revert) + "\",\"revert_data\":\"" + hex(r.output) + "\"";
    if (!r.calls.empty()) {
      o += ",\"calls\":" + chain_json(book, r.calls, r.output);
      if (r.calls_omitted) o += ",\"calls_omitted\":" + std::to_string(r.calls_omitted);
    }
    o += "}";
    std::puts(o.c_str());
  } else {
    std::printf("status: %s\n", std::string(status_name(r.status)).c_str());
    for (size_t i = 0; i < result_list.size(); ++i)
      std::printf("result %zu (%s): %s\n", i, f->outputs[i].type.c_str(), result_list[i].c_str());
    for (const auto& e : events) std::printf("event: %s\n", e.c_str());
    if (r.status != Status::Ok) {
      std::printf("trap: %s at %s%s%s\n", std::string(status_name(r.status)).c_str(), where.c_str(),
                  r.detail.empty() ? "" : ": ", r.detail.c_str());
      if (!spot.where.empty())
        std::printf("  at %s: %s\n", spot.where.c_str(), spot.line_text.c_str());
      if (!revert.empty()) std::printf("revert: %s\n", revert.c_str());
      if (!r.calls.empty())
        std::fputs(format_chain(book, top, r.calls, r.calls_omitted, r.output).c_str(), stdout);
    }
    std::printf("gas used: %lld\n", static_cast<long long>(used));
  }
  return r.status == Status::Ok ? kExitOk : kExitTrap;
}

}  // namespace writ::cli
