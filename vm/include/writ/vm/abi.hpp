// The call ABI: how arguments and results cross the boundary of an exported
// function (and of a transaction).
//
//   call input  = selector (4 bytes, big-endian) ++ encode(args)
//   encode(vs)  = head ++ tail; the head has one 32-byte word per value:
//                 u64, u256   -> the value, big-endian, zero-padded to 32 bytes
//                 bytes (buf) -> offset of its tail entry from the start of the head
//                 each tail entry = 32-byte big-endian length ++ data, zero-padded
//                 to a multiple of 32 bytes
// Decoding is strict: a u64 word must fit 64 bits, offsets and lengths must lie
// inside the input, and the input must not be shorter than the head.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "writ/vm/module.hpp"
#include "writ/vm/result.hpp"

namespace writ::vm {

struct Value {
  ValType type = ValType::U64;
  U256 word{};                 // u64 (in the low limb) and u256
  std::vector<uint8_t> bytes;  // buf
  static Value u64(uint64_t v) { return Value{ValType::U64, U256::from_u64(v), {}}; }
  static Value u256(const U256& v) { return Value{ValType::U256, v, {}}; }
  static Value buf(std::vector<uint8_t> b) { return Value{ValType::Buf, U256{}, std::move(b)}; }
  bool operator==(const Value&) const = default;
};

std::vector<uint8_t> abi_encode(std::span<const Value> values);
// Checks `data` as abi_decode does, without copying anything: the 32-byte
// words that its buffer arguments take (each length rounded up), or the
// error abi_decode would give. A call's entry charges for its buffers from
// this before they are copied, and a refused input costs its checks only.
Result<uint64_t> abi_check(std::span<const ValType> types, std::span<const uint8_t> data);
// Errors carry the byte offset within `data`.
Result<std::vector<Value>> abi_decode(std::span<const ValType> types,
                                      std::span<const uint8_t> data);
// An argument as abi_decode reads it, a buffer's bytes left where they are.
struct ArgView {
  ValType type = ValType::U64;
  U256 word{};                     // u64 (in the low limb) and u256
  std::span<const uint8_t> bytes;  // buf: within the decoded data
};
// As abi_decode, with the same checks and errors, but copying nothing: a
// call's entry puts each buffer argument straight into the callee's memory.
Result<std::vector<ArgView>> abi_decode_views(std::span<const ValType> types,
                                              std::span<const uint8_t> data);
std::vector<uint8_t> call_input(uint32_t selector, std::span<const Value> args);

// The built-in error CallFailed(callee: address, status: u64): the output that
// xcall/sxcall give the caller when the callee ends in any status but Ok and
// Revert (a trap such as OutOfGas, or a refusal such as Reentrancy or NoCode),
// so that a caller which propagates the failure (an uncaught call) reverts
// with the reason instead of empty data. `status` is the vm::Status number.
// A Revert's own data passes through unchanged, so the innermost reason wins.
inline constexpr std::string_view kCallFailedName = "CallFailed";
uint32_t call_failed_selector();
std::vector<uint8_t> call_failed_data(const U256& callee, uint64_t status);

// Text forms for the command line and JSON output. u64: decimal, 0x-hex or a
// negative decimal (two's complement i64); u256: as parse_u256; buf: 0x-hex
// bytes, or "text" in double quotes for UTF-8 bytes.
Result<Value> parse_value(ValType type, std::string_view text);
std::string format_value(const Value& v);  // u64/u256 decimal, buf 0x-hex

}  // namespace writ::vm
