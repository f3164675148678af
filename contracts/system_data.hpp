// The embedded system contracts, as writ_contracts_gen writes them (internal).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace writ::contracts::detail {

struct Embedded {
  std::string_view name;    // the contract's name in its source
  std::string_view source;  // contracts/<dir>/<file>.writ
  std::span<const uint8_t> module;
  std::string_view abi_json;
  std::string_view debug_json;
};

const std::vector<Embedded>& embedded();

}  // namespace writ::contracts::detail
