// writ genesis: the system contracts' default genesis (contracts/).
#include <cstdio>
#include <fstream>

#include "commands.hpp"
#include "writ/contracts/system.hpp"

namespace writ::cli {

const char* kGenesisHelp =
    "usage: writ genesis [-o FILE]\n"
    "Prints the default genesis as JSON (docs/runtime.md, \"Genesis\"; docs/contracts/README.md):\n"
    "the development keys funded, the system contracts at their fixed addresses, and\n"
    "the genesis calls that configure them (the oracle hub's feeds and reporters).\n"
    "`writ node --init` without --genesis creates this chain. The development keys\n"
    "are derived from public seeds: a real chain starts from this file and replaces\n"
    "its keys and parameters.\n"
    "  -o FILE    write to FILE instead of standard output\n";

int cmd_genesis(const std::vector<std::string>& args) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::fputs(kGenesisHelp, stdout);
      return kExitOk;
    }
    if (args[i] == "-o" && i + 1 < args.size()) {
      out = args[++i];
      continue;
    }
    std::fprintf(stderr, "writ genesis: unexpected argument '%s'\n%s", args[i].c_str(),
                 kGenesisHelp);
    return kExitUsage;
  }
  const std::string json = contracts::default_genesis_json();
  if (out.empty()) {
    std::fputs(json.c_str(), stdout);
    return kExitOk;
  }
  std::ofstream f(out, std::ios::binary);
  f << json;
  if (!f) {
    std::fprintf(stderr, "writ genesis: cannot write %s\n", out.c_str());
    return kExitInput;
  }
  return kExitOk;
}

}  // namespace writ::cli
