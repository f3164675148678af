// A chain's genesis from JSON (parse_genesis_json, contract in chain.hpp):
// every field checked and named in its error, unknown fields refused, and
// module files read from beside the genesis file.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <initializer_list>

#include "json_text.hpp"
#include "writ/runtime/chain.hpp"

namespace writ::runtime {

namespace {

Result<Bytes> parse_hex_bytes(const std::string& s, const std::string& field) {
  std::string_view v = s;
  if (v.size() >= 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) v.remove_prefix(2);
  if (v.size() % 2) return vm::error_at(0, field + ": odd number of hex digits");
  Bytes out;
  for (size_t i = 0; i < v.size(); i += 2) {
    auto nib = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = nib(v[i]), lo = nib(v[i + 1]);
    if (hi < 0 || lo < 0) return vm::error_at(0, field + ": not hex");
    out.push_back(static_cast<uint8_t>(hi * 16 + lo));
  }
  return out;
}

Result<Address> parse_address(const nlohmann::json& j, const std::string& field) {
  if (!j.is_string()) return vm::error_at(0, field + ": expected a 0x-hex address string");
  std::string s = j.get<std::string>();
  if (auto h = Hash256::from_hex(s)) return *h;
  // Short forms (0xB0B) are zero-extended, as the VM reads addresses.
  auto v = vm::parse_u256(s);
  if (!v || s.empty() || s[0] == '-')
    return vm::error_at(0, field + ": invalid address \"" + s + "\"");
  return Hash256::from_u256(*v);
}

Result<U256> parse_amount(const nlohmann::json& j, const std::string& field) {
  std::string s;
  if (j.is_string())
    s = j.get<std::string>();
  else if (j.is_number_unsigned())
    s = std::to_string(j.get<uint64_t>());
  else
    return vm::error_at(0, field + ": expected an amount (a decimal or 0x string)");
  auto v = vm::parse_u256(s);
  if (!v || s.empty() || s[0] == '-')
    return vm::error_at(0, field + ": invalid amount \"" + s + "\"");
  return *v;
}

// A module file for genesis: a regular file no larger than a module may be
// (so a device, a pipe or a huge file is an error, not a hang).
Result<Bytes> read_module_file(const std::filesystem::path& p, const std::string& field) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(p, ec))
    return vm::error_at(
        0, field + ": " + p.string() +
               (std::filesystem::exists(p, ec) ? " is not a regular file" : " does not exist"));
  const auto size = std::filesystem::file_size(p, ec);
  if (ec) return vm::error_at(0, field + ": cannot read " + p.string() + ": " + ec.message());
  if (size > vm::kMaxModuleSize)
    return vm::error_at(0, field + ": " + p.string() + " has " + std::to_string(size) +
                               " bytes, more than a module may (" +
                               std::to_string(vm::kMaxModuleSize) + ")");
  std::ifstream in(p, std::ios::binary);
  Bytes out(static_cast<size_t>(size));
  if (!in || !in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(size)))
    return vm::error_at(0, field + ": cannot read " + p.string());
  return out;
}

Result<Genesis> parse_genesis_fields(nlohmann::json& j, const std::string& base_dir);

}  // namespace

Result<Genesis> parse_genesis_json(std::string_view text, const std::string& base_dir) {
  auto parsed = parse_json_text(text);
  if (!parsed.ok())
    return vm::error_at(parsed.error().offset, "genesis: " + parsed.error().message);
  nlohmann::json j = std::move(parsed.value());
  // The field checks below name what is wrong; this is the net under them.
  try {
    return parse_genesis_fields(j, base_dir);
  } catch (const std::exception& e) {
    return vm::error_at(0, std::string("genesis: ") + e.what());
  }
}

namespace {

// A field the genesis has no use for is refused, named: a misspelt one
// ("balanec") was ignored, and the account got no balance.
std::optional<std::string> unknown_field(const nlohmann::json& o,
                                         std::initializer_list<std::string_view> known,
                                         const std::string& where) {
  for (const auto& [key, value] : o.items())
    if (std::find(known.begin(), known.end(), key) == known.end())
      return where + key + ": no such field (the fields are " + [&] {
        std::string list;
        for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        return list;
      }() + ")";
  return std::nullopt;
}

Result<Genesis> parse_genesis_fields(nlohmann::json& j, const std::string& base_dir) {
  if (!j.is_object()) return vm::error_at(0, "genesis: expected a JSON object");
  if (auto u = unknown_field(j,
                             {"chain_id", "timestamp", "min_gas_price", "risk_engine",
                              "payment_holds", "accounts", "contracts", "calls"},
                             "genesis field "))
    return vm::error_at(0, *u);
  Genesis g;
  if (!j.contains("chain_id") || !j["chain_id"].is_number_unsigned())
    return vm::error_at(0, "genesis field chain_id: expected an unsigned integer");
  g.chain_id = j["chain_id"].get<uint64_t>();
  if (j.contains("timestamp")) {
    if (!j["timestamp"].is_number_unsigned())
      return vm::error_at(0, "genesis field timestamp: expected seconds");
    g.timestamp = j["timestamp"].get<uint64_t>();
  }
  if (j.contains("min_gas_price")) {
    auto price = parse_amount(j["min_gas_price"], "genesis field min_gas_price");
    if (!price.ok()) return price.error();
    if (price->is_zero())
      return vm::error_at(0,
                          "genesis field min_gas_price: must be at least 1 (a zero price lets "
                          "anyone fill blocks for free)");
    g.min_gas_price = price.value();
  }
  if (j.contains("accounts")) {
    if (!j["accounts"].is_array())
      return vm::error_at(0, "genesis field accounts: expected an array");
    size_t i = 0;
    for (const auto& a : j["accounts"]) {
      std::string f = "genesis field accounts[" + std::to_string(i++) + "]";
      if (!a.is_object()) return vm::error_at(0, f + ": expected an object");
      if (auto u = unknown_field(a, {"address", "balance"}, f + ".")) return vm::error_at(0, *u);
      auto addr = parse_address(a.value("address", nlohmann::json()), f + ".address");
      if (!addr.ok()) return addr.error();
      auto bal = parse_amount(a.value("balance", nlohmann::json("0")), f + ".balance");
      if (!bal.ok()) return bal.error();
      g.accounts.push_back({addr.value(), bal.value()});
    }
  }
  if (j.contains("contracts")) {
    if (!j["contracts"].is_array())
      return vm::error_at(0, "genesis field contracts: expected an array");
    size_t i = 0;
    for (const auto& c : j["contracts"]) {
      std::string f = "genesis field contracts[" + std::to_string(i++) + "]";
      if (!c.is_object()) return vm::error_at(0, f + ": expected an object");
      if (auto u = unknown_field(c, {"address", "code", "code_file", "init", "balance"}, f + "."))
        return vm::error_at(0, *u);
      GenesisContract gc;
      auto addr = parse_address(c.value("address", nlohmann::json()), f + ".address");
      if (!addr.ok()) return addr.error();
      gc.address = addr.value();
      if (c.contains("code_file")) {
        if (!c["code_file"].is_string())
          return vm::error_at(0, f + ".code_file: expected a path (a string)");
        auto code = read_module_file(
            std::filesystem::path(base_dir) / c["code_file"].get<std::string>(), f + ".code_file");
        if (!code.ok()) return code.error();
        gc.code = std::move(code.value());
      } else if (c.contains("code")) {
        if (!c["code"].is_string())
          return vm::error_at(0, f + ".code: expected module bytes as a 0x-hex string");
        auto b = parse_hex_bytes(c["code"].get<std::string>(), f + ".code");
        if (!b.ok()) return b.error();
        gc.code = b.value();
      } else {
        return vm::error_at(0, f + ": needs code (0x-hex) or code_file (a .wbc path)");
      }
      if (c.contains("init")) {
        if (!c["init"].is_string())
          return vm::error_at(0, f + ".init: expected constructor input as a 0x-hex string");
        auto b = parse_hex_bytes(c["init"].get<std::string>(), f + ".init");
        if (!b.ok()) return b.error();
        gc.init_input = b.value();
      }
      if (c.contains("balance")) {
        auto bal = parse_amount(c["balance"], f + ".balance");
        if (!bal.ok()) return bal.error();
        gc.balance = bal.value();
      }
      g.contracts.push_back(std::move(gc));
    }
  }
  for (const char* field : {"risk_engine", "payment_holds"}) {
    if (!j.contains(field)) continue;
    auto a = parse_address(j[field], std::string("genesis field ") + field);
    if (!a.ok()) return a.error();
    (std::string(field) == "risk_engine" ? g.risk_engine : g.payment_holds) = a.value();
  }
  if (g.risk_engine.is_zero() != g.payment_holds.is_zero())
    return vm::error_at(0, "genesis fields risk_engine and payment_holds go together");
  if (j.contains("calls")) {
    if (!j["calls"].is_array()) return vm::error_at(0, "genesis field calls: expected an array");
    size_t i = 0;
    for (const auto& c : j["calls"]) {
      std::string f = "genesis field calls[" + std::to_string(i++) + "]";
      if (!c.is_object()) return vm::error_at(0, f + ": expected an object");
      if (auto u = unknown_field(c, {"from", "to", "input"}, f + ".")) return vm::error_at(0, *u);
      GenesisCall gc;
      auto from = parse_address(c.value("from", nlohmann::json()), f + ".from");
      if (!from.ok()) return from.error();
      auto to = parse_address(c.value("to", nlohmann::json()), f + ".to");
      if (!to.ok()) return to.error();
      if (!c.contains("input") || !c["input"].is_string())
        return vm::error_at(
            0, f + ".input: expected call input (selector + arguments) as a 0x-hex string");
      auto b = parse_hex_bytes(c["input"].get<std::string>(), f + ".input");
      if (!b.ok()) return b.error();
      gc.from = from.value();
      gc.to = to.value();
      gc.input = b.value();
      g.calls.push_back(std::move(gc));
    }
  }
  return g;
}

}  // namespace

}  // namespace writ::runtime
