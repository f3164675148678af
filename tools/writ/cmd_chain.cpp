// The chain verbs: `writ node` (the dev node) and the client verbs keygen,
// deploy, send, call, balance, receipt and proof. The client verbs speak
// JSON-RPC either to a node (--rpc HOST:PORT, loopback only) or, with
// --data DIR, to an in-process RpcHandler over the RocksDB chain in DIR, so
// both modes run the same methods and print the same output.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "args.hpp"
#include "chain_client.hpp"
#include "commands.hpp"
#include "decode.hpp"
#include "project.hpp"
#include "writ/compiler/abi_format.hpp"
#include "writ/compiler/compiler.hpp"
#include "writ/contracts/feeder.hpp"
#include "writ/contracts/system.hpp"
#include "writ/runtime/node.hpp"
#include "writ/vm/abi.hpp"
#ifdef WRIT_HAVE_JIT
#include "writ/vm/jit.hpp"
#endif

namespace writ::cli {

namespace rt = writ::runtime;
using json = nlohmann::json;
using compiler::AbiEntry;
using compiler::AbiParam;
using compiler::CompileOutput;
using compiler::ContractOutput;
using vm::U256;

namespace {

const char* kNodeHelp =
    "usage: writ node --data DIR [--init [--genesis FILE]] [--rpc 127.0.0.1:PORT]\n"
    "                 [--block-interval MS] [--exit-after-blocks N] [--exit-after-seconds S]\n"
    "                 [--accept-rollback] [--jit off|tiered|deploy] [--quiet]\n"
    "Runs a dev node: the chain lives in RocksDB under DIR, and JSON-RPC 2.0 is\n"
    "served over HTTP on a loopback address (default 127.0.0.1:8545; port 0 picks a\n"
    "free port). Prints `listening on HOST:PORT` once it serves.\n"
    "  --init                create the chain in DIR (which must not hold one); without\n"
    "                        it the node only opens DIR's chain, never makes a new one\n"
    "  --genesis FILE        genesis JSON (docs/runtime.md) for --init, kept as\n"
    "                        DIR/genesis.json so a restart resumes without it; without\n"
    "                        it --init creates the default development chain (`writ\n"
    "                        genesis`: the system contracts, the development keys)\n"
    "  --accept-rollback     open a chain whose database lost committed blocks (a damaged\n"
    "                        or missing write-ahead log) at the height it recovered; the\n"
    "                        lost blocks are gone (docs/runtime.md, \"Recovery\")\n"
    "  --block-interval MS   queue transactions and produce a block every MS when any\n"
    "                        are queued (default: one block per transaction, committed\n"
    "                        before writ_sendRawTransaction answers)\n"
    "  --jit MODE            how contracts run (docs/jit.md): `tiered` (the default where\n"
    "                        the JIT is built) compiles a contract once its calls have\n"
    "                        used 50 million gas per KB of its code (a million at\n"
    "                        least), `deploy` compiles every contract when\n"
    "                        it is deployed or first loaded, `off` interprets only;\n"
    "                        compiled code is kept in DIR/jit-cache for restarts.\n"
    "                        Results and gas are the same in every mode.\n"
#ifndef WRIT_HAVE_JIT
    "                        (This build has no JIT: contracts are interpreted.)\n"
#endif
    "  --exit-after-blocks N stop after producing N blocks\n"
    "  --exit-after-seconds S stop after S seconds\n"
    "  --quiet               do not print a line per block\n"
    "SIGINT or SIGTERM stops the node cleanly. Exit: 0 stopped, 2 usage, 3 cannot\n"
    "open the data directory or listen.\n";

const char* kKeygenHelp =
    "usage: writ keygen [-o KEYFILE] [--force]\n"
    "Makes a new Ed25519 keypair. With -o, writes {\"seed\", \"public_key\", \"address\"}\n"
    "as JSON to KEYFILE (mode 0600; an existing file is kept unless --force) and\n"
    "prints the address; without -o, prints the JSON. The verbs that sign refuse a\n"
    "key file that other users can read or write (chmod 600 KEYFILE).\n";

#define WRIT_CONN_HELP                                                                    \
  "Chain access (every client verb):\n"                                                   \
  "  --rpc HOST:PORT   a running node (loopback only; default 127.0.0.1:8545)\n"          \
  "  --data DIR        the chain in DIR directly (no node may hold it); --init\n"         \
  "                    [--genesis FILE] creates it (by default the development chain\n"   \
  "                    of `writ genesis`). A submitted transaction gets its own block.\n" \
  "Exit: 0 ok, 1 the transaction or call reverted or trapped, 2 usage, 3 bad input,\n"    \
  "node unreachable, or transaction rejected (bad nonce, balance, ...).\n"

#define WRIT_TX_HELP                                                                         \
  "Transactions: --gas N (default: intrinsic + 2000000, deploys + 5000000), --gas-price P\n" \
  "(default 1), --value V; the nonce and chain id come from the chain. The command\n"        \
  "waits for the receipt (--wait S, default 30; 0: submit only).\n"

const char* kDeployHelp =
    "usage: writ deploy (--key KEYFILE | --dev-key NAME) FILE.writ [--contract NAME]\n"
    "                   [--init-arg V]... [tx options]\n"
    "       writ deploy (--key KEYFILE | --dev-key NAME) MODULE.wbc [--init-data 0xHEX]\n"
    "                   [tx options]\n"
    "Deploys a contract: from .writ source (compiled; the constructor's --init-arg\n"
    "values are encoded with its ABI) or from a built module with raw constructor\n"
    "input. Prints the transaction hash, status, contract address and gas used.\n"
    "--dev-key names a development key of the default genesis\n"
    "(" WRIT_DEV_KEYS ").\n" WRIT_TX_HELP WRIT_CONN_HELP;

const char* kSendHelp =
    "usage: writ send (--key KEYFILE | --dev-key NAME) --to ADDR [--value V] [--data 0xHEX]\n"
    "                 [tx options]\n"
    "Sends a payment, or a call with raw input data. Prints the transaction hash,\n"
    "status, gas used and the logs, and for a payment on a chain with a risk engine\n"
    "its score, reasons and whether it settled, was held or refused. A --data value\n"
    "starting with 0x is the input (also --input 0xHEX); any other --data value is the\n"
    "chain directory. --dev-key names a development key of the default genesis\n"
    "(" WRIT_DEV_KEYS ").\n" WRIT_TX_HELP WRIT_CONN_HELP;

const char* kCallHelp =
    "usage: writ call --to CONTRACT --source FILE.writ [--contract NAME] --call FN [--arg V]...\n"
    "                 [(--key KEYFILE | --dev-key NAME) [tx options] | --from ADDR] [--gas N]\n"
    "Calls FN of a deployed contract, with arguments and results typed by the\n"
    "contract's ABI (compiled from FILE), printed like `writ run`: results, events\n"
    "and reverts decoded. Without a key the call is read-only (writ_call, nothing\n"
    "is committed); with --key or --dev-key it is signed and sent as a\n"
    "transaction. --dev-key names a development key of the default genesis\n"
    "(" WRIT_DEV_KEYS ").\n" WRIT_TX_HELP WRIT_CONN_HELP;

const char* kBalanceHelp =
    "usage: writ balance ADDR\n"
    "Prints the balance of ADDR (0x + 64 hex digits, or a short form like 0xB0B).\n" WRIT_CONN_HELP;

const char* kReceiptHelp =
    "usage: writ receipt TXHASH [--abi NAME.abi.json]... [--build DIR]... [--json]\n"
    "Prints the receipt of a committed transaction (exit 3 if there is none): the\n"
    "call, status, results, events, the trap with its source line, the revert and,\n"
    "when the failure came through nested calls, the chain of calls with each\n"
    "callee's error and source line. Decoded by the contracts given: --build DIR (the\n"
    "-o directory of writ build) or --abi FILE (NAME.debug.json and NAME.wbc beside it\n"
    "are used when present). A contract is matched to an address by the code there\n"
    "(the .wbc), else by function, event or error selector. --json prints the raw\n"
    "receipt JSON instead. The exit code does not depend on the receipt's status.\n" WRIT_CONN_HELP;

const char* kLogsHelp =
    "usage: writ logs [--from N] [--to N] [--address ADDR]... [--topic T]...\n"
    "                 [--abi NAME.abi.json]... [--build DIR]... [--json]\n"
    "Prints the logs of committed blocks from N to N (heights or \"latest\", the\n"
    "default), oldest first. --address (repeatable) keeps the logs of any\n"
    "of those contracts; the k-th --topic matches topic k: a hash (0x + 64 hex\n"
    "digits, or a short form like 0xB0B for an indexed address), or - for any.\n"
    "Example: the Transfer events to 0xB0B: --topic - --topic - --topic 0xB0B.\n"
    "Each log prints on one line: block, transaction, index and the event decoded\n"
    "by --build DIR / --abi FILE as for writ receipt (raw topics and data when no\n"
    "contract given declares it). --json prints the raw JSON array instead.\n" WRIT_CONN_HELP;

const char* kProofHelp =
    "usage: writ proof ADDR [SLOT [--map-key K]]\n"
    "Fetches a state proof for the account ADDR, or for its storage SLOT (decimal\n"
    "or 0x-hex; with --map-key, the entry K of the map whose base slot is SLOT,\n"
    "at sha256(K || SLOT)). Prints the proof JSON, then checks it here: against the\n"
    "state root it names and that block's header. Exit 0 only if it verifies (1 if "
    "not).\n" WRIT_CONN_HELP;

// ---- arguments -------------------------------------------------------------------------

const std::set<std::string> kConnOpts = {"--rpc", "--data", "--genesis"};
const std::set<std::string> kConnFlags = {"--init"};
const std::set<std::string> kTxOpts = {"--gas", "--gas-price", "--value", "--wait"};

std::set<std::string> merge(std::set<std::string> a, const std::set<std::string>& b) {
  a.insert(b.begin(), b.end());
  return a;
}

bool parse_amount(const char* verb, const char* opt, const std::string& text, U256& out) {
  auto v = text.empty() || text[0] == '-' ? std::nullopt : vm::parse_u256(text);
  if (!v) {
    std::fprintf(stderr, "writ %s: %s %s is not an amount (decimal or 0x-hex)\n", verb, opt,
                 text.c_str());
    return false;
  }
  out = *v;
  return true;
}

bool parse_u64(const char* verb, const char* opt, const std::string& text, uint64_t& out) {
  U256 v;
  if (!parse_amount(verb, opt, text, v)) return false;
  if (!v.fits_u64()) {
    std::fprintf(stderr, "writ %s: %s %s is above 2^64\n", verb, opt, text.c_str());
    return false;
  }
  out = v.low64();
  return true;
}

bool parse_addr(const char* verb, const char* what, const std::string& text, rt::Address& out) {
  auto a = rt::parse_address_text(text);
  if (!a) {
    std::fprintf(
        stderr,
        "writ %s: %s \"%s\" is not an address (0x + 64 hex digits, or a short form like 0xB0B)\n",
        verb, what, text.c_str());
    return false;
  }
  out = *a;
  return true;
}

std::string hx(const rt::Hash256& h) {
  return "0x" + h.hex();
}

// ---- chain access ------------------------------------------------------------------------

// The chain access options of `a` (chain_client.hpp).
ChainAccess access_of(const Args& a) {
  return {a.one("--rpc"), a.one("--data"), a.one("--genesis"), a.has("--init")};
}

// ---- transactions --------------------------------------------------------------------------

bool parse_tx_options(const char* verb, const Args& a, TxOptions& o) {
  if (a.has("--gas")) {
    uint64_t g;
    if (!parse_u64(verb, "--gas", *a.one("--gas"), g)) return false;
    o.gas = g;
  }
  if (a.has("--gas-price") &&
      !parse_amount(verb, "--gas-price", *a.one("--gas-price"), o.gas_price))
    return false;
  if (a.has("--value") && !parse_amount(verb, "--value", *a.one("--value"), o.value)) return false;
  if (a.has("--wait")) {
    uint64_t w;
    if (!parse_u64(verb, "--wait", *a.one("--wait"), w)) return false;
    o.wait_s = static_cast<double>(w);
  }
  return true;
}

std::vector<U256> topics_of(const json& log) {
  std::vector<U256> t;
  for (const json& x : log.value("topics", json::array())) {
    auto h = rt::Hash256::from_hex(x.get<std::string>());
    t.push_back(h ? h->to_u256() : U256{});
  }
  return t;
}

// The failure trace of a receipt or writ_call reply ("calls", innermost
// first). Malformed entries are an error naming the field.
std::vector<vm::FailedCall> calls_of(const json& rc) {
  std::vector<vm::FailedCall> out;
  if (!rc.contains("calls")) return out;
  const json& a = rc["calls"];
  if (!a.is_array()) throw std::runtime_error("reply field calls: expected an array");
  for (size_t i = 0; i < a.size(); ++i) {
    const json& c = a[i];
    const std::string where = "reply field calls[" + std::to_string(i) + "]";
    if (!c.is_object()) throw std::runtime_error(where + ": expected an object");
    vm::FailedCall fc;
    auto callee = rt::parse_address_text(c.value("callee", ""));
    if (!callee) throw std::runtime_error(where + ".callee: not an address");
    fc.callee = callee->to_u256();
    const std::string sel = c.value("selector", "");
    auto sel_bytes = rt::from_hex(sel);
    if (!sel_bytes || sel_bytes->size() != 4)
      throw std::runtime_error(where + ".selector: expected 0x and 8 hex digits");
    fc.selector = (uint32_t{(*sel_bytes)[0]} << 24) | (uint32_t{(*sel_bytes)[1]} << 16) |
                  (uint32_t{(*sel_bytes)[2]} << 8) | (*sel_bytes)[3];
    const int code = c.value("status_code", -1);
    if (code <= 0 || code > static_cast<int>(vm::Status::InsufficientBalance))
      throw std::runtime_error(where + ".status_code: not a failure status");
    fc.status = static_cast<vm::Status>(code);
    fc.func = c.value("function", 0u);
    fc.pc = c.value("pc", 0u);
    fc.detail = c.value("detail", "");
    out.push_back(std::move(fc));
  }
  return out;
}

// Binds each address to the known contract whose code it holds (writ_getCode),
// when the book has code to compare with. Addresses already bound are skipped.
void bind_by_code(ChainClient& b, ContractBook& book, const std::vector<U256>& addresses) {
  if (!book.has_code_hashes()) return;
  std::set<std::string> seen;
  for (const U256& a : addresses) {
    if (book.at(a) || !seen.insert(vm::to_hex_string(a)).second) continue;
    json code;
    std::string err;
    if (!b.call("writ_getCode", json::array({rt::word_hex(a)}), code, err) || !code.is_string())
      continue;  // no code there (or a node that cannot say): left to selectors
    auto bytes = rt::from_hex(code.get<std::string>());
    if (bytes) book.bind_code(a, vm::code_hash(*bytes));
  }
}

// The addresses a receipt or call reply names: its logs' and its trace's.
std::vector<U256> addresses_of(const json& rc) {
  std::vector<U256> out;
  for (const json& l : rc.value("logs", json::array()))
    if (auto a = rt::parse_address_text(l.value("address", ""))) out.push_back(a->to_u256());
  for (const vm::FailedCall& c : calls_of(rc)) out.push_back(c.callee);
  return out;
}

// What a receipt summary knows about the call it reports.
struct TopCall {
  std::optional<U256> address;       // the contract called (or deployed)
  std::optional<uint32_t> selector;  // the function called (from the input)
};

// Prints a receipt's (or writ_call reply's) status, results, logs and gas,
// decoded by the contracts in `book`: results by the function called, events
// by their emitter's ABI (else by topic), reverts by error selector, the
// trap's source line and the failure chain from the debug info. Returns 0
// for Ok, 1 otherwise.
int print_receipt_summary(const json& rc, const ContractBook& book, const TopCall& top) {
  if (rc.is_null()) {
    std::printf("status: submitted (not waiting for the receipt)\n");
    return kExitOk;
  }
  std::string status = rc.value("status", "?");
  std::printf("status: %s\n", status.c_str());
  if (rc.contains("contract") && rc["contract"].is_string())
    std::printf("contract: %s\n", rc["contract"].get<std::string>().c_str());
  const ContractOutput* c = nullptr;
  const AbiEntry* fn = nullptr;
  if (top.address) {
    c = top.selector ? book.for_call(*top.address, *top.selector) : book.at(*top.address);
    if (c && top.selector) fn = book.function_of(*c, *top.selector);
  }
  auto out = rt::from_hex(rc.value("output", "0x")).value_or(rt::Bytes{});
  if (status == "Ok" && fn && !fn->constructor) {
    auto dec = vm::abi_decode(compiler::flat_of(fn->outputs, false, false), out);
    if (dec.ok()) {
      size_t i = 0;
      for (size_t k = 0; k < fn->outputs.size(); ++k)
        std::printf("result %zu (%s): %s\n", k, fn->outputs[k].type.c_str(),
                    compiler::format_param(fn->outputs[k], dec.value(), i).c_str());
    }
  }
  for (const json& l : rc.value("logs", json::array())) {
    auto addr = rt::parse_address_text(l.value("address", ""));
    auto data = rt::from_hex(l.value("data", "0x")).value_or(rt::Bytes{});
    const ContractOutput* emitter = addr ? book.at(addr->to_u256()) : nullptr;
    auto ev = book.event(emitter, topics_of(l), data);
    if (ev) {
      std::printf("event: %s", ev->c_str());
      if (!(addr && top.address && addr->to_u256() == *top.address))
        std::printf(" from %s%s%s", emitter ? emitter->name.c_str() : "", emitter ? " at " : "",
                    vm::to_hex_string(addr ? addr->to_u256() : U256{}).c_str());
      std::printf("\n");
    } else {
      std::printf("log: %s", l.value("address", "").c_str());
      for (const json& t : l.value("topics", json::array()))
        std::printf(" %s", t.get<std::string>().c_str());
      std::printf(" data %s\n", l.value("data", "").c_str());
    }
  }
  if (status != "Ok") {
    const json& t = rc.contains("trap") ? rc["trap"] : json::object();
    const uint32_t f = t.value("function", 0u), pc = t.value("pc", 0u);
    const std::string detail = t.value("detail", "");
    const int code = rc.value("status_code", -1);
    const vm::Status st = code >= 0 && code <= static_cast<int>(vm::Status::InsufficientBalance)
                              ? static_cast<vm::Status>(code)
                              : vm::Status::Revert;
    std::string where =
        (c ? function_name(*c, f) : "function " + std::to_string(f)) + " pc " + std::to_string(pc);
    if (vm::is_refusal(st) || (!c && f == 0 && pc == 0))  // no code ran: refused before it
      std::printf("trap: %s%s%s\n", status.c_str(), detail.empty() ? "" : ": ", detail.c_str());
    else
      std::printf("trap: %s at %s%s%s\n", status.c_str(), where.c_str(), detail.empty() ? "" : ": ",
                  detail.c_str());
    if (c && !vm::is_refusal(st)) {
      const ContractBook::Entry* e = book.entry_of(c);
      SourceSpot spot = source_spot(*c, f, pc, e ? e->source_dir : "");
      if (!spot.where.empty())
        std::printf("  at %s: %s\n", spot.where.c_str(), spot.line_text.c_str());
    }
    if (status == "Revert" && !out.empty())
      std::printf("revert: %s\n", book.revert(c, out).c_str());
    std::vector<vm::FailedCall> calls = calls_of(rc);
    if (!calls.empty()) {
      Frame fr;
      fr.address = top.address.value_or(U256{});
      fr.selector = top.selector.value_or(0);
      fr.selector_known = top.selector.has_value();
      fr.status = st;
      fr.func = f;
      fr.pc = pc;
      fr.detail = detail;
      std::fputs(format_chain(book, fr, calls, rc.value("calls_omitted", 0u), out).c_str(), stdout);
    }
  }
  if (rc.contains("risk") && rc["risk"].is_object()) {
    // A plain payment's judgment by the risk engine (docs/runtime.md).
    const json& k = rc["risk"];
    std::string reasons;
    if (k.contains("reasons") && k["reasons"].is_array())
      for (const json& code : k["reasons"])
        if (code.is_number_unsigned())
          reasons += (reasons.empty() ? "" : ", ") + std::to_string(code.get<unsigned>());
    std::printf("risk: score %s, reasons [%s], model %s: %s",
                k.value("score", json(0)).dump().c_str(), reasons.c_str(),
                k.value("model_version", json(0)).dump().c_str(),
                k.value("decision", std::string("?")).c_str());
    if (k.contains("hold_id")) std::printf(" (hold %s)", k["hold_id"].dump().c_str());
    std::printf("\n");
  }
  if (rc.contains("gas_used"))
    std::printf("gas used: %llu\n",
                static_cast<unsigned long long>(rc["gas_used"].get<uint64_t>()));
  return status == "Ok" ? kExitOk : kExitTrap;
}

std::optional<uint32_t> selector_of_input(const rt::Bytes& input) {
  if (input.size() < 4) return std::nullopt;
  return (uint32_t{input[0]} << 24) | (uint32_t{input[1]} << 16) | (uint32_t{input[2]} << 8) |
         input[3];
}

// ---- compiling ------------------------------------------------------------------------------

// Compiles `path` and picks the contract `which` (or the last one).
int compile_contract(const char* verb, const std::string& path, const std::string& which,
                     CompileOutput& out, const ContractOutput*& c) {
  compiler::CompileOptions opts;
  opts.stdlib_dir = default_stdlib_dir();
  out = compiler::compile_file(path, opts);
  std::fputs(out.diagnostics.c_str(), stderr);
  if (!out.ok) {
    std::fprintf(stderr, "writ %s: %zu error%s\n", verb, out.error_count,
                 out.error_count == 1 ? "" : "s");
    return kExitInput;
  }
  if (out.contracts.empty()) {
    std::fprintf(stderr, "writ %s: %s declares no contract\n", verb, path.c_str());
    return kExitInput;
  }
  c = &out.contracts.back();
  if (!which.empty()) {
    c = nullptr;
    for (const auto& x : out.contracts)
      if (x.name == which) c = &x;
    if (!c) {
      std::fprintf(stderr, "writ %s: no contract %s in %s\n", verb, which.c_str(), path.c_str());
      return kExitUsage;
    }
  }
  return kExitOk;
}

bool encode_call(const char* verb, const AbiEntry& f, const std::vector<std::string>& texts,
                 rt::Bytes& input) {
  if (texts.size() != f.inputs.size()) {
    std::fprintf(stderr, "writ %s: %s takes %zu arguments, got %zu\n", verb, f.name.c_str(),
                 f.inputs.size(), texts.size());
    return false;
  }
  std::vector<vm::Value> vals;
  for (size_t i = 0; i < texts.size(); ++i) {
    std::string err;
    if (!compiler::parse_arg(f.inputs[i], texts[i], vals, err)) {
      std::fprintf(stderr, "writ %s: argument %zu (%s): %s\n", verb, i + 1,
                   f.inputs[i].name.c_str(), err.c_str());
      return false;
    }
  }
  input = vm::call_input(f.selector, vals);
  return true;
}

const AbiEntry* find_fn(const ContractOutput& c, const std::string& name) {
  for (const auto& f : c.functions)
    if (f.name == name) return &f;
  return nullptr;
}

// ---- the node ------------------------------------------------------------------------------

std::atomic<rt::RpcServer*> g_server{nullptr};

extern "C" void on_stop_signal(int) {
  if (rt::RpcServer* s = g_server.load()) s->stop();
}

int cmd_node(const std::vector<std::string>& args) {
  Args a;
  if (!parse_args("node", args,
                  {"--data", "--genesis", "--rpc", "--block-interval", "--exit-after-blocks",
                   "--exit-after-seconds", "--jit"},
                  {"--quiet", "--init", "--accept-rollback"}, a))
    return kExitUsage;
  if (a.help) {
    std::fputs(kNodeHelp, stdout);
    return kExitOk;
  }
  if (!a.pos.empty() || !a.has("--data")) {
    std::fputs(kNodeHelp, stderr);
    return kExitUsage;
  }
  rt::ServerOptions so;
  so.bind = a.has("--rpc") ? *a.one("--rpc") : "127.0.0.1:8545";
  if (auto ep = rt::parse_loopback_endpoint(so.bind); !ep.ok()) {
    std::fprintf(stderr, "writ node: --rpc %s\n", ep.error().message.c_str());
    return kExitUsage;
  }
  uint64_t secs = 0;
  if ((a.has("--block-interval") &&
       !parse_u64("node", "--block-interval", *a.one("--block-interval"), so.block_interval_ms)) ||
      (a.has("--exit-after-blocks") &&
       !parse_u64("node", "--exit-after-blocks", *a.one("--exit-after-blocks"),
                  so.exit_after_blocks)) ||
      (a.has("--exit-after-seconds") &&
       !parse_u64("node", "--exit-after-seconds", *a.one("--exit-after-seconds"), secs)))
    return kExitUsage;
  so.exit_after_ms = secs * 1000;
  const bool quiet = a.has("--quiet");
  const std::string jit_mode = a.has("--jit") ? *a.one("--jit") : "tiered";
  if (jit_mode != "off" && jit_mode != "tiered" && jit_mode != "deploy") {
    std::fprintf(stderr, "writ node: --jit %s: give off, tiered or deploy\n", jit_mode.c_str());
    return kExitUsage;
  }

  rt::DataDirOptions dopts;
  dopts.create = a.has("--init");
  if (dopts.create && !a.has("--genesis")) dopts.genesis_json = contracts::default_genesis_json();
  dopts.accept_lost_writes = a.has("--accept-rollback");
  auto dir =
      rt::open_data_dir(*a.one("--data"), a.has("--genesis") ? *a.one("--genesis") : "", dopts);
  if (!dir.ok()) {
    std::fprintf(stderr, "writ node: %s\n", dir.error().message.c_str());
    return kExitInput;
  }
  rt::Chain& chain = *dir->chain;
  if (jit_mode != "off") {
#ifdef WRIT_HAVE_JIT
    vm::jit::TierOptions to;
    to.compile_at_deploy = jit_mode == "deploy";
    to.cache_dir = (std::filesystem::path(*a.one("--data")) / "jit-cache").string();
    std::string why;
    if (auto tier = vm::jit::make_tier(to, &why))
      chain.set_execution_tier(std::move(tier));
    else
      std::fprintf(stderr, "writ node: the JIT is not available (%s); contracts are interpreted\n",
                   why.c_str());
#else
    if (a.has("--jit"))
      std::fprintf(stderr, "writ node: built without the JIT; contracts are interpreted\n");
#endif
  }
  if (!dir->accepted_loss.empty())
    std::fprintf(stderr, "writ node: --accept-rollback: %s\n", dir->accepted_loss.c_str());
  std::printf("chain %llu %s %s at height %llu, state root %s\n",
              static_cast<unsigned long long>(chain.chain_id()),
              dir->created ? "created in" : "resumed from", a.one("--data")->c_str(),
              static_cast<unsigned long long>(chain.head().height),
              hx(chain.head().state_root).c_str());
  rt::RpcOptions ro;
  ro.block_per_tx = so.block_interval_ms == 0;
  ro.genesis_json = dir->genesis_json;
  rt::RpcHandler handler(chain, ro);
  if (!quiet)
    handler.on_block = [](const rt::Chain::BlockResult& r) {
      std::printf("block %llu: %zu tx%s, gas %llu, state root %s\n",
                  static_cast<unsigned long long>(r.block.header.height), r.block.txs.size(),
                  r.block.txs.size() == 1 ? "" : "s",
                  static_cast<unsigned long long>(r.block.header.gas_used),
                  hx(r.block.header.state_root).c_str());
      for (const rt::Chain::Rejected& x : r.rejected)
        std::printf("  rejected %s: %s\n", hx(x.hash).c_str(), x.reason.c_str());
      std::fflush(stdout);
    };
  rt::RpcServer server(handler, so);
  if (rt::Status s = server.start(); !s) {
    std::fprintf(stderr, "writ node: %s\n", s.message.c_str());
    return kExitInput;
  }
  g_server.store(&server);
  install_stop_signals(on_stop_signal);
  std::printf("listening on %s\n", server.endpoint().to_string().c_str());
  std::fflush(stdout);
  server.run();
  g_server.store(nullptr);
  // The stop commits what was queued while the store takes writes; what a
  // full disk kept queued is lost with the process, and its senders are told
  // only here (their transactions get no receipt: they can send them again).
  if (const size_t left = handler.pending(); left > 0)
    std::fprintf(stderr,
                 "writ node: %zu queued transaction%s not committed (the store takes no "
                 "writes); %s lost: %s senders see no receipt and can send %s again\n",
                 left, left == 1 ? " was" : "s were", left == 1 ? "it is" : "they are",
                 left == 1 ? "its" : "their", left == 1 ? "it" : "them");
  std::printf("stopped at height %llu, state root %s (%llu requests served)\n",
              static_cast<unsigned long long>(chain.head().height),
              hx(chain.head().state_root).c_str(),
              static_cast<unsigned long long>(server.requests_served()));
  std::fflush(stdout);
  return kExitOk;  // the chain (and RocksDB) closes as `dir` goes out of scope
}

// ---- client verbs ----------------------------------------------------------------------------

int cmd_keygen(const std::vector<std::string>& args) {
  Args a;
  if (!parse_args("keygen", args, {"-o"}, {"--force"}, a)) return kExitUsage;
  if (a.help) {
    std::fputs(kKeygenHelp, stdout);
    return kExitOk;
  }
  if (!a.pos.empty()) {
    std::fputs(kKeygenHelp, stderr);
    return kExitUsage;
  }
  rt::Keypair kp = rt::generate_keypair();
  json j = {{"seed", rt::to_hex(kp.priv.seed)},
            {"public_key", rt::to_hex(kp.pub.bytes)},
            {"address", hx(rt::address_of(kp.pub))}};
  std::string text = j.dump(2) + "\n";
  if (!a.has("-o")) {
    std::fputs(text.c_str(), stdout);
    return kExitOk;
  }
  const std::string& path = *a.one("-o");
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (a.has("--force") ? O_TRUNC : O_EXCL);
  int fd = ::open(path.c_str(), flags, 0600);
  if (fd < 0) {
    std::fprintf(stderr, "writ keygen: %s: %s%s\n", path.c_str(), std::strerror(errno),
                 errno == EEXIST ? " (use --force to replace it)" : "");
    return kExitInput;
  }
  bool ok = ::fchmod(fd, 0600) == 0 &&
            ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::close(fd) == 0 && ok;
  if (!ok) {
    std::fprintf(stderr, "writ keygen: %s: cannot write\n", path.c_str());
    return kExitInput;
  }
  std::printf("%s\n", hx(rt::address_of(kp.pub)).c_str());
  return kExitOk;
}

int cmd_deploy(const std::vector<std::string>& args) {
  Args a;
  if (!parse_args(
          "deploy", args,
          merge(merge({"--key", "--dev-key", "--contract", "--init-arg", "--init-data"}, kConnOpts),
                kTxOpts),
          kConnFlags, a))
    return kExitUsage;
  if (a.help) {
    std::fputs(kDeployHelp, stdout);
    return kExitOk;
  }
  if (a.pos.size() != 1 || !(a.has("--key") || a.has("--dev-key"))) {
    std::fputs(kDeployHelp, stderr);
    return kExitUsage;
  }
  const std::string& file = a.pos[0];
  TxOptions o;
  if (!parse_tx_options("deploy", a, o)) return kExitUsage;
  rt::Keypair key;
  std::string err;
  if (int e = signing_key("deploy", a.one("--key"), a.one("--dev-key"), key)) return e;
  rt::Transaction tx;
  tx.kind = rt::Transaction::Kind::Deploy;
  CompileOutput out;
  const ContractOutput* c = nullptr;
  if (ends_with(file, ".writ")) {
    if (a.has("--init-data")) {
      std::fprintf(stderr,
                   "writ deploy: --init-data is for .wbc modules; give --init-arg values for %s\n",
                   file.c_str());
      return kExitUsage;
    }
    if (int rc = compile_contract("deploy", file, a.has("--contract") ? *a.one("--contract") : "",
                                  out, c))
      return rc;
    tx.code = c->bytecode;
    if (const AbiEntry* init = find_fn(*c, "$init")) {
      if (!encode_call("deploy", *init, a.all("--init-arg"), tx.data)) return kExitUsage;
    } else if (a.has("--init-arg")) {
      std::fprintf(stderr, "writ deploy: %s has no init to take --init-arg\n", c->name.c_str());
      return kExitUsage;
    }
  } else {
    if (a.has("--init-arg") || a.has("--contract")) {
      std::fprintf(stderr,
                   "writ deploy: %s is a module without an ABI: deploy the .writ source to use "
                   "--init-arg/--contract, or give --init-data 0xHEX\n",
                   file.c_str());
      return kExitUsage;
    }
    if (!read_file(file, tx.code, err)) {
      std::fprintf(stderr, "writ deploy: %s\n", err.c_str());
      return kExitInput;
    }
    if (a.has("--init-data")) {
      auto d = rt::from_hex(*a.one("--init-data"));
      if (!d) {
        std::fprintf(stderr, "writ deploy: --init-data: expected 0x-hex bytes\n");
        return kExitUsage;
      }
      tx.data = *d;
    }
  }
  std::unique_ptr<ChainClient> b;
  if (int rc = open_chain_client("deploy", access_of(a), b)) return rc;
  json rc;
  if (int e = submit("deploy", *b, key, tx, o, rc)) return e;
  ContractBook book;
  TopCall top;
  if (c) book.add_compiled(out);
  book.add_system_contracts();
  if (rc.is_object() && rc.contains("contract") && rc["contract"].is_string())
    if (auto addr = rt::Hash256::from_hex(rc["contract"].get<std::string>())) {
      top.address = addr->to_u256();
      if (c) book.bind(*top.address, book.find_name(c->name));
    }
  top.selector = selector_of_input(tx.data);
  if (rc.is_object()) bind_by_code(*b, book, addresses_of(rc));
  return print_receipt_summary(rc, book, top);
}

int cmd_send(const std::vector<std::string>& args) {
  Args a;
  if (!parse_args("send", args,
                  merge(merge({"--key", "--dev-key", "--to", "--input"}, kConnOpts), kTxOpts),
                  kConnFlags, a))
    return kExitUsage;
  if (a.help) {
    std::fputs(kSendHelp, stdout);
    return kExitOk;
  }
  // `--data 0xHEX` is the call input, `--data DIR` the chain directory (a
  // directory named like hex is reached as ./0x..).
  std::vector<std::string> input_texts = a.all("--input");
  std::vector<std::string> dirs;
  for (const std::string& d : a.all("--data"))
    (d.size() >= 2 && d[0] == '0' && (d[1] == 'x' || d[1] == 'X') ? input_texts : dirs)
        .push_back(d);
  a.opts.erase("--data");
  if (!dirs.empty()) a.opts["--data"] = dirs;
  if (!a.pos.empty() || !(a.has("--key") || a.has("--dev-key")) || !a.has("--to") ||
      input_texts.size() > 1 || dirs.size() > 1) {
    std::fputs(kSendHelp, stderr);
    return kExitUsage;
  }
  TxOptions o;
  if (!parse_tx_options("send", a, o)) return kExitUsage;
  rt::Transaction tx;
  tx.kind = rt::Transaction::Kind::Call;
  if (!parse_addr("send", "--to", *a.one("--to"), tx.to)) return kExitUsage;
  if (!input_texts.empty()) {
    auto d = rt::from_hex(input_texts[0]);
    if (!d) {
      std::fprintf(stderr, "writ send: --data %s: expected 0x-hex bytes\n", input_texts[0].c_str());
      return kExitUsage;
    }
    tx.data = *d;
  }
  rt::Keypair key;
  if (int e = signing_key("send", a.one("--key"), a.one("--dev-key"), key)) return e;
  std::unique_ptr<ChainClient> b;
  if (int rc = open_chain_client("send", access_of(a), b)) return rc;
  json rc;
  if (int e = submit("send", *b, key, tx, o, rc)) return e;
  ContractBook book;
  book.add_system_contracts();
  return print_receipt_summary(rc, book, {tx.to.to_u256(), selector_of_input(tx.data)});
}

const char* kFeedHelp =
    "usage: writ feed (--key KEYFILE | --dev-key NAME) (--price FEED=PRICE... | --prices FILE)\n"
    "                 [tx options] [chain access]\n"
    "The oracle feeder: signs and submits a report to the oracle hub (0x101) for each\n"
    "price, one transaction each, and prints each receipt decoded (docs/contracts/oracle.md).\n"
    "  --price FEED=PRICE  a feed by name (ETH/USD, EUR/USD, USDC/USD) or id, and its price\n"
    "                      in quote units per base unit, a decimal with up to 18 decimals\n"
    "  --prices FILE       a price source: one `FEED PRICE` per line; blank lines and\n"
    "                      lines starting with # are skipped (errors name the line)\n"
    "  --key KEYFILE       the reporter's key (writ keygen)\n"
    "  --dev-key NAME      a development key of the default genesis (governance,\n"
    "                      reporter1..reporter3, reviewer, alice, bob, carol): dev chains only\n"
    "The key must be an authorized reporter of each feed; a refused report (NotReporter,\n"
    "AlreadyReported, FeedStopped, ...) prints its error and the command exits 1.\n" WRIT_CONN_HELP;

int cmd_feed(const std::vector<std::string>& args) {
  Args a;
  if (!parse_args("feed", args,
                  merge(merge({"--key", "--dev-key", "--price", "--prices"}, kConnOpts), kTxOpts),
                  kConnFlags, a))
    return kExitUsage;
  if (a.help) {
    std::fputs(kFeedHelp, stdout);
    return kExitOk;
  }
  if (!a.pos.empty() || (!a.has("--price") && !a.has("--prices"))) {
    std::fputs(kFeedHelp, stderr);
    return kExitUsage;
  }
  std::vector<contracts::PriceQuote> quotes;
  for (const std::string& p : a.all("--price")) {
    const size_t eq = p.find('=');
    auto feed = contracts::parse_feed(p.substr(0, eq));
    auto price = eq == std::string::npos ? vm::Result<U256>(vm::error_at(0, "expected FEED=PRICE"))
                                         : contracts::parse_price(p.substr(eq + 1));
    if (!feed.ok() || !price.ok()) {
      std::fprintf(stderr, "writ feed: --price %s: %s\n", p.c_str(),
                   (!feed.ok() ? feed.error() : price.error()).message.c_str());
      return kExitUsage;
    }
    quotes.push_back({feed.value(), price.value()});
  }
  if (a.has("--prices")) {
    std::vector<uint8_t> raw;
    std::string err;
    const std::string path = *a.one("--prices");
    if (!read_file(path, raw, err)) {
      std::fprintf(stderr, "writ feed: %s\n", err.c_str());
      return kExitInput;
    }
    auto q = contracts::parse_price_source(std::string(raw.begin(), raw.end()));
    if (!q.ok()) {
      std::fprintf(stderr, "writ feed: %s: %s\n", path.c_str(), q.error().message.c_str());
      return kExitInput;
    }
    quotes.insert(quotes.end(), q->begin(), q->end());
  }
  TxOptions o;
  if (!parse_tx_options("feed", a, o)) return kExitUsage;
  rt::Keypair key;
  if (int e = signing_key("feed", a.one("--key"), a.one("--dev-key"), key)) return e;
  std::unique_ptr<ChainClient> b;
  if (int rc = open_chain_client("feed", access_of(a), b)) return rc;
  ContractBook book;
  book.add_system_contracts();
  int worst = kExitOk;
  for (const contracts::PriceQuote& q : quotes) {
    // The signed transaction the embedding API makes; submit() sets its
    // chain id, nonce and gas, and signs it again.
    rt::Transaction tx = contracts::report_transaction(key, 0, 0, q);
    json rc;
    if (int e = submit("feed", *b, key, tx, o, rc)) return e;
    if (rc.is_null()) continue;
    if (int e = print_receipt_summary(rc, book, {tx.to.to_u256(), selector_of_input(tx.data)}))
      worst = e;
  }
  return worst;
}

int cmd_call(const std::vector<std::string>& args) {
  Args a;
  if (!parse_args("call", args,
                  merge(merge({"--to", "--source", "--contract", "--call", "--arg", "--key",
                               "--dev-key", "--from"},
                              kConnOpts),
                        kTxOpts),
                  kConnFlags, a))
    return kExitUsage;
  if (a.help) {
    std::fputs(kCallHelp, stdout);
    return kExitOk;
  }
  if (!a.pos.empty() || !a.has("--to") || !a.has("--source") || !a.has("--call")) {
    std::fputs(kCallHelp, stderr);
    return kExitUsage;
  }
  const bool signed_call = a.has("--key") || a.has("--dev-key");
  if (signed_call && a.has("--from")) {
    std::fprintf(stderr,
                 "writ call: --from is for read-only calls; a transaction comes from its key\n");
    return kExitUsage;
  }
  if (!signed_call && (a.has("--value") || a.has("--gas-price"))) {
    std::fprintf(stderr,
                 "writ call: --value and --gas-price need --key or --dev-key (a transaction)\n");
    return kExitUsage;
  }
  rt::Address to, from{};
  if (!parse_addr("call", "--to", *a.one("--to"), to)) return kExitUsage;
  if (a.has("--from") && !parse_addr("call", "--from", *a.one("--from"), from)) return kExitUsage;
  TxOptions o;
  if (!parse_tx_options("call", a, o)) return kExitUsage;
  CompileOutput out;
  const ContractOutput* c = nullptr;
  if (int rc = compile_contract("call", *a.one("--source"),
                                a.has("--contract") ? *a.one("--contract") : "", out, c))
    return rc;
  const std::string& name = *a.one("--call");
  const AbiEntry* f = find_fn(*c, name);
  if (!f || f->constructor) {
    std::string names;
    for (const auto& x : c->functions)
      if (!x.constructor) names += (names.empty() ? "" : ", ") + x.name;
    std::fprintf(stderr, "writ call: contract %s has no public function '%s' (public: %s)\n",
                 c->name.c_str(), name.c_str(), names.empty() ? "none" : names.c_str());
    return kExitUsage;
  }
  rt::Bytes input;
  if (!encode_call("call", *f, a.all("--arg"), input)) return kExitUsage;
  rt::Keypair key;
  std::string err;
  if (signed_call)
    if (int e = signing_key("call", a.one("--key"), a.one("--dev-key"), key)) return e;
  std::unique_ptr<ChainClient> b;
  if (int rc = open_chain_client("call", access_of(a), b)) return rc;
  // Every contract of the source decodes: the one called, and any other
  // whose code is at an address the call reached (events, failure chain).
  ContractBook book;
  book.add_compiled(out);
  book.add_system_contracts();
  book.bind(to.to_u256(), book.find_name(c->name));
  const TopCall top{to.to_u256(), f->selector};
  json rc;
  if (signed_call) {
    rt::Transaction tx;
    tx.kind = rt::Transaction::Kind::Call;
    tx.to = to;
    tx.data = input;
    if (int e = submit("call", *b, key, tx, o, rc)) return e;
  } else {
    json req = {{"from", hx(from)}, {"to", hx(to)}, {"data", rt::to_hex(input)}};
    if (o.gas) req["gas"] = *o.gas;
    if (!b->call("writ_call", json::array({req}), rc, err)) {
      std::fprintf(stderr, "writ call: %s\n", err.c_str());
      return kExitInput;
    }
  }
  if (rc.is_object()) bind_by_code(*b, book, addresses_of(rc));
  return print_receipt_summary(rc, book, top);
}

int cmd_balance(const std::vector<std::string>& args) {
  Args a;
  if (!parse_args("balance", args, kConnOpts, kConnFlags, a)) return kExitUsage;
  if (a.help) {
    std::fputs(kBalanceHelp, stdout);
    return kExitOk;
  }
  if (a.pos.size() != 1) {
    std::fputs(kBalanceHelp, stderr);
    return kExitUsage;
  }
  rt::Address addr;
  if (!parse_addr("balance", "address", a.pos[0], addr)) return kExitUsage;
  std::unique_ptr<ChainClient> b;
  if (int rc = open_chain_client("balance", access_of(a), b)) return rc;
  json r;
  std::string err;
  if (!b->call("writ_getBalance", json::array({hx(addr)}), r, err) || !r.is_string()) {
    std::fprintf(stderr, "writ balance: %s\n",
                 err.empty() ? "bad writ_getBalance reply" : err.c_str());
    return kExitInput;
  }
  std::printf("%s\n", r.get<std::string>().c_str());
  return kExitOk;
}

// --abi FILE and --build DIR: the contracts `writ receipt` and `writ logs`
// decode by. Returns 0, or the exit code after printing why.
int load_book(const char* verb, const Args& a, ContractBook& book) {
  std::string err;
  for (const std::string& d : a.all("--build"))
    if (!book.add_build_dir(d, err)) {
      std::fprintf(stderr, "writ %s: --build %s\n", verb, err.c_str());
      return kExitInput;
    }
  for (const std::string& f : a.all("--abi"))
    if (!book.add_abi_file(f, err)) {
      std::fprintf(stderr, "writ %s: --abi %s\n", verb, err.c_str());
      return kExitInput;
    }
  return kExitOk;
}

int cmd_receipt(const std::vector<std::string>& args) {
  Args a;
  if (!parse_args("receipt", args, merge({"--abi", "--build"}, kConnOpts),
                  merge({"--json"}, kConnFlags), a))
    return kExitUsage;
  if (a.help) {
    std::fputs(kReceiptHelp, stdout);
    return kExitOk;
  }
  if (a.pos.size() != 1) {
    std::fputs(kReceiptHelp, stderr);
    return kExitUsage;
  }
  if (!rt::Hash256::from_hex(a.pos[0])) {
    std::fprintf(stderr, "writ receipt: \"%s\" is not a transaction hash (0x + 64 hex digits)\n",
                 a.pos[0].c_str());
    return kExitUsage;
  }
  if (a.has("--json") && (a.has("--abi") || a.has("--build"))) {
    std::fprintf(stderr, "writ receipt: --json prints the raw receipt; --abi and --build decode\n");
    return kExitUsage;
  }
  ContractBook book;
  if (int rc = load_book("receipt", a, book)) return rc;
  book.add_system_contracts();
  std::unique_ptr<ChainClient> b;
  if (int rc = open_chain_client("receipt", access_of(a), b)) return rc;
  json r;
  std::string err;
  if (!b->call("writ_getReceipt", json::array({a.pos[0]}), r, err)) {
    std::fprintf(stderr, "writ receipt: %s\n", err.c_str());
    return kExitInput;
  }
  if (r.is_null()) {
    std::fprintf(stderr, "writ receipt: no receipt for %s\n", a.pos[0].c_str());
    return kExitInput;
  }
  if (a.has("--json")) {
    std::printf("%s\n", r.dump(2, ' ', false, json::error_handler_t::replace).c_str());
    return kExitOk;
  }
  // The transaction says what was called (or deployed): the contract at
  // `to` and the function by its selector.
  json t;
  TopCall top;
  if (b->call("writ_getTransaction", json::array({a.pos[0]}), t, err) && t.is_object()) {
    auto data = rt::from_hex(t.value("data", "0x")).value_or(rt::Bytes{});
    top.selector = selector_of_input(data);
    if (t.value("kind", "") == "call") {
      if (auto to = rt::parse_address_text(t.value("to", ""))) top.address = to->to_u256();
    } else {
      auto from = rt::parse_address_text(t.value("from", ""));
      auto ch = rt::from_hex(t.value("code_hash", ""));
      if (from && ch && ch->size() == 32) {
        // Where the deploy put (or would have put) the contract.
        top.address = rt::contract_address(*from, t.value("nonce", uint64_t{0})).to_u256();
        vm::CodeHash h;
        std::copy(ch->begin(), ch->end(), h.bytes);
        book.bind_code(*top.address, h);
      }
    }
  }
  std::printf("tx: %s\n", a.pos[0].c_str());
  std::printf("block: %llu, index %llu\n",
              static_cast<unsigned long long>(r.value("height", uint64_t{0})),
              static_cast<unsigned long long>(r.value("index", uint64_t{0})));
  if (top.address) {
    std::vector<U256> addrs = addresses_of(r);
    addrs.push_back(*top.address);
    bind_by_code(*b, book, addrs);
    const ContractOutput* c =
        top.selector ? book.for_call(*top.address, *top.selector) : book.at(*top.address);
    const AbiEntry* fn = c && top.selector ? book.function_of(*c, *top.selector) : nullptr;
    char sel[16];
    std::snprintf(sel, sizeof sel, "0x%08x", top.selector.value_or(0));
    const std::string what = !c             ? "unknown contract"
                             : fn           ? c->name + "." + fn->name
                             : top.selector ? c->name + ", selector " + sel
                                            : c->name;
    std::printf("%s: %s at %s\n", t.value("kind", "") == "deploy" ? "deploy" : "call", what.c_str(),
                vm::to_hex_string(*top.address).c_str());
  } else {
    bind_by_code(*b, book, addresses_of(r));
  }
  print_receipt_summary(r, book, top);
  return kExitOk;
}

int cmd_logs(const std::vector<std::string>& args) {
  Args a;
  if (!parse_args("logs", args,
                  merge({"--from", "--to", "--address", "--topic", "--abi", "--build"}, kConnOpts),
                  merge({"--json"}, kConnFlags), a))
    return kExitUsage;
  if (a.help) {
    std::fputs(kLogsHelp, stdout);
    return kExitOk;
  }
  if (!a.pos.empty()) {
    std::fputs(kLogsHelp, stderr);
    return kExitUsage;
  }
  json filter = json::object();
  for (const char* bound : {"--from", "--to"}) {
    if (!a.has(bound)) continue;
    const std::string& v = *a.one(bound);
    uint64_t h = 0;
    if (v == "latest") {
      filter[bound == std::string("--from") ? "from_block" : "to_block"] = "latest";
      continue;
    }
    if (!parse_u64("logs", bound, v, h)) return kExitUsage;
    filter[bound == std::string("--from") ? "from_block" : "to_block"] = h;
  }
  if (a.has("--address")) {
    json addresses = json::array();
    for (const std::string& v : a.all("--address")) {
      rt::Address addr;
      if (!parse_addr("logs", "--address", v, addr)) return kExitUsage;
      addresses.push_back(hx(addr));
    }
    filter["address"] = addresses;
  }
  if (a.has("--topic")) {
    json topics = json::array();
    for (const std::string& v : a.all("--topic")) {
      if (v == "-") {
        topics.push_back(nullptr);
        continue;
      }
      // A topic is a word: an indexed address or number is written as one.
      auto t = rt::parse_address_text(v);
      if (!t) {
        std::fprintf(stderr, "writ logs: --topic %s is not a hash, a number or -\n", v.c_str());
        return kExitUsage;
      }
      topics.push_back(hx(*t));
    }
    filter["topics"] = topics;
  }
  if (a.has("--json") && (a.has("--abi") || a.has("--build"))) {
    std::fprintf(stderr, "writ logs: --json prints the raw logs; --abi and --build decode\n");
    return kExitUsage;
  }
  ContractBook book;
  if (int rc = load_book("logs", a, book)) return rc;
  book.add_system_contracts();
  std::unique_ptr<ChainClient> b;
  if (int rc = open_chain_client("logs", access_of(a), b)) return rc;
  json r;
  std::string err;
  if (!b->call("writ_getLogs", json::array({filter}), r, err)) {
    std::fprintf(stderr, "writ logs: %s\n", err.c_str());
    return kExitInput;
  }
  if (a.has("--json")) {
    std::printf("%s\n", r.dump(2, ' ', false, json::error_handler_t::replace).c_str());
    return kExitOk;
  }
  if (!r.is_array()) throw std::runtime_error("writ_getLogs: expected an array");
  bind_by_code(*b, book, addresses_of(json{{"logs", r}}));
  // One line per log: where it is, then the event decoded (or raw).
  for (const json& l : r) {
    auto addr = rt::parse_address_text(l.value("address", ""));
    auto data = rt::from_hex(l.value("data", "0x")).value_or(rt::Bytes{});
    const ContractOutput* emitter = addr ? book.at(addr->to_u256()) : nullptr;
    std::printf("block %llu tx %s log %llu: ",
                static_cast<unsigned long long>(l.value("height", uint64_t{0})),
                l.value("tx_hash", "").c_str(),
                static_cast<unsigned long long>(l.value("log_index", uint64_t{0})));
    if (auto ev = book.event(emitter, topics_of(l), data)) {
      std::printf("%s from %s%s%s\n", ev->c_str(), emitter ? emitter->name.c_str() : "",
                  emitter ? " at " : "", l.value("address", "").c_str());
    } else {
      std::printf("%s", l.value("address", "").c_str());
      for (const json& t : l.value("topics", json::array()))
        std::printf(" %s", t.get<std::string>().c_str());
      std::printf(" data %s\n", l.value("data", "").c_str());
    }
  }
  if (r.empty()) std::printf("no logs\n");
  return kExitOk;
}

int cmd_proof(const std::vector<std::string>& args) {
  Args a;
  if (!parse_args("proof", args, merge({"--map-key"}, kConnOpts), kConnFlags, a)) return kExitUsage;
  if (a.help) {
    std::fputs(kProofHelp, stdout);
    return kExitOk;
  }
  if (a.pos.empty() || a.pos.size() > 2 || (a.has("--map-key") && a.pos.size() != 2)) {
    std::fputs(kProofHelp, stderr);
    return kExitUsage;
  }
  rt::Address addr;
  if (!parse_addr("proof", "address", a.pos[0], addr)) return kExitUsage;
  json params = json::array({hx(addr)});
  if (a.pos.size() == 2) {
    U256 slot;
    if (!parse_amount("proof", "SLOT", a.pos[1], slot)) return kExitUsage;
    if (a.has("--map-key")) {
      // A map entry lives at sha256(key || base slot) (docs/language.md).
      U256 key;
      if (auto k = rt::parse_address_text(*a.one("--map-key"))) {
        key = k->to_u256();
      } else {
        std::fprintf(stderr, "writ proof: --map-key %s is not a number or an address\n",
                     a.one("--map-key")->c_str());
        return kExitUsage;
      }
      uint8_t buf[64];
      vm::to_be_bytes(key, buf);
      vm::to_be_bytes(slot, buf + 32);
      slot = rt::sha256(std::span<const uint8_t>(buf, 64)).to_u256();
    }
    params.push_back(rt::word_hex(slot));
  }
  std::unique_ptr<ChainClient> b;
  if (int rc = open_chain_client("proof", access_of(a), b)) return rc;
  json p, blk;
  std::string err;
  if (!b->call("writ_getProof", params, p, err)) {
    std::fprintf(stderr, "writ proof: %s\n", err.c_str());
    return kExitInput;
  }
  std::printf("%s\n", p.dump(2, ' ', false, json::error_handler_t::replace).c_str());
  auto ok = rt::verify_proof_json(p.dump());
  if (!ok.ok()) {
    std::fprintf(stderr, "writ proof: %s\n", ok.error().message.c_str());
    std::printf("verified: false (malformed proof)\n");
    return kExitTrap;
  }
  // The root must be the one the chain committed in that block's header.
  uint64_t height = p.value("height", uint64_t{0});
  if (!b->call("writ_getBlock", json::array({height}), blk, err) || !blk.is_object()) {
    std::fprintf(stderr, "writ proof: block %llu: %s\n", static_cast<unsigned long long>(height),
                 err.empty() ? "not found" : err.c_str());
    return kExitInput;
  }
  bool root_matches = blk.value("state_root", "") == p.value("state_root", "");
  bool verified = ok.value() && root_matches;
  std::printf("verified: %s (%s against the state root of block %llu)\n",
              verified ? "true" : "false",
              !root_matches ? "root differs from the header"
              : ok.value()  ? "proof checks"
                            : "proof fails",
              static_cast<unsigned long long>(height));
  return verified ? kExitOk : kExitTrap;
}

struct Verb {
  const char* name;
  int (*run)(const std::vector<std::string>&);
  const char* help;
};
const Verb kVerbs[] = {
    {"node", cmd_node, kNodeHelp},          {"keygen", cmd_keygen, kKeygenHelp},
    {"deploy", cmd_deploy, kDeployHelp},    {"send", cmd_send, kSendHelp},
    {"feed", cmd_feed, kFeedHelp},          {"call", cmd_call, kCallHelp},
    {"balance", cmd_balance, kBalanceHelp}, {"receipt", cmd_receipt, kReceiptHelp},
    {"proof", cmd_proof, kProofHelp},       {"logs", cmd_logs, kLogsHelp},
};

}  // namespace

int cmd_chain(const std::string& verb, const std::vector<std::string>& args) {
  for (const Verb& v : kVerbs) {
    if (verb != v.name) continue;
    try {
      return v.run(args);
    } catch (const std::exception& e) {  // a reply of an unexpected shape
      std::fprintf(stderr, "writ %s: %s\n", v.name, e.what());
      return kExitInput;
    }
  }
  return -1;
}

const char* chain_help(const std::string& verb) {
  for (const Verb& v : kVerbs)
    if (verb == v.name) return v.help;
  return nullptr;
}

}  // namespace writ::cli
