// Payment streams: the CSV files `writ risk` reads and writes, and how their
// account identifiers become chain addresses.
//
//   time,from,to,amount,label
//   1699920000,c00001,m0003,12.5,0
//
// Contract (docs/contracts/risk.md, "Payment streams"):
//   1. The first line is a header naming the columns; `time`, `from`, `to` and
//      `amount` must be there, `label` may be; they may come in any order and
//      other columns are ignored. Every later non-blank line has as many
//      fields as the header (no quoting: a field never holds a comma).
//   2. time: whole seconds (u64), never less than the line before's.
//      from, to: account identifiers, any text without commas or quotes, not
//      empty. amount: whole currency units, a decimal with at most 18
//      decimals (base units = units x 10^18), below 2^256 base units.
//      label: 1 fraud, 0 legitimate, or empty (or no column) for unlabeled.
//   3. Errors name the file and the 1-based line: "data.csv:12: amount ...".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "writ/runtime/types.hpp"

namespace writ::cli::risk {

struct Payment {
  uint64_t time = 0;  // seconds
  std::string from, to;
  vm::U256 amount{};  // base units: whole units x 10^18
  int8_t label = -1;  // 1 fraud, 0 legitimate, -1 unlabeled
  size_t line = 0;    // 1-based line of the file, for errors
};

struct Stream {
  std::string name;  // the file, as errors name it
  std::vector<Payment> payments;
  size_t fraud = 0, unlabeled = 0;
};

// Parses CSV text (contract above). False with `err` set ("NAME:LINE: why").
bool parse_stream(std::string_view text, const std::string& name, Stream& out, std::string& err);

// Base units of a decimal amount in whole units ("12.5" -> 12.5 x 10^18).
// False with `why` set for anything but digits with at most 18 decimals.
bool parse_units(std::string_view text, vm::U256& out, std::string& why);
// The shortest decimal in whole units: 12500000000000000000 -> "12.5".
std::string format_units(const vm::U256& base_units);

// An identifier's chain address: SHA-256 of its bytes. Deterministic, so a
// stream replays to the same state everywhere.
runtime::Address account_address(std::string_view id);

}  // namespace writ::cli::risk
