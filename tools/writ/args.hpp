// Command-line options of the `writ` verbs: `--name VALUE` options, `--flag`
// flags, positional arguments and --help/-h.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace writ::cli {

struct Args {
  std::map<std::string, std::vector<std::string>> opts;  // a flag holds one ""
  std::vector<std::string> pos;
  std::vector<std::string> order;  // the options' names, as given
  bool help = false;
  bool has(const std::string& k) const { return opts.count(k) != 0; }
  // The option's last value, or null when it was not given.
  const std::string* one(const std::string& k) const {
    auto it = opts.find(k);
    return it == opts.end() ? nullptr : &it->second.back();
  }
  // Of the options `names`, the one given last, or null when none was.
  const std::string* last_of(const std::set<std::string>& names) const {
    for (auto it = order.rbegin(); it != order.rend(); ++it)
      if (names.count(*it)) return &*it;
    return nullptr;
  }
  std::vector<std::string> all(const std::string& k) const {
    auto it = opts.find(k);
    return it == opts.end() ? std::vector<std::string>{} : it->second;
  }
};

// An option whose value may be left out: it takes the next argument when
// `accepts` does (else it holds "", as a flag).
struct OptionalValue {
  std::string name;
  bool (*accepts)(const std::string& next);
};

// Options in `valued` take one value, those in `flags` none, those in
// `optional` one when there is one. Prints the problem as "writ VERB: ..."
// and returns false on anything else.
bool parse_args(const char* verb, const std::vector<std::string>& args,
                const std::set<std::string>& valued, const std::set<std::string>& flags, Args& out,
                const std::vector<OptionalValue>& optional = {});

// A whole number from lo to hi in decimal or 0x-hex: else prints
// "writ VERB: OPT TEXT is not a whole number from LO to HI" and returns false.
bool parse_count(const char* verb, const char* opt, const std::string& text, uint64_t lo,
                 uint64_t hi, uint64_t& out);

// A call's gas limit: a whole number from lo up to the block gas limit (a
// call can never use more than a block; a larger limit would only let a
// loop grow host memory, journal and logs, without bound).
bool parse_gas(const char* verb, const std::string& text, uint64_t lo, uint64_t& out);

}  // namespace writ::cli
