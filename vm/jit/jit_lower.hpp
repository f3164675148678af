// The JIT's lowering to LLVM IR (jit_lower.cpp) and its IR passes
// (jit_passes.cpp), internal to vm/jit/.
#pragma once

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <cstddef>
#include <string>

#include "writ/vm/verifier.hpp"

namespace writ::vm::jit {

// Lowers every function of `vm` into `mod`, each named from `prefix`, with
// gas metering or without; then unrolls small recursions. The caller
// verifies the IR.
void lower_module(llvm::LLVMContext& ctx, llvm::Module& mod, const VerifiedModule& vm,
                  const std::string& prefix, bool metered);
// The name of function f's entry with the C calling convention
// (uint32_t (JitState*, uint64_t* regs)), which the compiler looks up.
std::string entry_name(const std::string& prefix, size_t f);

// Part of the on-disk cache's key: a change of optimize() that the lowered IR
// does not show (a pass added or moved) must not reuse objects compiled before.
inline constexpr unsigned kPipelineVersion = 3;

// LLVM's IR passes: the pipeline of `level` (1-3: O1-O3) with Writ's own
// pass, or for a large module (kOptimizedFunctionInsns) the recursion's
// copies inlined, then the lowering's stack slots promoted to SSA values,
// and nothing else (SROA, in O1's pipeline, took 20-40 s on five functions
// of 3,990 instructions where promotion takes about one).
void optimize(llvm::Module& m, unsigned level, bool large);

// Cuts every basic block longer than `most` instructions into blocks of at
// most that many, joined by unconditional branches: the instruction
// selector works on one block at a time, and its time grows faster than a
// block's length (run after the IR passes, which would merge them again).
void split_long_blocks(llvm::Module& m, size_t most);

}  // namespace writ::vm::jit
