#include "writ/compiler/abi_format.hpp"

#include <algorithm>
#include <cctype>

#include "writ/vm/host.hpp"

namespace writ::compiler {

using namespace writ::vm;

namespace {

// Decimals of a fixed-point Writ type name (wad, ray, dec<N>), else 0.
unsigned fixed_decimals(std::string t) {
  if (t == "wad") return 18;
  if (t == "ray") return 27;
  // amount<EUR, dec<2>>, price<EUR/USD, dec<18>>: the scale after the comma.
  if ((t.rfind("amount<", 0) == 0 || t.rfind("price<", 0) == 0) && t.size() > 2) {
    size_t comma = t.rfind(", ");
    if (comma == std::string::npos) return 0;
    t = t.substr(comma + 2, t.size() - comma - 3);
  }
  if (t.size() > 5 && t.rfind("dec<", 0) == 0 && t.back() == '>') {
    unsigned n = 0;
    for (size_t i = 4; i + 1 < t.size(); ++i) {
      if (t[i] < '0' || t[i] > '9' || n > 1000) return 0;
      n = n * 10 + static_cast<unsigned>(t[i] - '0');
    }
    return n;
  }
  return 0;
}

// Writ scalar types that live in a 64-bit VM value (vector elements of these
// are 8 bytes, little-endian; the others 32 bytes, big-endian).
bool is_small_type(const std::string& t) {
  return t == "bool" || t == "u8" || t == "u16" || t == "u32" || t == "u64" || t == "i64" ||
         t == "timestamp" || t == "duration";
}

// "[a, b, c]" to its elements (no nesting: elements are scalars).
bool split_list(const std::string& text, std::vector<std::string>& items) {
  if (text.size() < 2 || text.front() != '[' || text.back() != ']') return false;
  std::string body = text.substr(1, text.size() - 2), cur;
  auto flush = [&] {
    size_t b = cur.find_first_not_of(" \t"), e = cur.find_last_not_of(" \t");
    items.push_back(b == std::string::npos ? "" : cur.substr(b, e - b + 1));
    cur.clear();
  };
  if (body.find_first_not_of(" \t") == std::string::npos) return true;  // []
  for (char c : body) {
    if (c == ',')
      flush();
    else
      cur += c;
  }
  flush();
  return true;
}

// Whether every '_' in `t` stands between two digits.
bool underscores_between_digits(const std::string& t) {
  const auto digit = [&](size_t i) { return i < t.size() && t[i] >= '0' && t[i] <= '9'; };
  for (size_t i = 0; i < t.size(); ++i)
    if (t[i] == '_' && (i == 0 || !digit(i - 1) || !digit(i + 1))) return false;
  return true;
}

}  // namespace

// Parses a command-line value as Writ type `type` occupying VM values `flat`.
bool parse_arg(const AbiParam& p, const std::string& text, std::vector<Value>& out,
               std::string& err) {
  // vec<T> and [T; N]: "[100, 200]", encoded as the VM expects (docs/language.md).
  const bool is_vec = p.type.rfind("vec<", 0) == 0 && p.type.back() == '>';
  const bool is_array = p.type.size() > 2 && p.type.front() == '[' && p.type.back() == ']';
  if ((is_vec || is_array) && p.flat.size() == 1 && p.flat[0] == ValType::Buf &&
      !(text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))) {
    std::string elem = is_vec ? p.type.substr(4, p.type.size() - 5) : p.type.substr(1);
    uint64_t want_len = 0;
    if (is_array) {
      size_t semi = elem.rfind(';');
      if (semi == std::string::npos)
        return (err = "parameter " + p.name + ": bad type " + p.type), false;
      want_len = std::stoull(elem.substr(semi + 1, elem.size() - semi - 2));
      elem = elem.substr(0, semi);
    }
    std::vector<std::string> items;
    if (!split_list(text, items)) {
      err = "parameter " + p.name + " (" + p.type +
            "): expected a list such as [100, 200], or 0x bytes";
      return false;
    }
    if (is_array && items.size() != want_len) {
      err = "parameter " + p.name + " (" + p.type + "): expected " + std::to_string(want_len) +
            " elements, got " + std::to_string(items.size());
      return false;
    }
    const bool small = is_small_type(elem);
    AbiParam ep;
    ep.type = elem;
    ep.flat = {small ? ValType::U64 : ValType::U256};
    std::vector<uint8_t> bytes;
    for (size_t i = 0; i < items.size(); ++i) {
      std::vector<Value> one;
      ep.name = p.name + "[" + std::to_string(i) + "]";
      if (!parse_arg(ep, items[i], one, err)) return false;
      if (small) {
        uint64_t v = one[0].word.low64();
        for (int b = 0; b < 8; ++b) bytes.push_back(static_cast<uint8_t>(v >> (8 * b)));
      } else {
        uint8_t be[32];
        to_be_bytes(one[0].word, be);
        bytes.insert(bytes.end(), be, be + 32);
      }
    }
    out.push_back(Value::buf(std::move(bytes)));
    return true;
  }
  if (p.flat.size() != 1) {
    err = "parameter " + p.name + " of type " + p.type + " cannot be given on the command line";
    return false;
  }
  ValType vt = p.flat[0];
  std::string t = text;
  // A minus sign is for the signed types only: on an unsigned one the VM's
  // two's complement would turn -1 into the largest value (an amount of
  // 2^256 - 1, an allowance without limit).
  const bool is_signed = signed_bits(p.type) != 0;
  const auto negative = [&](const std::string& s) {
    if (is_signed || s.empty() || s[0] != '-') return false;
    err = "parameter " + p.name + " (" + p.type + "): " + text + " is negative, and " + p.type +
          " is unsigned";
    return true;
  };
  if (negative(t)) return false;
  if (p.type == "bool") {
    if (t == "true")
      t = "1";
    else if (t == "false")
      t = "0";
    else {
      err = "parameter " + p.name + ": expected true or false, got " + text;
      return false;
    }
  } else if (fixed_decimals(p.type) && t.rfind("raw:", 0) == 0) {
    t = t.substr(4);  // raw units (10^-decimals each), as written
    if (negative(t)) return false;
  } else if (unsigned dec = fixed_decimals(p.type)) {
    // As a literal in source (docs/language.md, §1): digits on both sides of
    // the point, '_' only between two digits, and decimals past the type's
    // only if they are zeros (the value must be exact).
    if (!underscores_between_digits(t)) {
      err = "parameter " + p.name + " (" + p.type + "): " + text +
            ": '_' stands between two digits, as in 1_000.5";
      return false;
    }
    t.erase(std::remove(t.begin(), t.end(), '_'), t.end());
    size_t dot = t.find('.');
    const auto digits = [](const std::string& d) {
      return std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (t.empty() || !digits(t.substr(0, dot)) ||
        (dot != std::string::npos && !digits(t.substr(dot + 1))) || t == ".") {
      err = "parameter " + p.name + " (" + p.type + "): " + text +
            " is not a decimal number (write 1.5, or raw:N for N raw units of 10^-" +
            std::to_string(dec) + ")";
      return false;
    }
    // A bare integer is refused: 5 could mean five or five raw units, and
    // guessing wrong scales an amount by 10^18 or 10^27.
    if (dot == std::string::npos) {
      err = "parameter " + p.name + " (" + p.type + "): write " + text + ".0 for " + text +
            ", or raw:" + text + " for " + text + " raw units of 10^-" + std::to_string(dec);
      return false;
    }
    std::string ip = t.substr(0, dot), fp = dot == std::string::npos ? "" : t.substr(dot + 1);
    if (ip.empty() || fp.empty()) {
      err = "parameter " + p.name + " (" + p.type + "): write " + (ip.empty() ? "0" : ip) + "." +
            (fp.empty() ? "0" : fp) + ", with digits on both sides of the point";
      return false;
    }
    while (fp.size() > dec && fp.back() == '0') fp.pop_back();
    if (fp.size() > dec) {
      err = "parameter " + p.name + " (" + p.type + "): " + text + " has more than " +
            std::to_string(dec) + " decimals: it is not exactly a " + p.type;
      return false;
    }
    fp.append(dec - fp.size(), '0');
    t = (ip.empty() ? "0" : ip) + fp;
    while (t.size() > 1 && t[0] == '0') t.erase(0, 1);
  }
  if (p.type == "duration" && !t.empty() &&
      std::string("smhdw").find(t.back()) != std::string::npos) {
    // 30s, 15m, 1h, 7d, 2w, as in the language.
    const char unit = t.back();
    const uint64_t scale = unit == 's'   ? 1
                           : unit == 'm' ? 60
                           : unit == 'h' ? 3600
                           : unit == 'd' ? 86400
                                         : 604800;
    auto n = parse_value(ValType::U64, t.substr(0, t.size() - 1));
    U256 seconds;
    if (!n.ok() || !mul_checked(n->word, U256::from_u64(scale), seconds) || !seconds.fits_u64()) {
      err = "parameter " + p.name + " (duration): bad duration " + text +
            " (write seconds, or 30s, 15m, 1h, 7d, 2w)";
      return false;
    }
    t = to_dec_string(seconds);
  }
  auto v = parse_value(vt, t);
  if (!v.ok()) {
    // A signed type's own words: parse_value speaks of the register's type.
    if (const unsigned bits = signed_bits(p.type);
        bits && vt == ValType::U64 && !t.empty() &&
        (t[0] == '-' || std::isdigit(static_cast<unsigned char>(t[0]))) &&
        std::all_of(t.begin() + (t[0] == '-'), t.end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      err = "parameter " + p.name + ": " + text + " does not fit " + p.type;
    else
      err = "parameter " + p.name + " (" + p.type + "): " + v.error().message;
    return false;
  }
  // The 128-bit types travel as 256-bit words: their range is checked here,
  // as the VM would check it on entry (with a trap instead of a message).
  const U256& w = v->word;
  if ((p.type == "u128" && (w.limb[2] | w.limb[3]) != 0) ||
      (p.type == "i128" && !((w.limb[2] | w.limb[3]) == 0 && (w.limb[1] >> 63) == 0) &&
       !((w.limb[2] & w.limb[3]) == ~0ull && (w.limb[1] >> 63) == 1))) {
    err = "parameter " + p.name + ": " + text + " does not fit " + p.type;
    return false;
  }
  // A signed type takes -2^(N-1) .. 2^(N-1) - 1, and the text's sign says
  // which: 18446744073709551615 is no i64 (it was taken as -1, and 2^256 - 1
  // as an i256's -1), and -2^256 + 1 no i256 (it wrapped to 1).
  if (const unsigned bits = signed_bits(p.type)) {
    const bool minus = !t.empty() && t[0] == '-';
    const bool sign = ((w.limb[(bits - 1) / 64] >> ((bits - 1) % 64)) & 1) != 0;
    if (minus ? !(sign || w.is_zero()) : sign) {
      err = "parameter " + p.name + ": " + text + " does not fit " + p.type;
      return false;
    }
  }
  if (p.type.size() > 1 && p.type[0] == 'u' && vt == ValType::U64 && p.type != "u64") {
    unsigned bits = static_cast<unsigned>(std::stoi(p.type.substr(1)));
    if (bits < 64 && (v->word.low64() >> bits) != 0) {
      err = "parameter " + p.name + ": " + text + " does not fit " + p.type;
      return false;
    }
  }
  out.push_back(v.value());
  return true;
}

unsigned signed_bits(const std::string& type) {
  if (type == "i64") return 64;
  if (type == "i128") return 128;
  if (type == "i256") return 256;
  return 0;
}

std::string format_fixed_point(const U256& raw, unsigned dec) {
  std::string s = to_dec_string(raw);
  if (s.size() <= dec) s.insert(0, dec - s.size() + 1, '0');
  std::string ip = s.substr(0, s.size() - dec), fp = s.substr(s.size() - dec);
  while (!fp.empty() && fp.back() == '0') fp.pop_back();
  return fp.empty() ? ip + ".0" : ip + "." + fp;
}

// Formats values (consumed from `vals` starting at `i`) as Writ type `type`.
std::string format_typed(const std::string& type, const std::vector<Value>& vals, size_t& i,
                         size_t count) {
  if (count != 1) {
    std::string s = "{";
    for (size_t k = 0; k < count; ++k) s += (k ? ", " : "") + format_value(vals[i++]);
    return s + "}";
  }
  const Value& v = vals[i++];
  // vec<T> and [T; N] are buffers of elements: "[1, 2, 3]".
  const bool is_vec = type.rfind("vec<", 0) == 0 && type.back() == '>';
  const bool is_array = type.size() > 2 && type.front() == '[' && type.back() == ']';
  if ((is_vec || is_array) && v.type == ValType::Buf) {
    std::string elem = is_vec ? type.substr(4, type.size() - 5) : type.substr(1);
    if (is_array) elem = elem.substr(0, elem.rfind(';'));
    const bool small = is_small_type(elem);
    const size_t es = small ? 8 : 32;
    std::vector<Value> items;
    for (size_t at = 0; at + es <= v.bytes.size(); at += es) {
      U256 w{};
      if (small) {
        uint64_t x = 0;
        for (size_t b = 0; b < 8; ++b) x |= uint64_t{v.bytes[at + b]} << (8 * b);
        w = U256::from_u64(x);
      } else {
        w = from_be_bytes(v.bytes.data() + at);
      }
      items.push_back(small ? Value{ValType::U64, w, {}} : Value::u256(w));
    }
    std::string s = "[";
    for (size_t k = 0, j = 0; k < items.size(); ++k)
      s += (k ? ", " : "") + format_typed(elem, items, j, 1);
    return s + "]";
  }
  if (type == "bool") return v.word.is_zero() ? "false" : "true";
  if (unsigned dec = fixed_decimals(type)) return format_fixed_point(v.word, dec);
  if (type == "address" || type == "bytes32") return to_hex_string(v.word);
  if (type == "string") {
    // As a Writ literal writes it: quotes, backslashes and control bytes
    // escaped (a NUL cut the printed text short), UTF-8 as it is.
    static const char* kHex = "0123456789abcdef";
    std::string s = "\"";
    for (uint8_t c : v.bytes) {
      if (c == '"' || c == '\\') {
        s += '\\';
        s += static_cast<char>(c);
      } else if (c == '\n') {
        s += "\\n";
      } else if (c == '\t') {
        s += "\\t";
      } else if (c == 0) {
        s += "\\0";
      } else if (c < 0x20 || c == 0x7f) {
        s += "\\x";
        s += kHex[c >> 4];
        s += kHex[c & 15];
      } else {
        s += static_cast<char>(c);
      }
    }
    return s + "\"";
  }
  if (type == "i64") return std::to_string(static_cast<int64_t>(v.word.low64()));
  if (type == "i128" || type == "i256") return to_signed_dec_string(v.word);
  if (type == "timestamp" || type == "duration") return format_value(v) + "s";
  return format_value(v);
}

std::string format_param(const AbiParam& p, const std::vector<Value>& vals, size_t& i) {
  if (!p.fields.empty()) {
    std::string s = "{";
    for (size_t k = 0; k < p.fields.size() && i < vals.size(); ++k)
      s += (k ? ", " : "") + p.fields[k].name + ": " + format_param(p.fields[k], vals, i);
    return s + "}";
  }
  if (!p.variants.empty() && p.flat.size() == 1 && i < vals.size()) {
    const uint64_t index = vals[i].word.low64();
    if (vals[i].word.fits_u64() && index < p.variants.size()) {
      ++i;
      return p.type + "::" + p.variants[index];
    }
  }
  return format_typed(p.type, vals, i, p.flat.size());
}

std::string format_fields(const std::vector<AbiParam>& ps, const std::vector<Value>& vals,
                          bool names) {
  std::string s;
  size_t i = 0;
  for (size_t k = 0; k < ps.size() && i < vals.size(); ++k) {
    if (k) s += ", ";
    if (names && !ps[k].name.empty()) s += ps[k].name + ": ";
    s += format_param(ps[k], vals, i);
  }
  return s;
}

std::vector<ValType> flat_of(const std::vector<AbiParam>& ps, bool only_indexed, bool only_data) {
  std::vector<ValType> out;
  for (const AbiParam& p : ps) {
    if (only_indexed && !p.indexed) continue;
    if (only_data && p.indexed) continue;
    out.insert(out.end(), p.flat.begin(), p.flat.end());
  }
  return out;
}

std::string decode_revert(const ContractOutput& c, const std::vector<uint8_t>& data) {
  if (data.size() >= 4) {
    uint32_t sel =
        (uint32_t{data[0]} << 24) | (uint32_t{data[1]} << 16) | (uint32_t{data[2]} << 8) | data[3];
    for (const AbiEntry& e : c.errors) {
      if (e.selector != sel) continue;
      auto vals =
          abi_decode(flat_of(e.inputs, false, false), std::span<const uint8_t>(data).subspan(4));
      if (!vals.ok()) break;
      // The VM's CallFailed names its status: "status: 11 (Reentrancy)".
      if (e.name == vm::kCallFailedName && vals->size() == 2 &&
          vals->at(1).word.low64() <= static_cast<uint64_t>(Status::InsufficientBalance))
        return e.name + "(" + format_fields(e.inputs, vals.value(), true) + " (" +
               std::string(status_name(static_cast<Status>(vals->at(1).word.low64()))) + "))";
      return e.name + "(" + format_fields(e.inputs, vals.value(), true) + ")";
    }
  }
  return data.empty() ? "" : "data " + format_value(Value::buf(data));
}

std::string decode_log(const ContractOutput& c, std::span<const U256> topics,
                       std::span<const uint8_t> log_data) {
  struct {
    std::span<const U256> topics;
    std::span<const uint8_t> data;
  } l{topics, log_data};
  for (const AbiEntry& e : c.events) {
    std::vector<ValType> all = flat_of(e.inputs, false, false);
    Event ve;
    ve.name = e.name;
    for (const AbiParam& p : e.inputs)
      for (ValType t : p.flat) ve.fields.push_back({t, p.indexed});
    if (l.topics.empty() || event_topic(ve) != l.topics[0]) continue;
    auto data = abi_decode(flat_of(e.inputs, false, true), l.data);
    if (!data.ok()) break;
    // Reassemble field values in declaration order from topics and data.
    std::vector<Value> vals;
    size_t ti = 1, di = 0;
    for (const AbiParam& p : e.inputs) {
      for (ValType t : p.flat) {
        if (p.indexed) {
          Value v;
          v.type = t;
          v.word = ti < l.topics.size() ? l.topics[ti++] : U256::zero();
          vals.push_back(v);
        } else {
          vals.push_back(di < data->size() ? (*data)[di++] : Value{});
        }
      }
    }
    return e.name + "(" + format_fields(e.inputs, vals, true) + ")";
  }
  return "unknown event " +
         (l.topics.empty() ? std::string("(no topics)") : to_hex_string(l.topics[0]));
}

}  // namespace writ::compiler
