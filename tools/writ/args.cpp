#include "args.hpp"

#include <cstdio>
#include <optional>

#include "writ/runtime/chain.hpp"
#include "writ/vm/u256.hpp"

namespace writ::cli {

bool parse_args(const char* verb, const std::vector<std::string>& args,
                const std::set<std::string>& valued, const std::set<std::string>& flags, Args& out,
                const std::vector<OptionalValue>& optional) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const OptionalValue* opt = nullptr;
    for (const OptionalValue& o : optional)
      if (o.name == a) opt = &o;
    if (a == "--help" || a == "-h") {
      out.help = true;
    } else if (opt) {
      out.opts[a].push_back(i + 1 < args.size() && opt->accepts(args[i + 1]) ? args[++i] : "");
      out.order.push_back(a);
    } else if (valued.count(a)) {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "writ %s: %s needs a value\n", verb, a.c_str());
        return false;
      }
      out.opts[a].push_back(args[++i]);
      out.order.push_back(a);
    } else if (flags.count(a)) {
      out.opts[a].push_back("");
      out.order.push_back(a);
    } else if (a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr, "writ %s: unknown option %s\n", verb, a.c_str());
      return false;
    } else {
      out.pos.push_back(a);
    }
  }
  return true;
}

namespace {

// A decimal or 0x-hex number from lo to hi, or nothing.
std::optional<uint64_t> read_number(const std::string& text, uint64_t lo, uint64_t hi) {
  auto v = text.empty() || text[0] == '-' || text.size() > 66 ? std::nullopt : vm::parse_u256(text);
  if (!v || !v->fits_u64() || v->low64() < lo || v->low64() > hi) return std::nullopt;
  return v->low64();
}

}  // namespace

bool parse_count(const char* verb, const char* opt, const std::string& text, uint64_t lo,
                 uint64_t hi, uint64_t& out) {
  auto v = read_number(text, lo, hi);
  if (!v) {
    std::fprintf(stderr, "writ %s: %s %s is not a whole number from %llu to %llu\n", verb, opt,
                 text.c_str(), static_cast<unsigned long long>(lo),
                 static_cast<unsigned long long>(hi));
    return false;
  }
  out = *v;
  return true;
}

bool parse_gas(const char* verb, const std::string& text, uint64_t lo, uint64_t& out) {
  auto v = read_number(text, lo, runtime::kBlockGasLimit);
  if (!v) {
    std::fprintf(stderr, "writ %s: --gas %s is not a gas amount from %llu to %llu (a block)\n",
                 verb, text.c_str(), static_cast<unsigned long long>(lo),
                 static_cast<unsigned long long>(runtime::kBlockGasLimit));
    return false;
  }
  out = *v;
  return true;
}

}  // namespace writ::cli
