#include "writ/contracts/feeder.hpp"

#include "writ/contracts/system.hpp"
#include "writ/vm/abi.hpp"

namespace writ::contracts {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

vm::Result<uint64_t> parse_feed(std::string_view text) {
  if (text == "ETH/USD") return kFeedEthUsd;
  if (text == "EUR/USD") return kFeedEurUsd;
  if (text == "USDC/USD") return kFeedUsdcUsd;
  auto n = vm::parse_u256(text);
  if (n && n->fits_u64() && !n->is_zero()) return n->low64();
  return vm::error_at(
      0, "unknown feed '" + std::string(text) + "' (ETH/USD, EUR/USD, USDC/USD, or a feed id)");
}

vm::Result<vm::U256> parse_price(std::string_view text) {
  const std::string s(text);
  const size_t dot = s.find('.');
  const std::string whole = s.substr(0, dot);
  std::string frac = dot == std::string::npos ? "" : s.substr(dot + 1);
  auto digits = [](const std::string& d) {
    for (char c : d)
      if (c < '0' || c > '9') return false;
    return true;
  };
  if (whole.empty() || !digits(whole) || !digits(frac) ||
      (dot != std::string::npos && frac.empty()))
    return vm::error_at(0, "price '" + s + "': expected a decimal number such as 2000.5");
  if (frac.size() > 18)
    return vm::error_at(0, "price '" + s + "': more than 18 decimals (a wad holds 18)");
  if (whole.size() > 19)
    return vm::error_at(0, "price '" + s + "': above the hub's maximum of 10^18");
  frac.append(18 - frac.size(), '0');
  auto v = vm::parse_u256(whole + frac);
  if (!v) return vm::error_at(0, "price '" + s + "': not a number");
  const vm::U256 max = *vm::parse_u256("1000000000000000000000000000000000000");  // 10^36
  if (v->is_zero()) return vm::error_at(0, "price '" + s + "': a price must be positive");
  if (vm::lt(max, *v))
    return vm::error_at(0, "price '" + s + "': above the hub's maximum of 10^18");
  return *v;
}

vm::Result<std::vector<PriceQuote>> parse_price_source(std::string_view text) {
  std::vector<PriceQuote> out;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    const size_t sp = line.find_first_of(" \t");
    const std::string where = "line " + std::to_string(line_no) + ": ";
    if (sp == std::string_view::npos)
      return vm::error_at(0, where + "expected FEED PRICE, e.g. ETH/USD 2000.5");
    auto feed = parse_feed(line.substr(0, sp));
    if (!feed.ok()) return vm::error_at(0, where + feed.error().message);
    auto price = parse_price(trim(line.substr(sp)));
    if (!price.ok()) return vm::error_at(0, where + price.error().message);
    out.push_back({feed.value(), price.value()});
  }
  return out;
}

runtime::Transaction report_transaction(const runtime::Keypair& key, uint64_t chain_id,
                                        uint64_t nonce, const PriceQuote& q, uint64_t gas_limit,
                                        const vm::U256& gas_price) {
  runtime::Transaction t;
  t.kind = runtime::Transaction::Kind::Call;
  t.chain_id = chain_id;
  t.nonce = nonce;
  t.gas_limit = gas_limit;
  t.gas_price = gas_price;
  t.to = runtime::Address::from_u256(vm::U256::from_u64(kOracleHubAddress));
  const std::vector<vm::ValType> types = {vm::ValType::U64, vm::ValType::U256};
  const std::vector<vm::Value> args = {vm::Value::u64(q.feed), vm::Value::u256(q.price)};
  t.data = vm::call_input(vm::selector_of("report", types), args);
  t.sign_with(key);
  return t;
}

}  // namespace writ::contracts
