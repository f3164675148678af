// Text assembler and disassembler for Writ modules. docs/bytecode.md has the
// syntax; in short:
//
//   .const ONE word 1                  ; word constant (or: bytes 0xdead / bytes "text")
//   .event Transfer(u256 indexed, u256 indexed, u256)
//   .error Short(u256, u256)
//   .meta compiler "writ-asm"
//   .func add2(u64, u64) -> (u64) export view
//     .regs u64                        ; r2 (r0, r1 are the parameters)
//     add r2, r0, r1
//     ret r2
//   .end
//
// Round trip: for every module M that verifies, assemble(disassemble(M)) == M,
// so encode(assemble(disassemble(decode(b)))) == b.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "writ/vm/module.hpp"
#include "writ/vm/result.hpp"

namespace writ::vm {

// Where each instruction of an assembled module was written: per function,
// in code order, its code offset and its line and column (1-based). A
// verifier's error names a function and a code offset; at() turns them back
// into the line of the text.
struct AsmLines {
  struct Insn {
    uint32_t offset, line, column;
  };
  std::vector<std::vector<Insn>> functions;
  // The instruction of function `function` whose bytes hold `offset`, or
  // null where there is none.
  const Insn* at(uint32_t function, uint64_t offset) const;
};

// Errors carry line and column (1-based). With `lines`, also says where each
// instruction came from.
Result<Module> assemble(std::string_view source, AsmLines* lines = nullptr);
std::string disassemble(const Module& m);

}  // namespace writ::vm
