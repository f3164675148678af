// Values as contract authors write and read them: parsing command-line
// arguments and formatting results, events and reverts by their Writ types
// (wad as 1.5, bool as true, address as 0x-hex), using a contract's ABI.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "writ/compiler/compiler.hpp"
#include "writ/vm/abi.hpp"

namespace writ::compiler {

// Parses `text` as a value of parameter `p`, appending its VM values to `out`.
bool parse_arg(const AbiParam& p, const std::string& text, std::vector<vm::Value>& out,
               std::string& err);
// Formats the `count` VM values at vals[i..] as Writ type `type`; advances i.
std::string format_typed(const std::string& type, const std::vector<vm::Value>& vals, size_t& i,
                         size_t count);
// "name: value, ..." (names optional).
// Formats one value described by `p`, consuming its flat values from `vals`
// at `i`: a struct as {field: value, ...}, an enum as Name::Variant, the rest
// as format_typed.
std::string format_param(const AbiParam& p, const std::vector<vm::Value>& vals, size_t& i);
std::string format_fields(const std::vector<AbiParam>& ps, const std::vector<vm::Value>& vals,
                          bool names);
// The VM value types of parameters, optionally only the indexed or only the data ones.
std::vector<vm::ValType> flat_of(const std::vector<AbiParam>& ps, bool only_indexed,
                                 bool only_data);
// "Name(field: value, ...)" for revert data of one of the contract's errors, else "data 0x..".
std::string decode_revert(const ContractOutput& c, const std::vector<uint8_t>& data);
// "Name(field: value, ...)" for a log of one of the contract's events.
std::string decode_log(const ContractOutput& c, std::span<const vm::U256> topics,
                       std::span<const uint8_t> data);
std::string format_fixed_point(const vm::U256& raw, unsigned decimals);
// N for a signed integer type iN (i64, i128, i256): its values are the two's
// complement of N bits. 0 for any other type.
unsigned signed_bits(const std::string& type);

}  // namespace writ::compiler
