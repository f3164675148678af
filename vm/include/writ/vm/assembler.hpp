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

#include <string>
#include <string_view>

#include "writ/vm/module.hpp"
#include "writ/vm/result.hpp"

namespace writ::vm {

// Errors carry line and column (1-based).
Result<Module> assemble(std::string_view source);
std::string disassemble(const Module& m);

}  // namespace writ::vm
