// The `writ` command's verbs and the helpers they share.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "writ/compiler/compiler.hpp"
#include "writ/vm/module.hpp"

namespace writ::cli {

// Exit codes every verb keeps to (documented in `writ help`).
constexpr int kExitOk = 0;
constexpr int kExitTrap = 1;   // the call ran and reverted or trapped
constexpr int kExitUsage = 2;  // unknown verb or option, missing argument
constexpr int kExitInput = 3;  // unreadable file, compile/assembly error, bad module

bool read_file(const std::string& path, std::vector<uint8_t>& out, std::string& err);
// Writes the file whole; false with "PATH: cannot write".
bool write_file(const std::filesystem::path& p, const void* data, size_t n, std::string& err);
inline bool write_file_text(const std::filesystem::path& p, const std::string& text,
                            std::string& err) {
  return write_file(p, text.data(), text.size(), err);
}
// For the long-running verbs (node, abci): SIGINT and SIGTERM call `handler`
// (which only asks the servers to stop), and a closed socket's SIGPIPE is
// ignored so a write to it fails with EPIPE instead of ending the process.
void install_stop_signals(void (*handler)(int));
bool ends_with(const std::string& s, const char* suffix);
std::string json_escape(const std::string& s);
std::string hex(std::span<const uint8_t> b);
// Revert data decoded against the module's errors: "Name(field, ...)".
std::string describe_revert(const vm::Module& m, const std::vector<uint8_t>& data);

// cmd_chain.cpp: node, keygen, deploy, send, call, balance, receipt, proof.
// cmd_chain returns -1 and chain_help nullptr for any other verb.
int cmd_chain(const std::string& verb, const std::vector<std::string>& args);
const char* chain_help(const std::string& verb);
int cmd_build(const std::vector<std::string>& args);
// Writes NAME.wbc, NAME.abi.json and NAME.debug.json of a compiled contract
// into `dir` and prints its size and functions (writ build).
bool emit_contract(const compiler::ContractOutput& c, const std::filesystem::path& dir,
                   std::string& err);
// cmd_test.cpp, project.cpp: projects and tests written in Writ (docs/testing.md).
int cmd_test(const std::vector<std::string>& args);
extern const char* kTestHelp;
int cmd_init(const std::vector<std::string>& args);
// cmd_debug.cpp: the debugger over a recorded trace (docs/debugger.md).
int cmd_debug(const std::vector<std::string>& args);
extern const char* kAbciHelp;
int cmd_abci(const std::vector<std::string>& args);
extern const char* kLoadHelp;
int cmd_load(const std::vector<std::string>& args);
extern const char* kDebugHelp;
extern const char* kInitHelp;
int cmd_demo(const std::vector<std::string>& args);
extern const char* kDemoHelp;
int cmd_run(const std::vector<std::string>& args);
int cmd_genesis(const std::vector<std::string>& args);
extern const char* kGenesisHelp;
extern const char* kBuildHelp;
extern const char* kRunHelp;
// cmd_risk.cpp: gen, train, eval, install (docs/contracts/risk.md).
int cmd_risk(const std::vector<std::string>& args);
extern const char* kRiskHelp;

}  // namespace writ::cli
