// Command-line options of the `writ` verbs: `--name VALUE` options, `--flag`
// flags, positional arguments and --help/-h.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace writ::cli {

struct Args {
  std::map<std::string, std::vector<std::string>> opts;  // a flag holds one ""
  std::vector<std::string> pos;
  bool help = false;
  bool has(const std::string& k) const { return opts.count(k) != 0; }
  // The option's last value, or null when it was not given.
  const std::string* one(const std::string& k) const {
    auto it = opts.find(k);
    return it == opts.end() ? nullptr : &it->second.back();
  }
  std::vector<std::string> all(const std::string& k) const {
    auto it = opts.find(k);
    return it == opts.end() ? std::vector<std::string>{} : it->second;
  }
};

// Options in `valued` take one value, those in `flags` none. Prints the
// problem as "writ VERB: ..." and returns false on anything else.
bool parse_args(const char* verb, const std::vector<std::string>& args,
                const std::set<std::string>& valued, const std::set<std::string>& flags, Args& out);

}  // namespace writ::cli
