// Canonical encoding and the loader for Writ modules (see module.hpp).
//
// The loader never trusts a length: every read goes through Reader, which
// checks the remaining bytes first and records the offset of the first
// failure, so a malformed module yields "byte N: reason" and nothing else.
#include "writ/vm/module.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <cstring>
#include <set>

namespace writ::vm {

std::string Error::to_string() const {
  if (line != 0) return std::to_string(line) + ":" + std::to_string(column) + ": " + message;
  char buf[32];
  std::snprintf(buf, sizeof buf, "byte 0x%llx", static_cast<unsigned long long>(offset));
  return std::string(buf) + ": " + message;
}

std::string_view type_name(ValType t) {
  switch (t) {
    case ValType::U64:
      return "u64";
    case ValType::U256:
      return "u256";
    case ValType::Buf:
      return "buf";
  }
  return "?";
}

std::string_view abi_type_name(ValType t) {
  return t == ValType::Buf ? std::string_view("bytes") : type_name(t);
}

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxName) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '$';
    if (!ok) return false;
  }
  return true;
}

std::string signature_of(std::string_view name, std::span<const ValType> params) {
  std::string s(name);
  s += '(';
  for (size_t i = 0; i < params.size(); ++i) {
    if (i) s += ',';
    s += abi_type_name(params[i]);
  }
  s += ')';
  return s;
}

uint32_t selector_of(std::string_view name, std::span<const ValType> params) {
  std::string sig = signature_of(name, params);
  uint8_t h[32];
  SHA256(reinterpret_cast<const uint8_t*>(sig.data()), sig.size(), h);
  return (uint32_t{h[0]} << 24) | (uint32_t{h[1]} << 16) | (uint32_t{h[2]} << 8) | h[3];
}

U256 event_topic(const Event& e) {
  std::string sig = e.name + "(";
  for (size_t i = 0; i < e.fields.size(); ++i) {
    if (i) sig += ',';
    sig += abi_type_name(e.fields[i].type);
  }
  sig += ')';
  uint8_t h[32];
  SHA256(reinterpret_cast<const uint8_t*>(sig.data()), sig.size(), h);
  return from_be_bytes(h);
}

CodeHash code_hash(std::span<const uint8_t> bytes) {
  CodeHash h;
  SHA256(bytes.data(), bytes.size(), h.bytes);
  return h;
}

std::string CodeHash::hex() const {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (uint8_t b : bytes) {
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

const Export* Module::find_export(std::string_view name) const {
  for (const Export& e : exports)
    if (e.name == name) return &e;
  return nullptr;
}

const Export* Module::find_selector(uint32_t selector) const {
  auto it = std::lower_bound(exports.begin(), exports.end(), selector,
                             [](const Export& e, uint32_t s) { return e.selector < s; });
  return it != exports.end() && it->selector == selector ? &*it : nullptr;
}

// ---------------------------------------------------------------------------
// Encoding

namespace {

class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) {
    u8(v & 0xff);
    u8(v >> 8);
  }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) u8((v >> (8 * i)) & 0xff);
  }
  void raw(std::span<const uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void name(std::string_view s) {
    u8(static_cast<uint8_t>(s.size()));
    raw({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  }
  void types8(const std::vector<ValType>& ts) {
    u8(static_cast<uint8_t>(ts.size()));
    for (ValType t : ts) u8(static_cast<uint8_t>(t));
  }
  std::vector<uint8_t>& bytes() { return out_; }

 private:
  std::vector<uint8_t> out_;
};

void section(Writer& out, uint8_t id, Writer& payload) {
  if (payload.bytes().empty()) return;
  out.u8(id);
  out.u32(static_cast<uint32_t>(payload.bytes().size()));
  out.raw(payload.bytes());
}

}  // namespace

std::vector<uint8_t> encode_module(const Module& m) {
  Writer out;
  out.raw({reinterpret_cast<const uint8_t*>("WRIT"), 4});
  out.u16(kModuleVersion);
  out.u16(0);

  Writer s;
  if (!m.constants.empty()) {
    s.u32(static_cast<uint32_t>(m.constants.size()));
    for (const Constant& c : m.constants) {
      s.u8(static_cast<uint8_t>(c.kind));
      if (c.kind == Constant::Kind::Word) {
        uint8_t be[32];
        to_be_bytes(c.word, be);
        s.raw(be);
      } else {
        s.u32(static_cast<uint32_t>(c.bytes.size()));
        s.raw(c.bytes);
      }
    }
  }
  section(out, 1, s);

  s = Writer();
  if (!m.functions.empty()) {
    s.u32(static_cast<uint32_t>(m.functions.size()));
    for (const Function& f : m.functions) {
      s.name(f.name);
      s.types8(f.params);
      s.types8(f.results);
      s.u16(static_cast<uint16_t>(f.locals.size()));
      for (ValType t : f.locals) s.u8(static_cast<uint8_t>(t));
      s.u32(static_cast<uint32_t>(f.code.size()));
      s.raw(f.code);
    }
  }
  section(out, 2, s);

  s = Writer();
  if (!m.exports.empty()) {
    s.u32(static_cast<uint32_t>(m.exports.size()));
    for (const Export& e : m.exports) {
      s.name(e.name);
      s.u32(e.selector);
      s.u16(e.func);
      s.u8(e.flags);
    }
  }
  section(out, 3, s);

  s = Writer();
  if (!m.events.empty()) {
    s.u16(static_cast<uint16_t>(m.events.size()));
    for (const Event& e : m.events) {
      s.name(e.name);
      s.u8(static_cast<uint8_t>(e.fields.size()));
      for (const EventField& f : e.fields) {
        s.u8(static_cast<uint8_t>(f.type));
        s.u8(f.indexed ? 1 : 0);
      }
    }
  }
  section(out, 4, s);

  s = Writer();
  if (!m.errors.empty()) {
    s.u16(static_cast<uint16_t>(m.errors.size()));
    for (const ErrorDecl& e : m.errors) {
      s.name(e.name);
      s.types8(e.fields);
    }
  }
  section(out, 5, s);

  s = Writer();
  if (!m.metadata.empty()) {
    s.u16(static_cast<uint16_t>(m.metadata.size()));
    for (const MetaEntry& e : m.metadata) {
      s.name(e.key);
      s.u16(static_cast<uint16_t>(e.value.size()));
      s.raw({reinterpret_cast<const uint8_t*>(e.value.data()), e.value.size()});
    }
  }
  section(out, 6, s);
  return std::move(out.bytes());
}

// ---------------------------------------------------------------------------
// Decoding

namespace {

// Bounds-checked cursor. After the first failure every read returns zero and
// `failed()` stays true; the error names the offset where it happened.
class Reader {
 public:
  Reader(std::span<const uint8_t> b, size_t base, size_t end) : b_(b), pos_(base), end_(end) {}

  bool need(size_t n, const char* what) {
    if (err_) return false;
    if (end_ - pos_ < n) {
      fail(pos_, std::string("truncated: ") + what + " needs " + std::to_string(n) + " bytes, " +
                     std::to_string(end_ - pos_) + " left");
      return false;
    }
    return true;
  }
  uint8_t u8(const char* what) {
    if (!need(1, what)) return 0;
    return b_[pos_++];
  }
  uint16_t u16(const char* what) {
    if (!need(2, what)) return 0;
    uint16_t v = uint16_t(b_[pos_] | (b_[pos_ + 1] << 8));
    pos_ += 2;
    return v;
  }
  uint32_t u32(const char* what) {
    if (!need(4, what)) return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t(b_[pos_ + i]) << (8 * i);
    pos_ += 4;
    return v;
  }
  std::span<const uint8_t> raw(size_t n, const char* what) {
    if (!need(n, what)) return {};
    auto s = b_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  std::string name(const char* what) {
    size_t at = pos_;
    uint8_t n = u8(what);
    auto s = raw(n, what);
    if (err_) return {};
    std::string out(reinterpret_cast<const char*>(s.data()), s.size());
    if (!is_valid_name(out))
      fail(at, std::string("invalid ") + what + " \"" + printable(out) +
                   "\": names are 1-64 characters of [A-Za-z0-9_.$]");
    return out;
  }
  ValType type(const char* what) {
    size_t at = pos_;
    uint8_t t = u8(what);
    if (!err_ && t > 2)
      fail(at, std::string("invalid type code ") + std::to_string(t) + " in " + what);
    return static_cast<ValType>(t <= 2 ? t : 0);
  }
  // Reads a count and checks it against a limit and against the bytes left
  // (each item takes at least min_item_size bytes), so a huge count cannot
  // make the loader allocate before it fails.
  size_t count(uint32_t n, size_t at, size_t limit, size_t min_item_size, const char* what) {
    if (err_) return 0;
    if (n > limit) {
      fail(at, std::string(what) + " count " + std::to_string(n) + " exceeds the limit of " +
                   std::to_string(limit));
      return 0;
    }
    if (min_item_size && n > (end_ - pos_) / min_item_size) {
      fail(at, std::string(what) + " count " + std::to_string(n) + " does not fit in the " +
                   std::to_string(end_ - pos_) + " bytes left");
      return 0;
    }
    return n;
  }
  void fail(size_t at, std::string msg) {
    if (err_) return;
    err_ = true;
    error_ = error_at(at, std::move(msg));
  }
  static std::string printable(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
      if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
        out += static_cast<char>(c);
      } else {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        out += buf;
      }
    }
    return out;
  }
  size_t pos() const { return pos_; }
  size_t end() const { return end_; }
  bool failed() const { return err_; }
  Error error() const { return error_; }

 private:
  std::span<const uint8_t> b_;
  size_t pos_;
  size_t end_;
  bool err_ = false;
  Error error_;
};

void read_types(Reader& r, std::vector<ValType>& out, size_t n, const char* what) {
  out.reserve(n);
  for (size_t i = 0; i < n && !r.failed(); ++i) out.push_back(r.type(what));
}

void decode_constants(Reader& r, Module& m) {
  size_t at = r.pos();
  size_t n = r.count(r.u32("constant count"), at, kMaxConstants, 2, "constant");
  m.constants.reserve(n);
  for (size_t i = 0; i < n && !r.failed(); ++i) {
    Constant c;
    size_t kat = r.pos();
    uint8_t kind = r.u8("constant kind");
    if (r.failed()) break;
    if (kind == 0) {
      auto b = r.raw(32, "word constant");
      if (r.failed()) break;
      c.word = from_be_bytes(b.data());
    } else if (kind == 1) {
      size_t lat = r.pos();
      uint32_t len = r.u32("bytes constant length");
      if (!r.failed() && len > kMaxBytesConstant) {
        r.fail(lat, "bytes constant of " + std::to_string(len) + " bytes exceeds the limit of " +
                        std::to_string(kMaxBytesConstant));
        break;
      }
      auto b = r.raw(len, "bytes constant");
      c.kind = Constant::Kind::Bytes;
      c.bytes.assign(b.begin(), b.end());
    } else {
      r.fail(kat, "invalid constant kind " + std::to_string(kind) + " (0 word, 1 bytes)");
      break;
    }
    m.constants.push_back(std::move(c));
  }
}

void decode_functions(Reader& r, Module& m) {
  size_t at = r.pos();
  size_t n = r.count(r.u32("function count"), at, kMaxFunctions, 9, "function");
  m.functions.reserve(n);
  for (size_t i = 0; i < n && !r.failed(); ++i) {
    Function f;
    f.name = r.name("function name");
    size_t pat = r.pos();
    size_t np = r.count(r.u8("parameter count"), pat, kMaxParams, 1, "parameter");
    read_types(r, f.params, np, "parameter type");
    size_t rat = r.pos();
    size_t nr = r.count(r.u8("result count"), rat, kMaxParams, 1, "result");
    read_types(r, f.results, nr, "result type");
    size_t lat = r.pos();
    size_t nl = r.count(r.u16("register count"), lat, kMaxRegisters - np, 1, "register");
    read_types(r, f.locals, nl, "register type");
    size_t cat = r.pos();
    uint32_t len = r.u32("code size");
    if (!r.failed() && len > kMaxCodeSize) {
      r.fail(cat, "function " + f.name + ": code size " + std::to_string(len) +
                      " exceeds the limit of " + std::to_string(kMaxCodeSize));
      break;
    }
    if (!r.failed() && len == 0) {
      r.fail(cat, "function " + f.name + ": empty code (a function must end in a terminator)");
      break;
    }
    auto code = r.raw(len, "function code");
    f.code.assign(code.begin(), code.end());
    for (const Function& g : m.functions)
      if (g.name == f.name) r.fail(at, "duplicate function name " + f.name);
    m.functions.push_back(std::move(f));
  }
}

void decode_exports(Reader& r, Module& m) {
  size_t at = r.pos();
  size_t n = r.count(r.u32("export count"), at, kMaxExports, 8, "export");
  m.exports.reserve(n);
  for (size_t i = 0; i < n && !r.failed(); ++i) {
    size_t eat = r.pos();
    Export e;
    e.name = r.name("export name");
    e.selector = r.u32("export selector");
    size_t fat = r.pos();
    e.func = r.u16("export function index");
    size_t flat = r.pos();
    e.flags = r.u8("export flags");
    if (r.failed()) break;
    if (e.func >= m.functions.size()) {
      r.fail(fat, "export " + e.name + " names function " + std::to_string(e.func) +
                      " but there are " + std::to_string(m.functions.size()));
      break;
    }
    if (e.name != m.functions[e.func].name) {
      r.fail(eat, "export " + e.name + " must carry the name of its function (" +
                      m.functions[e.func].name + ")");
      break;
    }
    if (e.flags & ~kExportFlagMask) {
      r.fail(flat, "export " + e.name + ": unknown flag bits");
      break;
    }
    if ((e.flags & kExportView) && (e.flags & kExportPayable)) {
      r.fail(flat, "export " + e.name + ": a view cannot be payable");
      break;
    }
    uint32_t want = selector_of(e.name, m.functions[e.func].params);
    if (e.selector != want) {
      char buf[96];
      std::snprintf(buf, sizeof buf,
                    "export %s: selector 0x%08x does not match its signature (0x%08x)",
                    e.name.c_str(), e.selector, want);
      r.fail(eat, buf);
      break;
    }
    if (!m.exports.empty() && m.exports.back().selector >= e.selector) {
      r.fail(eat, m.exports.back().selector == e.selector
                      ? "export " + e.name + ": duplicate selector (same as " +
                            m.exports.back().name + ")"
                      : "export " + e.name + ": exports must be sorted by selector");
      break;
    }
    m.exports.push_back(std::move(e));
  }
}

void decode_events(Reader& r, Module& m) {
  size_t at = r.pos();
  size_t n = r.count(r.u16("event count"), at, kMaxEvents, 2, "event");
  m.events.reserve(n);
  for (size_t i = 0; i < n && !r.failed(); ++i) {
    Event e;
    e.name = r.name("event name");
    size_t fat = r.pos();
    size_t nf = r.count(r.u8("event field count"), fat, kMaxFields, 2, "event field");
    size_t indexed = 0;
    for (size_t j = 0; j < nf && !r.failed(); ++j) {
      EventField f;
      f.type = r.type("event field type");
      size_t iat = r.pos();
      uint8_t ix = r.u8("event field indexed flag");
      if (r.failed()) break;
      if (ix > 1) {
        r.fail(iat, "event " + e.name + ": indexed flag must be 0 or 1");
        break;
      }
      f.indexed = ix == 1;
      if (f.indexed && f.type == ValType::Buf) {
        r.fail(iat, "event " + e.name + ": a buf field cannot be indexed");
        break;
      }
      if (f.indexed && ++indexed > kMaxIndexed) {
        r.fail(iat, "event " + e.name + ": more than 3 indexed fields");
        break;
      }
      e.fields.push_back(f);
    }
    for (const Event& g : m.events)
      if (g.name == e.name) r.fail(at, "duplicate event name " + e.name);
    m.events.push_back(std::move(e));
  }
}

void decode_errors(Reader& r, Module& m) {
  size_t at = r.pos();
  size_t n = r.count(r.u16("error count"), at, kMaxErrors, 2, "error");
  m.errors.reserve(n);
  for (size_t i = 0; i < n && !r.failed(); ++i) {
    ErrorDecl e;
    e.name = r.name("error name");
    size_t fat = r.pos();
    size_t nf = r.count(r.u8("error field count"), fat, kMaxFields, 1, "error field");
    read_types(r, e.fields, nf, "error field type");
    for (const ErrorDecl& g : m.errors)
      if (g.name == e.name) r.fail(at, "duplicate error name " + e.name);
    m.errors.push_back(std::move(e));
  }
}

void decode_metadata(Reader& r, Module& m) {
  size_t at = r.pos();
  size_t n = r.count(r.u16("metadata count"), at, kMaxMetadata, 3, "metadata entry");
  for (size_t i = 0; i < n && !r.failed(); ++i) {
    MetaEntry e;
    e.key = r.name("metadata key");
    size_t vat = r.pos();
    uint16_t len = r.u16("metadata value length");
    if (!r.failed() && len > kMaxMetaValue) {
      r.fail(vat, "metadata value of " + std::to_string(len) + " bytes exceeds the limit of " +
                      std::to_string(kMaxMetaValue));
      break;
    }
    auto v = r.raw(len, "metadata value");
    if (r.failed()) break;
    for (size_t j = 0; j < v.size(); ++j) {
      if (v[j] < 0x20 || v[j] > 0x7e || v[j] == '"' || v[j] == ';' || v[j] == '\\') {
        r.fail(vat + 2 + j,
               "metadata value " + e.key + " has a byte outside printable ASCII (or \" ; \\)");
        break;
      }
    }
    e.value.assign(reinterpret_cast<const char*>(v.data()), v.size());
    if (!m.metadata.empty() && m.metadata.back().key >= e.key) {
      r.fail(at, "metadata keys must be unique and sorted (\"" + e.key + "\")");
      break;
    }
    m.metadata.push_back(std::move(e));
  }
}

}  // namespace

Result<Module> decode_module(std::span<const uint8_t> bytes) {
  if (bytes.size() > kMaxModuleSize)
    return error_at(kMaxModuleSize, "module of " + std::to_string(bytes.size()) +
                                        " bytes exceeds the limit of " +
                                        std::to_string(kMaxModuleSize));
  Reader header(bytes, 0, bytes.size());
  auto magic = header.raw(4, "magic");
  if (header.failed()) return header.error();
  if (std::memcmp(magic.data(), "WRIT", 4) != 0) return error_at(0, "bad magic: not a Writ module");
  uint16_t version = header.u16("version");
  if (header.failed()) return header.error();
  if (version != kModuleVersion)
    return error_at(4, "unsupported module version " + std::to_string(version) +
                           " (this VM reads " + std::to_string(kModuleVersion) + ")");
  uint16_t flags = header.u16("flags");
  if (header.failed()) return header.error();
  if (flags != 0) return error_at(6, "reserved header flags must be zero");

  Module m;
  size_t pos = header.pos();
  int last_id = 0;
  while (pos < bytes.size()) {
    if (bytes.size() - pos < 5)
      return error_at(pos, "truncated section header: " + std::to_string(bytes.size() - pos) +
                               " trailing bytes (a header is 5)");
    Reader sh(bytes, pos, bytes.size());
    uint8_t id = sh.u8("section id");
    uint32_t size = sh.u32("section size");
    if (sh.failed()) return sh.error();
    if (id < 1 || id > 6) return error_at(pos, "unknown section id " + std::to_string(id));
    if (id <= last_id)
      return error_at(pos, id == last_id ? "duplicate section " + std::to_string(id)
                                         : "section " + std::to_string(id) + " out of order");
    if (size == 0) return error_at(pos, "empty section " + std::to_string(id) + " must be omitted");
    size_t body = sh.pos();
    if (size > bytes.size() - body)
      return error_at(pos + 1, "section " + std::to_string(id) + " size " + std::to_string(size) +
                                   " runs past the end of the module");
    Reader r(bytes, body, body + size);
    switch (id) {
      case 1:
        decode_constants(r, m);
        break;
      case 2:
        decode_functions(r, m);
        break;
      case 3:
        decode_exports(r, m);
        break;
      case 4:
        decode_events(r, m);
        break;
      case 5:
        decode_errors(r, m);
        break;
      case 6:
        decode_metadata(r, m);
        break;
    }
    if (r.failed()) return r.error();
    if (r.pos() != r.end())
      return error_at(r.pos(), "section " + std::to_string(id) + " has " +
                                   std::to_string(r.end() - r.pos()) + " unread bytes");
    // A section whose count is zero is empty in substance and must be omitted.
    if (size <= 4 && (id == 1 || id == 2 || id == 3) && r.pos() == body + 4 && bytes[body] == 0 &&
        bytes[body + 1] == 0 && bytes[body + 2] == 0 && bytes[body + 3] == 0)
      return error_at(pos, "section " + std::to_string(id) + " with zero entries must be omitted");
    if (size == 2 && id >= 4 && bytes[body] == 0 && bytes[body + 1] == 0)
      return error_at(pos, "section " + std::to_string(id) + " with zero entries must be omitted");
    last_id = id;
    pos = body + size;
  }
  return m;
}

}  // namespace writ::vm
