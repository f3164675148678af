// The `writ` command. Every verb prints help with --help; exit codes:
//   0 success
//   1 the call ran and ended in a revert or a trap (exec)
//   2 usage error (unknown verb or option, missing argument)
//   3 bad input (unreadable file, assembler error, malformed or unverifiable module)
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "args.hpp"
#include "commands.hpp"
#include "writ/runtime/chain.hpp"
#include "writ/vm/abi.hpp"
#include "writ/vm/assembler.hpp"
#include "writ/vm/interpreter.hpp"
#include "writ/vm/memory_host.hpp"
#include "writ/vm/opcodes.hpp"
#include "writ/vm/verifier.hpp"

namespace {

using namespace writ::vm;
using namespace writ::cli;

const char* kUsage =
    "usage: writ <command> [options]\n"
    "\n"
    "commands:\n"
    "  demo [--data DIR]            the whole system on an embedded RocksDB chain\n"
    "  init NAME                    a new project: manifest, a contract, its tests\n"
    "  build FILE.writ [-o DIR]     compile contracts: module, ABI and debug info\n"
    "  test [PATH...]               run the tests written in Writ (test_* functions)\n"
    "  debug FILE --call NAME | --test NAME   step through a call, both ways\n"
    "  run FILE.writ --call NAME    compile, deploy in memory and call a function\n"
    "  asm IN.wsm -o OUT.wbc        assemble a text module into bytecode\n"
    "  disasm IN.wbc                print a module as assembler text\n"
    "  exec MODULE --call NAME      run an exported function in an in-memory host\n"
    "  opcodes [--markdown]         print the opcode table\n"
    "  node --data DIR              dev node: JSON-RPC over HTTP on loopback, RocksDB chain\n"
    "  abci --data DIR              a validator's application beside a CometBFT node (ABCI++)\n"
    "  load --rpc HOST:PORT         payments/s and submission-to-commit latency of a node\n"
    "  genesis [-o FILE]            the default genesis (system contracts, dev keys) as JSON\n"
    "  risk gen|train|eval|install  the risk engine's model: synthetic payment streams,\n"
    "                               training, evaluation through the engine, install on chain\n"
    "  keygen [-o KEYFILE]          new Ed25519 key; prints its address\n"
    "  deploy --key K FILE          deploy a contract (.writ or .wbc) to a chain\n"
    "  send --key K --to ADDR       send a payment or a raw call\n"
    "  feed --price FEED=PRICE      sign and submit oracle price reports (--key or --dev-key)\n"
    "  call --to C --source F --call NAME   call a deployed contract (read-only, or --key)\n"
    "  balance ADDR                 an account's balance\n"
    "  receipt TXHASH               a transaction's receipt as JSON\n"
    "  proof ADDR [SLOT]            a state proof, checked locally\n"
    "  logs [--from N] [--address A]  committed logs, filtered by block, address, topics\n"
    "  help [COMMAND]               print help\n"
    "\n"
    "exit codes: 0 ok, 1 the call reverted or trapped, 2 usage error, 3 bad input\n";

const char* kAsmHelp =
    "usage: writ asm IN.wsm -o OUT.wbc\n"
    "Assembles IN (see docs/bytecode.md for the syntax), verifies the result and\n"
    "writes the canonical module encoding to OUT. Errors print as IN:LINE:COL: reason.\n";

const char* kDisasmHelp =
    "usage: writ disasm IN.wbc\n"
    "Prints the module as assembler text that assembles back to the same bytes.\n"
    "A malformed module is reported with the byte offset of the problem.\n";

const char* kExecHelp =
    "usage: writ exec MODULE --call NAME [--arg V]... [--gas N] [--value V] [--json]\n"
    "Deploys MODULE (a .wbc file, or .wsm text which is assembled first) into an\n"
    "in-memory host and calls the exported function NAME with the arguments in\n"
    "order (u64/u256: decimal or 0x-hex; negative for signed; buf: 0x-hex or \"text\").\n"
    "Prints the status, the results, gas used and, on a trap, its code and pc.\n"
    "  --gas N     gas limit (default 10000000)\n"
    "  --value V   value sent with the call (the function must be payable)\n"
    "  --json      print one JSON object instead of text\n";

const char* kOpcodesHelp =
    "usage: writ opcodes [--markdown]\n"
    "Prints the opcode table (number, mnemonic, operands, base gas, meaning).\n";

// Loads MODULE as bytes: .wsm is assembled, anything else is read as bytecode.
bool load_bytes(const std::string& path, std::vector<uint8_t>& bytes, std::string& err) {
  if (!read_file(path, bytes, err)) return false;
  if (ends_with(path, ".wsm")) {
    std::string text(bytes.begin(), bytes.end());
    auto m = assemble(text);
    if (!m.ok()) {
      err = path + ":" + m.error().to_string();
      return false;
    }
    bytes = encode_module(m.value());
  }
  return true;
}

int cmd_asm(const std::vector<std::string>& args) {
  std::string in, out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::fputs(kAsmHelp, stdout);
      return kExitOk;
    } else if (args[i] == "-o" && i + 1 < args.size()) {
      out = args[++i];
    } else if (!args[i].empty() && args[i][0] == '-') {
      std::fprintf(stderr, "writ asm: unknown option %s\n", args[i].c_str());
      return kExitUsage;
    } else if (in.empty()) {
      in = args[i];
    } else {
      std::fprintf(stderr, "writ asm: more than one input file\n");
      return kExitUsage;
    }
  }
  if (in.empty() || out.empty()) {
    std::fputs(kAsmHelp, stderr);
    return kExitUsage;
  }
  std::vector<uint8_t> src;
  std::string err;
  if (!read_file(in, src, err)) {
    std::fprintf(stderr, "writ asm: %s\n", err.c_str());
    return kExitInput;
  }
  AsmLines lines;
  auto m = assemble(std::string(src.begin(), src.end()), &lines);
  if (!m.ok()) {
    std::fprintf(stderr, "%s:%s\n", in.c_str(), m.error().to_string().c_str());
    return kExitInput;
  }
  auto bytes = encode_module(m.value());
  auto v = load_module(bytes);
  if (!v.ok()) {
    // The verifier names a function and a code offset: said at the line that
    // wrote the instruction there.
    std::string where = in;
    if (const AsmLines::Insn* at = lines.at(v.error().function, v.error().offset))
      where += ":" + std::to_string(at->line) + ":" + std::to_string(at->column);
    std::fprintf(stderr, "%s: verification failed: %s\n", where.c_str(), v.error().message.c_str());
    return kExitInput;
  }
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (!f) {
    std::fprintf(stderr, "writ asm: %s: cannot write\n", out.c_str());
    return kExitInput;
  }
  std::printf("%s: %zu bytes, %zu functions, %zu exports, code hash %s\n", out.c_str(),
              bytes.size(), m->functions.size(), m->exports.size(),
              v.value()->hash().hex().c_str());
  return kExitOk;
}

int cmd_disasm(const std::vector<std::string>& args) {
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    std::fputs(kDisasmHelp, stdout);
    return kExitOk;
  }
  if (args.size() != 1 || args[0].empty() || args[0][0] == '-') {
    std::fputs(kDisasmHelp, stderr);
    return kExitUsage;
  }
  std::vector<uint8_t> bytes;
  std::string err;
  if (!read_file(args[0], bytes, err)) {
    std::fprintf(stderr, "writ disasm: %s\n", err.c_str());
    return kExitInput;
  }
  auto m = decode_module(bytes);
  if (!m.ok()) {
    std::fprintf(stderr, "%s: %s\n", args[0].c_str(), m.error().to_string().c_str());
    return kExitInput;
  }
  std::fputs(disassemble(m.value()).c_str(), stdout);
  return kExitOk;
}

int cmd_exec(const std::vector<std::string>& args) {
  Args a;
  if (!parse_args("exec", args, {"--call", "--arg", "--gas", "--value"}, {"--json"}, a))
    return kExitUsage;
  if (a.help) {
    std::fputs(kExecHelp, stdout);
    return kExitOk;
  }
  if (a.pos.size() > 1) {
    std::fprintf(stderr, "writ exec: more than one module\n");
    return kExitUsage;
  }
  if (a.pos.empty() || !a.one("--call")) {
    std::fputs(kExecHelp, stderr);
    return kExitUsage;
  }
  const std::string& path = a.pos[0];
  const std::string name = *a.one("--call");
  const std::vector<std::string> argv = a.all("--arg");
  const std::string value_text = a.one("--value") ? *a.one("--value") : "";
  const bool json = a.has("--json");
  uint64_t gas_limit = 10'000'000;
  if (a.one("--gas") && !parse_gas("exec", *a.one("--gas"), 0, gas_limit)) return kExitUsage;
  const auto gas = static_cast<int64_t>(gas_limit);
  std::vector<uint8_t> bytes;
  std::string err;
  if (!load_bytes(path, bytes, err)) {
    std::fprintf(stderr, "writ exec: %s\n", err.c_str());
    return kExitInput;
  }
  MemoryHost host;
  const U256 contract = U256::from_u64(0xC0DE);
  const U256 caller = U256::from_u64(0xCA11E2);
  auto vm = host.deploy(contract, bytes);
  if (!vm.ok()) {
    std::fprintf(stderr, "writ exec: %s: %s\n", path.c_str(), vm.error().to_string().c_str());
    return kExitInput;
  }
  const Module& mod = vm.value()->module();
  const Export* ex = mod.find_export(name);
  if (!ex) {
    std::string names;
    for (const Export& e : mod.exports) names += (names.empty() ? "" : ", ") + e.name;
    std::fprintf(stderr, "writ exec: %s exports no function '%s' (exports: %s)\n", path.c_str(),
                 name.c_str(), names.empty() ? "none" : names.c_str());
    return kExitUsage;
  }
  const Function& fn = mod.functions[ex->func];
  if (argv.size() != fn.params.size()) {
    std::fprintf(stderr, "writ exec: %s takes %zu arguments (%s), got %zu\n", name.c_str(),
                 fn.params.size(), signature_of(name, fn.params).c_str(), argv.size());
    return kExitUsage;
  }
  std::vector<Value> values;
  for (size_t i = 0; i < argv.size(); ++i) {
    auto v = parse_value(fn.params[i], argv[i]);
    if (!v.ok()) {
      std::fprintf(stderr, "writ exec: argument %zu: %s\n", i + 1, v.error().message.c_str());
      return kExitUsage;
    }
    values.push_back(v.value());
  }
  U256 value = U256::zero();
  if (!value_text.empty()) {
    auto v = parse_u256(value_text);
    if (!v || value_text[0] == '-') {
      std::fprintf(stderr, "writ exec: --value %s is not an amount\n", value_text.c_str());
      return kExitUsage;
    }
    value = *v;
    host.set_balance(caller, *v);
  }
  std::vector<uint8_t> input = call_input(ex->selector, values);
  Message msg;
  msg.caller = caller;
  msg.self = contract;
  msg.value = value;
  msg.input = input;
  msg.gas = gas;
  ExecResult r = host.call(msg);
  int64_t used = gas - r.gas_left;

  std::vector<Value> results;
  if (r.status == Status::Ok) {
    auto dec = abi_decode(fn.results, r.output);
    if (dec.ok()) results = dec.value();
  }
  std::string revert = r.status == Status::Revert ? describe_revert(mod, r.output) : "";
  std::string where;
  if (r.status != Status::Ok && r.func < mod.functions.size())
    where = mod.functions[r.func].name + " pc " + std::to_string(r.pc);

  if (json) {
    std::string o = "{\"status\":\"" + std::string(status_name(r.status)) + "\",\"function\":\"" +
                    json_escape(name) + "\",\"results\":[";
    for (size_t i = 0; i < results.size(); ++i)
      o += (i ? ",\"" : "\"") + format_value(results[i]) + "\"";
    o += "],\"gas_limit\":" + std::to_string(gas) + ",\"gas_used\":" + std::to_string(used);
    if (r.status != Status::Ok) {
      o += ",\"trap\":{\"code\":\"" + std::string(status_name(r.status)) +
           "\",\"code_number\":" + std::to_string(static_cast<int>(r.status)) + ",\"function\":\"" +
           json_escape(r.func < mod.functions.size() ? mod.functions[r.func].name : "") +
           "\",\"pc\":" + std::to_string(r.pc) + ",\"detail\":\"" + json_escape(r.detail) + "\"}";
    }
    if (r.status == Status::Revert)
      o += ",\"revert_data\":\"" + hex(r.output) + "\",\"revert\":\"" + json_escape(revert) + "\"";
    o += ",\"logs\":[";
    for (size_t i = 0; i < host.logs().size(); ++i) {
      const auto& l = host.logs()[i];
      o += i ? ",{" : "{";
      o += "\"topics\":[";
      for (size_t t = 0; t < l.topics.size(); ++t)
        o += (t ? ",\"" : "\"") + to_hex_string(l.topics[t]) + "\"";
      o += "],\"data\":\"" + hex(l.data) + "\"}";
    }
    o += "]}";
    std::puts(o.c_str());
  } else {
    std::printf("status: %s\n", std::string(status_name(r.status)).c_str());
    if (r.status == Status::Ok) {
      for (size_t i = 0; i < results.size(); ++i)
        std::printf("result %zu (%s): %s\n", i, std::string(type_name(fn.results[i])).c_str(),
                    format_value(results[i]).c_str());
    } else {
      std::printf("trap: %s (code %d) at %s%s%s\n", std::string(status_name(r.status)).c_str(),
                  static_cast<int>(r.status), where.c_str(), r.detail.empty() ? "" : ": ",
                  r.detail.c_str());
      if (!revert.empty()) std::printf("revert: %s\n", revert.c_str());
    }
    for (const auto& l : host.logs()) {
      std::printf("log:");
      for (const U256& t : l.topics) std::printf(" %s", to_hex_string(t).c_str());
      std::printf(" data %s\n", hex(l.data).c_str());
    }
    std::printf("gas used: %lld of %lld\n", static_cast<long long>(used),
                static_cast<long long>(gas));
  }
  if (r.status != Status::Ok) {
    std::fprintf(stderr, "writ exec: %s %s at %s%s%s\n", name.c_str(),
                 std::string(status_name(r.status)).c_str(), where.c_str(),
                 revert.empty() ? "" : ": ", revert.c_str());
    return kExitTrap;
  }
  return kExitOk;
}

int cmd_opcodes(const std::vector<std::string>& args) {
  bool md = false;
  for (const auto& a : args) {
    if (a == "--markdown") {
      md = true;
    } else if (a == "--help" || a == "-h") {
      std::fputs(kOpcodesHelp, stdout);
      return kExitOk;
    } else {
      std::fprintf(stderr, "writ opcodes: unknown option %s\n", a.c_str());
      return kExitUsage;
    }
  }
  if (md) {
    std::puts("| hex | mnemonic | operands | gas | flags | meaning |");
    std::puts("|---|---|---|---|---|---|");
  }
  for (unsigned i = 0; i < kOpcodeCount; ++i) {
    const OpInfo& oi = kOpInfo[i];
    if (oi.flags & F_INVALID) continue;
    std::string flags;
    auto add = [&](uint8_t bit, const char* n) {
      if (oi.flags & bit) flags += (flags.empty() ? "" : " ") + std::string(n);
    };
    add(F_TERM, "term");
    add(F_BRANCH, "branch");
    add(F_COND, "cond");
    add(F_DYN, "dyn");
    add(F_HOST, "host");
    add(F_WRITE, "write");
    add(F_CALL, "call");
    std::string ops(oi.operands);
    std::string meaning(oi.meaning);
    if (md) {  // a '|' in a meaning would end the Markdown cell
      for (size_t p = meaning.find('|'); p != std::string::npos; p = meaning.find('|', p + 2))
        meaning.replace(p, 1, "\\|");
    }
    if (md)
      std::printf("| 0x%02x | `%s` | `%s` | %u | %s | %s |\n", i, std::string(oi.mnemonic).c_str(),
                  ops.empty() ? "-" : ops.c_str(), oi.base_gas, flags.c_str(), meaning.c_str());
    else
      std::printf("0x%02x  %-12s %-6s %4u  %s\n", i, std::string(oi.mnemonic).c_str(), ops.c_str(),
                  oi.base_gas, std::string(oi.meaning).c_str());
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return kExitUsage;
  }
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (cmd == "demo") return cmd_demo(args);
  if (cmd == "build") return cmd_build(args);
  if (cmd == "run") return cmd_run(args);
  if (cmd == "test") return cmd_test(args);
  if (cmd == "init") return cmd_init(args);
  if (cmd == "debug") return cmd_debug(args);
  if (cmd == "asm") return cmd_asm(args);
  if (cmd == "disasm") return cmd_disasm(args);
  if (cmd == "exec") return cmd_exec(args);
  if (cmd == "opcodes") return cmd_opcodes(args);
  if (cmd == "genesis") return cmd_genesis(args);
  if (cmd == "risk") return cmd_risk(args);
  if (cmd == "abci") return cmd_abci(args);
  if (cmd == "load") return cmd_load(args);
  if (int rc = cmd_chain(cmd, args); rc >= 0) return rc;
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    if (args.empty()) {
      std::fputs(kUsage, stdout);
      return kExitOk;
    }
    const std::string& c = args[0];
    if (c == "demo")
      std::fputs(kDemoHelp, stdout);
    else if (c == "build")
      std::fputs(kBuildHelp, stdout);
    else if (c == "run")
      std::fputs(kRunHelp, stdout);
    else if (c == "test")
      std::fputs(kTestHelp, stdout);
    else if (c == "init")
      std::fputs(kInitHelp, stdout);
    else if (c == "debug")
      std::fputs(kDebugHelp, stdout);
    else if (c == "asm")
      std::fputs(kAsmHelp, stdout);
    else if (c == "disasm")
      std::fputs(kDisasmHelp, stdout);
    else if (c == "exec")
      std::fputs(kExecHelp, stdout);
    else if (c == "opcodes")
      std::fputs(kOpcodesHelp, stdout);
    else if (c == "genesis")
      std::fputs(kGenesisHelp, stdout);
    else if (c == "risk")
      std::fputs(kRiskHelp, stdout);
    else if (c == "abci")
      std::fputs(kAbciHelp, stdout);
    else if (c == "load")
      std::fputs(kLoadHelp, stdout);
    else if (const char* h = chain_help(c))
      std::fputs(h, stdout);
    else {
      std::fprintf(stderr, "writ help: unknown command %s\n", c.c_str());
      return kExitUsage;
    }
    return kExitOk;
  }
  std::fprintf(stderr, "writ: unknown command '%s'\n%s", cmd.c_str(), kUsage);
  return kExitUsage;
}
