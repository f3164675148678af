#include "args.hpp"

#include <cstdio>

namespace writ::cli {

bool parse_args(const char* verb, const std::vector<std::string>& args,
                const std::set<std::string>& valued, const std::set<std::string>& flags,
                Args& out) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      out.help = true;
    } else if (valued.count(a)) {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "writ %s: %s needs a value\n", verb, a.c_str());
        return false;
      }
      out.opts[a].push_back(args[++i]);
    } else if (flags.count(a)) {
      out.opts[a].push_back("");
    } else if (a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr, "writ %s: unknown option %s\n", verb, a.c_str());
      return false;
    } else {
      out.pos.push_back(a);
    }
  }
  return true;
}

}  // namespace writ::cli
