// Text assembler (see assembler.hpp for the syntax). Two passes per module:
// the first collects function signatures, constants, events and errors so
// that instructions may name them before their definition; the second encodes
// instructions, resolving labels per function.
#include "writ/vm/assembler.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include "writ/vm/opcodes.hpp"

namespace writ::vm {
namespace {

struct Line {
  uint32_t number;
  std::string_view text;  // comment stripped
};

struct Tok {
  std::string_view text;
  uint32_t col;
};

bool is_ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '$' || c == '@' || c == '-' || c == '+';
}

// Splits a line into tokens: identifiers/numbers, quoted strings, and the
// punctuation ( ) , : ->
std::vector<Tok> tokenize(std::string_view s, std::string& err, uint32_t& err_col) {
  std::vector<Tok> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
      continue;
    }
    size_t start = i;
    if (c == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') ++i;
      if (i >= s.size()) {
        err = "unterminated string";
        err_col = static_cast<uint32_t>(start + 1);
        return {};
      }
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '>') {
      i += 2;
    } else if (c == '(' || c == ')' || c == ',' || c == ':') {
      ++i;
    } else if (is_ident_char(c)) {
      while (i < s.size() && is_ident_char(s[i])) ++i;
    } else {
      err = std::string("unexpected character '") + c + "'";
      err_col = static_cast<uint32_t>(start + 1);
      return {};
    }
    out.push_back(Tok{s.substr(start, i - start), static_cast<uint32_t>(start + 1)});
  }
  return out;
}

std::optional<ValType> parse_type(std::string_view t) {
  if (t == "u64") return ValType::U64;
  if (t == "u256") return ValType::U256;
  if (t == "buf") return ValType::Buf;
  return std::nullopt;
}

class Assembler {
 public:
  Assembler(std::string_view src, AsmLines* lines) : src_(src), lines_out_(lines) {
    if (lines_out_) lines_out_->functions.clear();
  }

  Result<Module> run() {
    split_lines();
    if (!pass1()) return err_;
    if (!pass2()) return err_;
    std::sort(m_.exports.begin(), m_.exports.end(),
              [](const Export& a, const Export& b) { return a.selector < b.selector; });
    for (size_t i = 1; i < m_.exports.size(); ++i)
      if (m_.exports[i].selector == m_.exports[i - 1].selector)
        return error_at_line(1, 1,
                             "exports " + m_.exports[i - 1].name + " and " + m_.exports[i].name +
                                 " have the same selector");
    std::sort(m_.metadata.begin(), m_.metadata.end(),
              [](const MetaEntry& a, const MetaEntry& b) { return a.key < b.key; });
    for (size_t i = 1; i < m_.metadata.size(); ++i)
      if (m_.metadata[i].key == m_.metadata[i - 1].key)
        return error_at_line(1, 1, "duplicate .meta key " + m_.metadata[i].key);
    return std::move(m_);
  }

 private:
  bool fail(uint32_t line, uint32_t col, std::string msg) {
    if (!failed_) err_ = error_at_line(line, col, std::move(msg));
    failed_ = true;
    return false;
  }

  void split_lines() {
    uint32_t n = 1;
    size_t start = 0;
    while (start <= src_.size()) {
      size_t end = src_.find('\n', start);
      if (end == std::string_view::npos) end = src_.size();
      std::string_view line = src_.substr(start, end - start);
      // Strip a ';' comment that is not inside a string.
      bool in_str = false;
      for (size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '"') in_str = !in_str;
        if (line[i] == ';' && !in_str) {
          line = line.substr(0, i);
          break;
        }
      }
      lines_.push_back(Line{n++, line});
      start = end + 1;
    }
  }

  // ---- pass 1: declarations --------------------------------------------------
  bool pass1() {
    bool in_func = false;
    for (const Line& l : lines_) {
      std::string err;
      uint32_t col = 0;
      auto toks = tokenize(l.text, err, col);
      if (!err.empty()) return fail(l.number, col, err);
      if (toks.empty()) continue;
      std::string_view d = toks[0].text;
      if (d == ".func") {
        if (in_func) return fail(l.number, toks[0].col, ".func inside a function (missing .end?)");
        in_func = true;
        if (!parse_func_header(l, toks)) return false;
      } else if (d == ".end") {
        if (!in_func) return fail(l.number, toks[0].col, ".end without .func");
        in_func = false;
      } else if (d == ".regs") {
        if (!in_func) return fail(l.number, toks[0].col, ".regs outside a function");
        for (size_t i = 1; i < toks.size(); ++i) {
          if (toks[i].text == ",") continue;
          auto t = parse_type(toks[i].text);
          if (!t)
            return fail(l.number, toks[i].col,
                        "unknown type '" + std::string(toks[i].text) + "' (u64, u256, buf)");
          if (m_.functions.back().register_count() >= kMaxRegisters)
            return fail(l.number, toks[i].col,
                        "more than " + std::to_string(kMaxRegisters) + " registers");
          m_.functions.back().locals.push_back(*t);
        }
      } else if (d == ".const") {
        if (!parse_const(l, toks)) return false;
      } else if (d == ".event" || d == ".error") {
        if (!parse_decl(l, toks, d == ".event")) return false;
      } else if (d == ".meta") {
        if (toks.size() != 3 || toks[2].text.size() < 2 || toks[2].text[0] != '"')
          return fail(l.number, toks[0].col, ".meta needs a key and a \"quoted value\"");
        if (!is_valid_name(toks[1].text))
          return fail(l.number, toks[1].col, "invalid metadata key");
        std::string v(toks[2].text.substr(1, toks[2].text.size() - 2));
        for (char c : v)
          if (c < 0x20 || c > 0x7e)
            return fail(l.number, toks[2].col, "metadata values are printable ASCII");
        m_.metadata.push_back({std::string(toks[1].text), v});
      } else if (d[0] == '.') {
        return fail(l.number, toks[0].col, "unknown directive " + std::string(d));
      } else if (!in_func) {
        return fail(l.number, toks[0].col, "instruction outside a function");
      }
    }
    if (in_func)
      return fail(static_cast<uint32_t>(lines_.size()), 1, "missing .end at end of file");
    return true;
  }

  bool parse_types_list(const Line& l, const std::vector<Tok>& t, size_t& i,
                        std::vector<ValType>& out) {
    if (i >= t.size() || t[i].text != "(")
      return fail(l.number, i < t.size() ? t[i].col : 1, "expected '('");
    ++i;
    while (i < t.size() && t[i].text != ")") {
      auto ty = parse_type(t[i].text);
      if (!ty)
        return fail(l.number, t[i].col,
                    "unknown type '" + std::string(t[i].text) + "' (u64, u256, buf)");
      out.push_back(*ty);
      ++i;
      if (i < t.size() && t[i].text == ",") ++i;
    }
    if (i >= t.size()) return fail(l.number, static_cast<uint32_t>(l.text.size()), "expected ')'");
    ++i;
    if (out.size() > kMaxParams) return fail(l.number, t[0].col, "more than 32 values");
    return true;
  }

  bool parse_func_header(const Line& l, const std::vector<Tok>& t) {
    if (t.size() < 3) return fail(l.number, t[0].col, ".func needs a name and a parameter list");
    Function f;
    f.name = std::string(t[1].text);
    if (!is_valid_name(f.name)) return fail(l.number, t[1].col, "invalid function name");
    if (func_index_.count(f.name))
      return fail(l.number, t[1].col, "function " + f.name + " is defined twice");
    size_t i = 2;
    if (!parse_types_list(l, t, i, f.params)) return false;
    if (i < t.size() && t[i].text == "->") {
      ++i;
      if (!parse_types_list(l, t, i, f.results)) return false;
    }
    uint8_t flags = 0;
    bool exported = false;
    for (; i < t.size(); ++i) {
      if (t[i].text == "export")
        exported = true;
      else if (t[i].text == "view")
        flags |= kExportView;
      else if (t[i].text == "payable")
        flags |= kExportPayable;
      else if (t[i].text == "reentrant")
        flags |= kExportReentrant;
      else
        return fail(l.number, t[i].col,
                    "unknown function attribute '" + std::string(t[i].text) + "'");
    }
    if (flags && !exported)
      return fail(l.number, t[0].col, "view/payable/reentrant apply to exported functions");
    if ((flags & kExportView) && (flags & kExportPayable))
      return fail(l.number, t[0].col, "a view cannot be payable");
    if (m_.functions.size() >= kMaxFunctions) return fail(l.number, t[0].col, "too many functions");
    uint16_t index = static_cast<uint16_t>(m_.functions.size());
    func_index_[f.name] = index;
    if (exported) {
      Export e;
      e.name = f.name;
      e.func = index;
      e.flags = flags;
      e.selector = selector_of(f.name, f.params);
      m_.exports.push_back(e);
    }
    m_.functions.push_back(std::move(f));
    return true;
  }

  bool parse_const(const Line& l, const std::vector<Tok>& t) {
    if (t.size() != 4) return fail(l.number, t[0].col, ".const needs NAME word|bytes VALUE");
    std::string name(t[1].text);
    if (!is_valid_name(name)) return fail(l.number, t[1].col, "invalid constant name");
    if (const_index_.count(name))
      return fail(l.number, t[1].col, "constant " + name + " is defined twice");
    Constant c;
    if (t[2].text == "word") {
      auto v = parse_u256(t[3].text);
      if (!v)
        return fail(l.number, t[3].col, "invalid 256-bit value '" + std::string(t[3].text) + "'");
      c.word = *v;
    } else if (t[2].text == "bytes") {
      c.kind = Constant::Kind::Bytes;
      std::string_view v = t[3].text;
      if (v.size() >= 2 && v[0] == '"') {
        c.bytes.assign(v.begin() + 1, v.end() - 1);
      } else if (v.size() >= 2 && v[0] == '0' && v[1] == 'x' && v.size() % 2 == 0) {
        for (size_t i = 2; i < v.size(); i += 2) {
          auto hexval = [](char ch) -> int {
            if (ch >= '0' && ch <= '9') return ch - '0';
            if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
            if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
            return -1;
          };
          int hi = hexval(v[i]), lo = hexval(v[i + 1]);
          if (hi < 0 || lo < 0) return fail(l.number, t[3].col, "invalid hex bytes");
          c.bytes.push_back(static_cast<uint8_t>(hi * 16 + lo));
        }
      } else {
        return fail(l.number, t[3].col,
                    "bytes constant must be 0x-hex with an even number of digits or \"text\"");
      }
      if (c.bytes.size() > kMaxBytesConstant)
        return fail(l.number, t[3].col, "bytes constant too large");
    } else {
      return fail(l.number, t[2].col, "constant kind must be word or bytes");
    }
    if (m_.constants.size() >= kMaxConstants) return fail(l.number, t[0].col, "too many constants");
    const_index_[name] = static_cast<uint32_t>(m_.constants.size());
    m_.constants.push_back(std::move(c));
    return true;
  }

  bool parse_decl(const Line& l, const std::vector<Tok>& t, bool is_event) {
    if (t.size() < 3) return fail(l.number, t[0].col, "expected NAME(fields)");
    std::string name(t[1].text);
    if (!is_valid_name(name)) return fail(l.number, t[1].col, "invalid name");
    size_t i = 2;
    if (t[i].text != "(") return fail(l.number, t[i].col, "expected '('");
    ++i;
    Event ev;
    ErrorDecl er;
    ev.name = er.name = name;
    size_t indexed = 0;
    while (i < t.size() && t[i].text != ")") {
      auto ty = parse_type(t[i].text);
      if (!ty) return fail(l.number, t[i].col, "unknown type '" + std::string(t[i].text) + "'");
      ++i;
      bool ix = false;
      if (i < t.size() && t[i].text == "indexed") {
        if (!is_event) return fail(l.number, t[i].col, "error fields cannot be indexed");
        if (*ty == ValType::Buf) return fail(l.number, t[i].col, "a buf field cannot be indexed");
        if (++indexed > kMaxIndexed) return fail(l.number, t[i].col, "more than 3 indexed fields");
        ix = true;
        ++i;
      }
      ev.fields.push_back({*ty, ix});
      er.fields.push_back(*ty);
      if (ev.fields.size() > kMaxFields) return fail(l.number, t[0].col, "more than 16 fields");
      if (i < t.size() && t[i].text == ",") ++i;
    }
    if (i >= t.size()) return fail(l.number, static_cast<uint32_t>(l.text.size()), "expected ')'");
    if (i + 1 != t.size()) return fail(l.number, t[i + 1].col, "unexpected text after ')'");
    if (is_event) {
      if (event_index_.count(name))
        return fail(l.number, t[1].col, "event " + name + " is defined twice");
      event_index_[name] = static_cast<uint32_t>(m_.events.size());
      m_.events.push_back(std::move(ev));
    } else {
      if (error_index_.count(name))
        return fail(l.number, t[1].col, "error " + name + " is defined twice");
      error_index_[name] = static_cast<uint32_t>(m_.errors.size());
      m_.errors.push_back(std::move(er));
    }
    return true;
  }

  // ---- pass 2: code ------------------------------------------------------------
  struct Fixup {
    size_t at;  // byte offset of the 4-byte target in code
    std::string label;
    uint32_t line, col;
  };

  bool pass2() {
    Function* f = nullptr;
    std::map<std::string, uint32_t> labels;
    std::vector<Fixup> fixups;
    size_t fi = 0;
    for (const Line& l : lines_) {
      std::string err;
      uint32_t col = 0;
      auto toks = tokenize(l.text, err, col);
      if (toks.empty()) continue;
      std::string_view d = toks[0].text;
      if (d == ".func") {
        f = &m_.functions[fi++];
        if (lines_out_) lines_out_->functions.emplace_back();
        labels.clear();
        fixups.clear();
        continue;
      }
      if (d == ".end") {
        for (const Fixup& x : fixups) {
          auto it = labels.find(x.label);
          if (it == labels.end()) return fail(x.line, x.col, "undefined label " + x.label);
          for (int k = 0; k < 4; ++k)
            f->code[x.at + k] = static_cast<uint8_t>(it->second >> (8 * k));
        }
        if (f->code.size() > kMaxCodeSize)
          return fail(l.number, 1, "function " + f->name + " exceeds the code size limit");
        f = nullptr;
        continue;
      }
      if (d[0] == '.') continue;
      if (!f) continue;
      size_t i = 0;
      // Labels: "name:" possibly followed by an instruction.
      while (i + 1 < toks.size() && toks[i + 1].text == ":") {
        std::string name(toks[i].text);
        if (labels.count(name))
          return fail(l.number, toks[i].col, "label " + name + " is defined twice");
        labels[name] = static_cast<uint32_t>(f->code.size());
        i += 2;
      }
      if (i >= toks.size()) continue;
      if (!encode_insn(l, toks, i, *f, fixups)) return false;
    }
    return true;
  }

  bool encode_insn(const Line& l, const std::vector<Tok>& t, size_t i, Function& f,
                   std::vector<Fixup>& fixups) {
    auto op = op_by_mnemonic(t[i].text);
    if (!op)
      return fail(l.number, t[i].col, "unknown instruction '" + std::string(t[i].text) + "'");
    const OpInfo& oi = info(*op);
    std::vector<Tok> args;
    uint32_t op_col = t[i].col;
    ++i;
    while (i < t.size()) {
      args.push_back(t[i]);
      ++i;
      if (i < t.size()) {
        if (t[i].text != ",") return fail(l.number, t[i].col, "expected ',' between operands");
        ++i;
        if (i >= t.size()) return fail(l.number, t[i - 1].col, "operand expected after ','");
      }
    }
    if (args.size() != oi.operands.size())
      return fail(l.number, op_col,
                  std::string(oi.mnemonic) + " takes " + std::to_string(oi.operands.size()) +
                      " operands, got " + std::to_string(args.size()));
    auto& code = f.code;
    if (lines_out_)
      lines_out_->functions.back().push_back(
          {static_cast<uint32_t>(code.size()), l.number, op_col});
    code.push_back(static_cast<uint8_t>(*op));
    auto put = [&](uint64_t v, unsigned width) {
      for (unsigned k = 0; k < width; ++k) code.push_back(static_cast<uint8_t>(v >> (8 * k)));
    };
    for (size_t k = 0; k < args.size(); ++k) {
      char c = oi.operands[k];
      std::string_view a = args[k].text;
      uint32_t col = args[k].col;
      if (is_register_operand(c)) {
        if (a.size() < 2 || a[0] != 'r')
          return fail(l.number, col, "expected a register (r0, r1, ...)");
        auto v = parse_u256(a.substr(1));
        if (!v || !v->fits_u64() || v->low64() > 0xffff || a[1] == '-')
          return fail(l.number, col, "invalid register '" + std::string(a) + "'");
        put(v->low64(), 2);
        continue;
      }
      switch (c) {
        case 'i': {
          auto v = parse_u256(a);
          bool neg = !a.empty() && a[0] == '-';
          if (!v) return fail(l.number, col, "invalid immediate '" + std::string(a) + "'");
          bool ok = neg ? (v->limb[1] == ~0ull && v->limb[2] == ~0ull && v->limb[3] == ~0ull &&
                           (v->limb[0] >> 63))
                        : v->fits_u64();
          if (!ok)
            return fail(l.number, col, "immediate '" + std::string(a) + "' does not fit 64 bits");
          put(v->limb[0], 8);
          break;
        }
        case 'k': {
          auto idx = resolve(a, const_index_);
          if (!idx) return fail(l.number, col, "unknown constant '" + std::string(a) + "'");
          put(*idx, 2);
          break;
        }
        case 'f': {
          auto it = func_index_.find(std::string(a));
          if (it == func_index_.end())
            return fail(l.number, col, "unknown function '" + std::string(a) + "'");
          put(it->second, 2);
          break;
        }
        case 'e': {
          auto idx = resolve(a, event_index_);
          if (!idx) return fail(l.number, col, "unknown event '" + std::string(a) + "'");
          put(*idx, 2);
          break;
        }
        case 'x': {
          auto idx = resolve(a, error_index_);
          if (!idx) return fail(l.number, col, "unknown error '" + std::string(a) + "'");
          put(*idx, 2);
          break;
        }
        case 't': {
          if (!a.empty() && a[0] == '@') {  // raw byte offset
            auto v = parse_u256(a.substr(1));
            if (!v || !v->fits_u64() || v->low64() > 0xffffffffull)
              return fail(l.number, col, "invalid raw target '" + std::string(a) + "'");
            put(v->low64(), 4);
          } else {
            fixups.push_back(Fixup{code.size(), std::string(a), l.number, col});
            put(0, 4);
          }
          break;
        }
      }
    }
    return true;
  }

  // A name from the table, or a raw index written kN / N.
  static std::optional<uint32_t> resolve(std::string_view a,
                                         const std::map<std::string, uint32_t>& table) {
    auto it = table.find(std::string(a));
    if (it != table.end()) return it->second;
    std::string_view digits = a;
    if (!digits.empty() && (digits[0] == 'k' || digits[0] == '#')) digits = digits.substr(1);
    if (digits.empty() || digits[0] == '-') return std::nullopt;
    auto v = parse_u256(digits);
    if (!v || !v->fits_u64() || v->low64() > 0xffff) return std::nullopt;
    return static_cast<uint32_t>(v->low64());
  }

  std::string_view src_;
  std::vector<Line> lines_;
  Module m_;
  std::map<std::string, uint16_t> func_index_;
  std::map<std::string, uint32_t> const_index_, event_index_, error_index_;
  bool failed_ = false;
  Error err_;
  AsmLines* lines_out_;
};

}  // namespace

Result<Module> assemble(std::string_view source, AsmLines* lines) {
  return Assembler(source, lines).run();
}

const AsmLines::Insn* AsmLines::at(uint32_t function, uint64_t offset) const {
  if (function >= functions.size()) return nullptr;
  const std::vector<Insn>& insns = functions[function];
  auto it = std::upper_bound(insns.begin(), insns.end(), offset,
                             [](uint64_t o, const Insn& i) { return o < i.offset; });
  return it == insns.begin() ? nullptr : &*std::prev(it);
}

}  // namespace writ::vm
