#include "writ/vm/abi.hpp"

#include <cstring>

namespace writ::vm {
namespace {

void put_word(std::vector<uint8_t>& out, size_t at, const U256& w) {
  to_be_bytes(w, out.data() + at);
}

size_t padded(size_t n) {
  return (n + 31) / 32 * 32;
}

}  // namespace

std::vector<uint8_t> abi_encode(std::span<const Value> values) {
  size_t head = 32 * values.size();
  size_t total = head;
  for (const Value& v : values)
    if (v.type == ValType::Buf) total += 32 + padded(v.bytes.size());
  std::vector<uint8_t> out(total, 0);
  size_t tail = head;
  for (size_t i = 0; i < values.size(); ++i) {
    const Value& v = values[i];
    if (v.type == ValType::Buf) {
      put_word(out, 32 * i, U256::from_u64(tail));
      put_word(out, tail, U256::from_u64(v.bytes.size()));
      if (!v.bytes.empty()) std::memcpy(out.data() + tail + 32, v.bytes.data(), v.bytes.size());
      tail += 32 + padded(v.bytes.size());
    } else {
      put_word(out, 32 * i, v.word);
    }
  }
  return out;
}

std::vector<uint8_t> call_input(uint32_t selector, std::span<const Value> args) {
  std::vector<uint8_t> out = {uint8_t(selector >> 24), uint8_t(selector >> 16),
                              uint8_t(selector >> 8), uint8_t(selector)};
  auto body = abi_encode(args);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

uint32_t call_failed_selector() {
  static const uint32_t kSelector = [] {
    const ValType fields[] = {ValType::U256, ValType::U64};
    return selector_of(kCallFailedName, fields);
  }();
  return kSelector;
}

std::vector<uint8_t> call_failed_data(const U256& callee, uint64_t status) {
  const Value fields[] = {Value::u256(callee), Value::u64(status)};
  return call_input(call_failed_selector(), fields);
}

namespace {

// One pass over the arguments: every check abi_decode makes; the values
// only when `out` is given (views of the data: nothing is copied). Returns
// the buffers' 32-byte words.
Result<uint64_t> decode_args(std::span<const ValType> types, std::span<const uint8_t> data,
                             std::vector<ArgView>* out) {
  size_t head = 32 * types.size();
  if (data.size() < head)
    return error_at(data.size(), "input has " + std::to_string(data.size()) + " bytes, the " +
                                     std::to_string(types.size()) + " arguments need at least " +
                                     std::to_string(head));
  uint64_t words = 0;
  for (size_t i = 0; i < types.size(); ++i) {
    U256 w = from_be_bytes(data.data() + 32 * i);
    switch (types[i]) {
      case ValType::U64:
        if (!w.fits_u64())
          return error_at(32 * i, "argument " + std::to_string(i) + " does not fit u64");
        if (out) out->push_back({ValType::U64, U256::from_u64(w.low64()), {}});
        break;
      case ValType::U256:
        if (out) out->push_back({ValType::U256, w, {}});
        break;
      case ValType::Buf: {
        if (!w.fits_u64() || w.low64() > data.size() - 32 || data.size() < 32)
          return error_at(32 * i, "argument " + std::to_string(i) + ": bytes offset out of range");
        size_t off = w.low64();
        U256 lw = from_be_bytes(data.data() + off);
        if (!lw.fits_u64() || lw.low64() > data.size() - off - 32)
          return error_at(off, "argument " + std::to_string(i) + ": bytes length out of range");
        words += (lw.low64() + 31) / 32;
        if (out) out->push_back({ValType::Buf, U256{}, data.subspan(off + 32, lw.low64())});
        break;
      }
    }
  }
  return words;
}

}  // namespace

Result<uint64_t> abi_check(std::span<const ValType> types, std::span<const uint8_t> data) {
  return decode_args(types, data, nullptr);
}

Result<std::vector<ArgView>> abi_decode_views(std::span<const ValType> types,
                                              std::span<const uint8_t> data) {
  // One pass: views copy nothing, so nothing is wasted on an argument
  // refused after others were read.
  std::vector<ArgView> out;
  out.reserve(types.size());
  if (auto r = decode_args(types, data, &out); !r.ok()) return r.error();
  return out;
}

Result<std::vector<Value>> abi_decode(std::span<const ValType> types,
                                      std::span<const uint8_t> data) {
  auto views = abi_decode_views(types, data);
  if (!views.ok()) return views.error();
  std::vector<Value> out;
  out.reserve(views->size());
  for (const ArgView& v : *views)
    out.push_back(v.type == ValType::Buf ? Value::buf({v.bytes.begin(), v.bytes.end()})
                                         : Value{v.type, v.word, {}});
  return out;
}

Result<Value> parse_value(ValType type, std::string_view text) {
  auto bad = [&](const std::string& why) {
    return error_at(
        0, "bad " + std::string(type_name(type)) + " value \"" + std::string(text) + "\": " + why);
  };
  if (type == ValType::Buf) {
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
      auto s = text.substr(1, text.size() - 2);
      return Value::buf({s.begin(), s.end()});
    }
    if (text.size() < 2 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
      return bad("expected 0x-prefixed hex bytes or \"text\"");
    auto hex = text.substr(2);
    if (hex.size() % 2) return bad("odd number of hex digits");
    std::vector<uint8_t> b;
    for (size_t i = 0; i < hex.size(); i += 2) {
      auto nib = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
      };
      int hi = nib(hex[i]), lo = nib(hex[i + 1]);
      if (hi < 0 || lo < 0) return bad("not a hex digit");
      b.push_back(static_cast<uint8_t>(hi * 16 + lo));
    }
    return Value::buf(std::move(b));
  }
  auto w = parse_u256(text);
  if (!w) return bad("not a number in range");
  if (type == ValType::U256) return Value::u256(*w);
  bool negative = !text.empty() && text[0] == '-';
  if (negative) {
    // Two's complement i64: the 256-bit value must sign-extend from 64 bits.
    if (!w->is_zero() &&  // -0 is 0
        !(w->limb[1] == ~0ull && w->limb[2] == ~0ull && w->limb[3] == ~0ull && (w->limb[0] >> 63)))
      return bad("below the i64 range");
    return Value::u64(w->limb[0]);
  }
  if (!w->fits_u64()) return bad("exceeds u64");
  return Value::u64(w->low64());
}

std::string format_value(const Value& v) {
  if (v.type == ValType::Buf) {
    static const char* kHex = "0123456789abcdef";
    std::string s = "0x";
    for (uint8_t b : v.bytes) {
      s += kHex[b >> 4];
      s += kHex[b & 15];
    }
    return s;
  }
  return to_dec_string(v.word);
}

}  // namespace writ::vm
