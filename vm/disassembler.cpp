// Disassembler: prints a module in the assembler's syntax so that the text
// assembles back to the same module (assembler.hpp). It mirrors the
// verifier's decoding loop but never fails: bytes that do not decode are
// printed as a `.bytes` comment block and the function is marked unverifiable.
#include <set>

#include "writ/vm/assembler.hpp"
#include "writ/vm/opcodes.hpp"

namespace writ::vm {
namespace {

std::string types_list(const std::vector<ValType>& ts) {
  std::string s = "(";
  for (size_t i = 0; i < ts.size(); ++i) {
    if (i) s += ", ";
    s += type_name(ts[i]);
  }
  return s + ")";
}

std::string hex_bytes(const std::vector<uint8_t>& b) {
  static const char* kHex = "0123456789abcdef";
  std::string s = "0x";
  for (uint8_t x : b) {
    s += kHex[x >> 4];
    s += kHex[x & 15];
  }
  return s;
}

bool printable_text(const std::vector<uint8_t>& b) {
  if (b.empty()) return false;
  for (uint8_t c : b)
    if (c < 0x20 || c > 0x7e || c == '"' || c == ';') return false;
  return true;
}

void disassemble_function(const Module& m, const Function& f, const Export* ex, std::string& out) {
  out += ".func " + f.name + types_list(f.params);
  if (!f.results.empty()) out += " -> " + types_list(f.results);
  if (ex) {
    out += " export";
    if (ex->flags & kExportView) out += " view";
    if (ex->flags & kExportPayable) out += " payable";
    if (ex->flags & kExportReentrant) out += " reentrant";
  }
  out += "\n";
  for (size_t i = 0; i < f.locals.size(); i += 16) {
    out += "  .regs";
    for (size_t j = i; j < f.locals.size() && j < i + 16; ++j) {
      out += ' ';
      out += type_name(f.locals[j]);
    }
    out += "   ; r" + std::to_string(f.params.size() + i) + "..\n";
  }

  // First pass: instruction starts and jump targets.
  std::set<uint32_t> starts, targets;
  size_t pc = 0;
  bool clean = true;
  while (pc < f.code.size()) {
    uint8_t byte = f.code[pc];
    if (!is_defined(byte) || encoded_size(static_cast<Op>(byte)) > f.code.size() - pc) {
      clean = false;
      break;
    }
    Op op = static_cast<Op>(byte);
    starts.insert(static_cast<uint32_t>(pc));
    size_t at = pc + 1;
    for (char c : info(op).operands) {
      if (c == 't') {
        uint32_t t = 0;
        for (int k = 0; k < 4; ++k) t |= uint32_t(f.code[at + k]) << (8 * k);
        targets.insert(t);
      }
      at += operand_width(c);
    }
    pc += encoded_size(op);
  }

  pc = 0;
  while (pc < f.code.size()) {
    uint8_t byte = f.code[pc];
    if (!is_defined(byte) || encoded_size(static_cast<Op>(byte)) > f.code.size() - pc) break;
    if (targets.count(static_cast<uint32_t>(pc))) out += "L" + std::to_string(pc) + ":\n";
    Op op = static_cast<Op>(byte);
    const OpInfo& oi = info(op);
    std::string line = "  " + std::string(oi.mnemonic);
    size_t at = pc + 1;
    bool first = true;
    for (char c : oi.operands) {
      unsigned w = operand_width(c);
      uint64_t v = 0;
      for (unsigned k = 0; k < w; ++k) v |= uint64_t(f.code[at + k]) << (8 * k);
      line += first ? " " : ", ";
      first = false;
      switch (c) {
        case 'i':
          line += std::to_string(static_cast<int64_t>(v));
          break;
        case 'k':
          line += "k" + std::to_string(v);
          break;
        case 'f':
          line += v < m.functions.size() ? m.functions[v].name : "#" + std::to_string(v);
          break;
        case 'e':
          line += v < m.events.size() ? m.events[v].name : "#" + std::to_string(v);
          break;
        case 'x':
          line += v < m.errors.size() ? m.errors[v].name : "#" + std::to_string(v);
          break;
        case 't':
          line += starts.count(static_cast<uint32_t>(v)) ? "L" + std::to_string(v)
                                                         : "@" + std::to_string(v);
          break;
        default:
          line += "r" + std::to_string(v);
          break;
      }
      at += w;
    }
    while (line.size() < 34) line += ' ';
    out += line + "; " + std::to_string(pc) + "\n";
    pc += encoded_size(op);
  }
  if (!clean) {
    out += "  ; UNDECODABLE from code offset " + std::to_string(pc) + ": " +
           hex_bytes(std::vector<uint8_t>(f.code.begin() + static_cast<long>(pc), f.code.end())) +
           "\n";
  }
  out += ".end\n";
}

}  // namespace

std::string disassemble(const Module& m) {
  std::string out;
  for (const MetaEntry& e : m.metadata) out += ".meta " + e.key + " \"" + e.value + "\"\n";
  for (size_t i = 0; i < m.constants.size(); ++i) {
    const Constant& c = m.constants[i];
    out += ".const k" + std::to_string(i) + " ";
    if (c.kind == Constant::Kind::Word) {
      out += "word " + to_hex_string(c.word);
    } else {
      out += "bytes ";
      out += printable_text(c.bytes) ? "\"" + std::string(c.bytes.begin(), c.bytes.end()) + "\""
                                     : hex_bytes(c.bytes);
      if (c.bytes.empty()) out += "  ; empty";
    }
    out += "\n";
  }
  for (const Event& e : m.events) {
    out += ".event " + e.name + "(";
    for (size_t i = 0; i < e.fields.size(); ++i) {
      if (i) out += ", ";
      out += type_name(e.fields[i].type);
      if (e.fields[i].indexed) out += " indexed";
    }
    out += ")\n";
  }
  for (const ErrorDecl& e : m.errors) out += ".error " + e.name + types_list(e.fields) + "\n";
  for (size_t i = 0; i < m.functions.size(); ++i) {
    const Export* ex = nullptr;
    for (const Export& e : m.exports)
      if (e.func == i) ex = &e;
    if (!out.empty()) out += "\n";
    disassemble_function(m, m.functions[i], ex, out);
  }
  return out;
}

}  // namespace writ::vm
