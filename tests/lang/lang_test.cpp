// Language tests: every tests/lang/*.writ file is one test case, driven by
// comment annotations in the file itself.
//
//   // error: FRAGMENT          a compile error is expected on this line, whose
//                               message contains FRAGMENT (one per expected error;
//                               every reported error must be expected)
//   // warning: FRAGMENT        the same for a warning (in any file: every
//                               warning must be expected, and vice versa)
//   // init: A, B               constructor arguments (before the first call)
//   // caller: 0xB0B            caller address for the calls that follow
//   // time: 1700000000         block timestamp for the calls that follow
//   // block: 2                  block number for the calls that follow (from 1)
//   // call: f(A, B) -> R1, R2                  results, formatted by their Writ types
//   // call: f(A) -> R emits Ev(x: 1); Ev2()    ... and the events it logs, in order
//   // call: f(A) reverts Err(have: 1, want: 2) the decoded custom error
//   // call: f(A) traps Overflow                a trap status
//   // call value=5: f() -> 5                   send value with the call
//   // call to=OracleHub from=0xB0B: f() -> 5   ... to another contract, from another caller
//   // system: OracleHub 0x60                   deploy a system contract (as the build
//                               embedded it, at its fixed address) with its init arguments
//   // stored: 3                non-zero storage slots of every contract, now
//
// Contract k of the file is deployed at address 0xC0D0 + k (helpers' init runs
// without arguments); calls go to the last contract. The caller starts as
// 0xCA11E2 with a large balance, the block timestamp as 1700000000.
// A file with `// error:` annotations must fail to compile with exactly those
// errors; any other file must compile and pass every call.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "writ/compiler/abi_format.hpp"
#include "writ/compiler/compiler.hpp"
#include "writ/contracts/system.hpp"
#include "writ/vm/interpreter.hpp"
#include "writ/vm/memory_host.hpp"

namespace writ::compiler {
namespace {

namespace fs = std::filesystem;
using namespace writ::vm;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\t')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

// Splits on commas outside quotes, parentheses and brackets.
std::vector<std::string> split_top(const std::string& s, char sep = ',') {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  bool quote = false;
  for (char c : s) {
    if (c == '"') quote = !quote;
    if (!quote && (c == '(' || c == '[')) ++depth;
    if (!quote && (c == ')' || c == ']')) --depth;
    if (c == sep && depth == 0 && !quote) {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!trim(cur).empty()) out.push_back(trim(cur));
  return out;
}

struct Annotation {
  int line;
  std::string kind;  // error, init, caller, time, call
  std::string text;
  std::string option;  // call: "value=5"
};

std::vector<Annotation> annotations(const std::string& src) {
  std::vector<Annotation> out;
  std::istringstream in(src);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    size_t c = line.find("// ");
    while (c != std::string::npos) {
      std::string rest = line.substr(c + 3);
      size_t colon = rest.find(':');
      if (colon != std::string::npos) {
        std::string head = rest.substr(0, colon);
        std::string kind = head, option;
        if (size_t sp = head.find(' '); sp != std::string::npos) {
          kind = head.substr(0, sp);
          option = trim(head.substr(sp + 1));
        }
        if (kind == "error" || kind == "warning" || kind == "init" || kind == "caller" ||
            kind == "time" || kind == "block" || kind == "call" || kind == "stored" ||
            kind == "system") {
          out.push_back({n, kind, trim(rest.substr(colon + 1)), option});
          break;
        }
      }
      c = line.find("// ", c + 1);
    }
  }
  return out;
}

std::vector<std::string> lang_files() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(std::string(WRIT_SOURCE_DIR) + "/tests/lang"))
    if (e.path().extension() == ".writ") out.push_back(e.path().stem().string());
  for (const auto& e : fs::directory_iterator(std::string(WRIT_SOURCE_DIR) + "/tests/contracts"))
    if (e.path().extension() == ".writ") out.push_back("contracts/" + e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Checks the diagnostics of `kind` ("error", "warning") reported for `path`
// against the file's annotations of that kind: each reported one must be
// expected on its line (its message containing the annotation's text), and
// each expected one reported. Returns how many were reported.
size_t expect_diagnostics(const std::string& kind, const std::vector<Annotation>& notes,
                          const std::string& diagnostics, const std::string& path) {
  std::vector<const Annotation*> want;
  for (const auto& a : notes)
    if (a.kind == kind) want.push_back(&a);
  std::vector<bool> matched(want.size(), false);
  std::istringstream diag(diagnostics);
  std::string line;
  const std::string file_prefix = path + ":";
  const std::string marker = ": " + kind + ": ";
  size_t reported = 0;
  while (std::getline(diag, line)) {
    if (line.rfind(file_prefix, 0) != 0) continue;
    const size_t p = line.find(marker);
    if (p == std::string::npos) continue;
    ++reported;
    const int ln = std::stoi(line.substr(file_prefix.size()));
    const std::string msg = line.substr(p + marker.size());
    bool ok = false;
    for (size_t i = 0; i < want.size(); ++i) {
      if (!matched[i] && want[i]->line == ln && msg.find(want[i]->text) != std::string::npos) {
        matched[i] = ok = true;
        break;
      }
    }
    EXPECT_TRUE(ok) << "unexpected " << kind << " at line " << ln << ": " << msg;
  }
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_TRUE(matched[i]) << "missing " << kind << " at line " << want[i]->line << ": "
                            << want[i]->text << "\n"
                            << diagnostics;
  return reported;
}

class LangTest : public ::testing::TestWithParam<std::string> {};

TEST_P(LangTest, Expectations) {
  // "name" is tests/lang/name.writ, "contracts/name" tests/contracts/name.writ.
  const std::string& param = GetParam();
  std::string path = std::string(WRIT_SOURCE_DIR) + "/tests/" +
                     (param.rfind("contracts/", 0) == 0 ? param : "lang/" + param) + ".writ";
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string src = ss.str();
  auto notes = annotations(src);
  CompileOptions opts;
  opts.stdlib_dir = std::string(WRIT_SOURCE_DIR) + "/stdlib";
  CompileOutput out = compile_file(path, opts);

  // Warnings, in every file: each reported one expected on its line, and
  // each expected one reported.
  expect_diagnostics("warning", notes, out.diagnostics, path);

  bool expects_errors = false;
  for (const auto& a : notes) expects_errors |= a.kind == "error";
  if (expects_errors) {
    ASSERT_FALSE(out.ok) << "expected compile errors, but it compiled";
    // Every reported error must be expected on its line, and vice versa.
    const size_t reported = expect_diagnostics("error", notes, out.diagnostics, path);
    EXPECT_EQ(reported, out.error_count) << "errors outside the file:\n" << out.diagnostics;
    return;
  }
  ASSERT_TRUE(out.ok) << out.diagnostics;

  MemoryHost host;
  host.block_context().number = 1;
  host.block_context().timestamp = 1'700'000'000;
  host.block_context().chain_id = 1;
  U256 caller = U256::from_u64(0xCA11E2);
  host.set_balance(caller, *parse_u256("1000000000000000000000000"));

  // Every contract a call can reach: the system contracts the file names
  // (`// system:`), then the file's own. Calls go to the last one unless
  // `to=NAME` says otherwise.
  struct Target {
    std::string name;
    U256 address;
    const ContractOutput* abi;
  };
  std::vector<Target> targets;
  std::vector<CompileOutput> system_outputs;
  system_outputs.reserve(notes.size());
  auto deploy_init = [&](const ContractOutput& co, const U256& at,
                         const std::vector<std::string>& args, int line) {
    for (const auto& fn : co.functions) {
      if (fn.name != "$init") continue;
      std::vector<Value> vals;
      ASSERT_EQ(args.size(), fn.inputs.size())
          << "line " << line << ": init arguments of " << co.name;
      for (size_t i = 0; i < args.size(); ++i) {
        std::string err;
        ASSERT_TRUE(parse_arg(fn.inputs[i], args[i], vals, err)) << "line " << line << ": " << err;
      }
      const std::vector<uint8_t> input = call_input(fn.selector, vals);
      Message msg;  // (its input is a view of `input`)
      msg.caller = caller;
      msg.self = at;
      msg.is_deploy = true;
      msg.input = input;
      msg.gas = 50'000'000;
      ExecResult r = host.call(msg);
      ASSERT_EQ(r.status, Status::Ok)
          << "line " << line << ": init of " << co.name << " failed: " << status_name(r.status)
          << " " << decode_revert(co, r.output);
    }
  };
  for (const Annotation& a : notes) {
    if (a.kind != "system") continue;
    // "Name ARG, ARG": the embedded module at its fixed address, initialized.
    const std::string name = a.text.substr(0, a.text.find(' '));
    const std::string args = a.text.size() > name.size() ? trim(a.text.substr(name.size())) : "";
    const contracts::SystemContract* sc = contracts::find_system_contract(name);
    ASSERT_NE(sc, nullptr) << "line " << a.line << ": no system contract " << name;
    system_outputs.push_back(
        compile_file(std::string(WRIT_SOURCE_DIR) + "/" + std::string(sc->source), opts));
    ASSERT_TRUE(system_outputs.back().ok) << system_outputs.back().diagnostics;
    const ContractOutput* co = nullptr;
    for (const auto& x : system_outputs.back().contracts)
      if (x.name == name) co = &x;
    ASSERT_NE(co, nullptr);
    // What the build embedded is what its source compiles to.
    ASSERT_EQ(co->bytecode, std::vector<uint8_t>(sc->module.begin(), sc->module.end()))
        << name << ": the embedded module is out of date";
    const U256 at = sc->address.to_u256();
    ASSERT_TRUE(host.deploy(at, co->bytecode).ok());
    if (at == U256::from_u64(contracts::kRiskEngineAddress)) host.set_risk_engine(at);
    deploy_init(*co, at, split_top(args), a.line);
    targets.push_back({name, at, co});
  }
  // Contract k of the file is deployed at 0xC0D0 + k; helpers' init runs
  // without arguments, the last one's with `// init:`.
  for (size_t k = 0; k < out.contracts.size(); ++k) {
    const U256 at = U256::from_u64(0xC0D0 + k);
    ASSERT_TRUE(host.deploy(at, out.contracts[k].bytecode).ok());
    targets.push_back({out.contracts[k].name, at, &out.contracts[k]});
    if (k + 1 < out.contracts.size()) deploy_init(out.contracts[k], at, {}, 0);
  }
  ASSERT_FALSE(targets.empty()) << "no contract to run";
  const bool last_is_own = !out.contracts.empty();
  const ContractOutput& c = *targets.back().abi;
  auto target_of = [&](const std::string& name) -> const Target* {
    for (const Target& t : targets)
      if (t.name == name) return &t;
    return nullptr;
  };
  auto abi_at = [&](const U256& at) -> const ContractOutput& {
    for (const Target& t : targets)
      if (t.address == at) return *t.abi;
    return c;
  };

  auto run = [&](const Target& t, const AbiEntry& fn, const std::vector<std::string>& args,
                 const U256& value, const U256& from, int line, bool deploy = false) {
    std::vector<Value> vals;
    EXPECT_EQ(args.size(), fn.inputs.size())
        << "line " << line << ": argument count for " << fn.name;
    for (size_t i = 0; i < args.size() && i < fn.inputs.size(); ++i) {
      std::string err;
      EXPECT_TRUE(parse_arg(fn.inputs[i], args[i], vals, err)) << "line " << line << ": " << err;
    }
    auto input = call_input(fn.selector, vals);
    Message msg;
    msg.caller = from;
    msg.self = t.address;
    msg.value = value;
    msg.input = input;
    msg.gas = 50'000'000;
    msg.is_deploy = deploy;
    return host.call(msg);
  };
  auto find_in = [](const ContractOutput& co, const std::string& n) -> const AbiEntry* {
    for (const auto& x : co.functions)
      if (x.name == n) return &x;
    return nullptr;
  };

  bool inited = !last_is_own;
  auto ensure_init = [&](const std::vector<std::string>& args, int line) {
    if (inited) return;
    inited = true;
    if (const AbiEntry* init = find_in(c, "$init")) {
      ExecResult r = run(targets.back(), *init, args, U256::zero(), caller, line, true);
      ASSERT_EQ(r.status, Status::Ok) << "init failed: " << status_name(r.status) << " "
                                      << decode_revert(c, r.output) << " " << r.detail;
    }
  };

  for (const Annotation& a : notes) {
    if (a.kind == "init") {
      ensure_init(split_top(a.text), a.line);
    } else if (a.kind == "caller") {
      caller = *parse_u256(a.text);
    } else if (a.kind == "time") {
      host.block_context().timestamp = parse_u256(a.text)->low64();
    } else if (a.kind == "block") {
      host.block_context().number = parse_u256(a.text)->low64();
    } else if (a.kind == "stored") {
      ensure_init({}, a.line);
      EXPECT_EQ(std::to_string(host.storage_size()), a.text)
          << "line " << a.line << ": non-zero storage slots";
    } else if (a.kind == "call") {
      ensure_init({}, a.line);
      // NAME(ARGS) then "-> R", "reverts E", "traps S", and "emits E; E".
      std::string t = a.text;
      size_t open = t.find('(');
      ASSERT_NE(open, std::string::npos) << "line " << a.line << ": malformed call annotation";
      int depth = 0;
      size_t close = open;
      bool quote = false;
      for (; close < t.size(); ++close) {
        if (t[close] == '"') quote = !quote;
        if (quote) continue;
        if (t[close] == '(') ++depth;
        if (t[close] == ')' && --depth == 0) break;
      }
      std::string name = trim(t.substr(0, open));
      std::vector<std::string> args = split_top(t.substr(open + 1, close - open - 1));
      std::string rest = trim(t.substr(close + 1));
      std::string emits;
      if (size_t e = rest.find("emits "); e != std::string::npos) {
        emits = trim(rest.substr(e + 6));
        rest = trim(rest.substr(0, e));
      }
      // Options: value=V (sent with the call), to=NAME (the contract called),
      // from=A (the caller of this call alone).
      U256 value = U256::zero();
      U256 from = caller;
      const Target* target = &targets.back();
      for (const std::string& opt : split_top(a.option, ' ')) {
        if (opt.rfind("value=", 0) == 0) {
          value = *parse_u256(opt.substr(6));
        } else if (opt.rfind("from=", 0) == 0) {
          from = *parse_u256(opt.substr(5));
        } else if (opt.rfind("to=", 0) == 0) {
          target = target_of(opt.substr(3));
          ASSERT_NE(target, nullptr) << "line " << a.line << ": no contract " << opt.substr(3);
        } else {
          FAIL() << "line " << a.line << ": unknown call option " << opt;
        }
      }
      const ContractOutput& tc = *target->abi;
      const AbiEntry* fn = find_in(tc, name);
      ASSERT_NE(fn, nullptr) << "line " << a.line << ": no public function " << name;
      size_t logs_before = host.logs().size();
      ExecResult r = run(*target, *fn, args, value, from, a.line);
      std::string where = "line " + std::to_string(a.line) + ": " + a.text;
      if (rest.rfind("->", 0) == 0 || rest.empty()) {
        ASSERT_EQ(r.status, Status::Ok) << where << "\n  got " << status_name(r.status) << " "
                                        << decode_revert(tc, r.output) << " " << r.detail;
        auto dec = abi_decode(flat_of(fn->outputs, false, false), r.output);
        ASSERT_TRUE(dec.ok()) << where;
        std::string got;
        size_t i = 0;
        for (size_t k = 0; k < fn->outputs.size(); ++k)
          got += (k ? ", " : "") + format_param(fn->outputs[k], dec.value(), i);
        std::string want = rest.empty() ? "" : trim(rest.substr(2));
        EXPECT_EQ(got, want) << where;
      } else if (rest.rfind("reverts", 0) == 0) {
        EXPECT_EQ(r.status, Status::Revert)
            << where << " (got " << status_name(r.status) << " " << r.detail << ")";
        std::string want = trim(rest.substr(7));
        if (!want.empty()) {
          // A callee's error passes up unchanged: any contract here may know it.
          std::string got = decode_revert(tc, r.output);
          for (const Target& other : targets)
            if (got.rfind("data 0x", 0) == 0) got = decode_revert(*other.abi, r.output);
          EXPECT_EQ(got, want) << where;
        }
      } else if (rest.rfind("traps", 0) == 0) {
        EXPECT_EQ(std::string(status_name(r.status)), trim(rest.substr(5)))
            << where << " " << r.detail;
      } else {
        ADD_FAILURE() << where << ": expected '-> results', 'reverts E' or 'traps S'";
      }
      if (!emits.empty() || r.status == Status::Ok) {
        std::string got;
        for (size_t i = logs_before; i < host.logs().size(); ++i) {
          const auto& l = host.logs()[i];
          got += (got.empty() ? "" : "; ") + decode_log(abi_at(l.account), l.topics, l.data);
        }
        if (!emits.empty() || !got.empty()) {
          EXPECT_EQ(got, emits) << where << " (events)";
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Files, LangTest, ::testing::ValuesIn(lang_files()),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           std::string n = i.param;
                           for (char& ch : n)
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace writ::compiler
