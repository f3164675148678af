// The JIT tier: lowering of pre-decoded functions (program.hpp) to LLVM IR,
// compiled by ORC's LLJIT. Reference semantics: vm/interpreter_loop.inc;
// every rule below mirrors a line there.
//
// The compiled function of pre-decoded function f is
//     uint32_t f(JitState* st, uint64_t* regs)
// and runs on the interpreter's own register stack (`regs` is the frame's
// first slot, a callee's frame starts at regs + frame_slots, as in the
// interpreter), so frame sizes, the register-stack bound and the results'
// slots are the interpreter's. It returns 0 (Ok) or a trap status, with the
// trap's function and pc in the state; a RET stores its results in the
// frame's first slots (where its caller reads them).
//
// Registers: within a function the frame is an LLVM stack array that SROA
// turns into SSA values, so registers live in machine registers. The frame's
// memory on the register stack is written only where code outside the
// function reads it: before a helper call, the slots the instruction reads
// (its operand letters in opcodes.def say which); after it, the slots it
// writes are read back; a CALL stores the callee's arguments, a RET its
// results. Parameters are read from it at entry; the other slots start at 0,
// as the interpreter zeroes a new frame.
//
// Gas: kept in a local that LLVM holds in a register, written back to the
// state before every call out of the function and at every exit. Static
// gas is charged where the interpreter charges it (program.hpp, invariant 3):
// a taken branch charges its target block on the edge, a fall-through its
// block, a kOpGas pseudo-instruction its block, a CALL its callee's entry
// block; a trap for gas reports the pc the interpreter reports.
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/InstIterator.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/Transforms/Utils/Cloning.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <vector>

#include "jit_lower.hpp"
#include "jit_state.hpp"
#include "machine.hpp"
#include "program.hpp"
#include "writ/vm/gas.hpp"
#include "writ/vm/jit.hpp"

namespace writ::vm::jit {

namespace {

// Whether a Buffer is {begin, end, capacity} pointers, as the inline buffer
// accesses read it (libstdc++ and libc++ both are); checked once, and when it
// is not so the accesses go through the helpers.
bool vector_layout_is_three_pointers() {
  static const bool kOk = [] {
    if (sizeof(Buffer) != 3 * sizeof(uint8_t*)) return false;
    Buffer v(5);
    uint8_t* words[3];
    std::memcpy(words, static_cast<const void*>(&v), sizeof words);
    return words[0] == v.data() && words[1] == v.data() + 5;
  }();
  return kOk;
}

bool is_terminator_or_branch(uint16_t op) {
  if (op >= kOpcodeCount) return false;
  const OpInfo& info = kOpInfo[op];
  return (info.flags & (F_TERM | F_BRANCH)) != 0;
}

class Lowering {
 public:
  Lowering(llvm::LLVMContext& ctx, llvm::Module& mod, const VerifiedModule& vm,
           const std::string& prefix, bool metered)
      : ctx_(ctx),
        mod_(mod),
        b_(ctx),
        vm_(vm),
        prog_(vm.program()),
        prefix_(prefix),
        metered_(metered) {
    uint64_t max_frame = 0;
    for (const FuncCode& f : prog_.funcs) max_frame = std::max<uint64_t>(max_frame, f.frame_slots);
    stack_cannot_overflow_ = max_frame * kMaxFrames <= kMaxStackSlots;
    i1_ = llvm::Type::getInt1Ty(ctx);
    i8_ = llvm::Type::getInt8Ty(ctx);
    i32_ = llvm::Type::getInt32Ty(ctx);
    i64_ = llvm::Type::getInt64Ty(ctx);
    i256_ = llvm::Type::getIntNTy(ctx, 256);
    entry_ty_ = llvm::FunctionType::get(i32_, {i8_->getPointerTo(), i64_->getPointerTo()}, false);
    pair_ty_ = llvm::StructType::get(ctx, {i64_, i64_, i64_});
    for (size_t f = 0; f < prog_.funcs.size(); ++f) {
      // Internal: {gas left, status | pc << 32, result} f(state, regs, stack end, gas, depth,
      // params...)
      std::vector<llvm::Type*> params = {i8_->getPointerTo(), i64_->getPointerTo(),
                                         i64_->getPointerTo(), i64_, i32_};
      params.insert(params.end(), prog_.funcs[f].param_slots, i64_);
      auto* fn = llvm::Function::Create(llvm::FunctionType::get(pair_ty_, params, false),
                                        llvm::Function::InternalLinkage,
                                        prefix_ + "i" + std::to_string(f), mod_);
      fn->setCallingConv(llvm::CallingConv::Fast);
      fn->addParamAttr(0, llvm::Attribute::NoAlias);
      fn->addParamAttr(1, llvm::Attribute::NoAlias);
      fn->addFnAttr(llvm::Attribute::NoUnwind);
      fns_.push_back(fn);
    }
    entry_test_.assign(fns_.size(), nullptr);
    llvm::MDBuilder md(ctx);
    llvm::MDNode* root = md.createTBAARoot("writ");
    llvm::MDNode* meta = md.createTBAAScalarTypeNode("heap vector words", root);
    llvm::MDNode* bytes = md.createTBAAScalarTypeNode("buffer bytes", root);
    tbaa_meta_ = md.createTBAAStructTagNode(meta, meta, 0);
    tbaa_bytes_ = md.createTBAAStructTagNode(bytes, bytes, 0);
    cold_ = md.createBranchWeights(1, 1U << 20);
  }

  // A branch whose `cold` side traps: LLVM lays it out of the hot path.
  void br_cold(llvm::Value* cond, llvm::BasicBlock* cold, llvm::BasicBlock* hot) {
    b_.CreateCondBr(cond, cold, hot, cold_);
  }

  template <typename I>
  I* tagged(I* inst, llvm::MDNode* tag) {
    inst->setMetadata(llvm::LLVMContext::MD_tbaa, tag);
    return inst;
  }

  std::string name(size_t f) const { return entry_name(prefix_, f); }

  // A recursion's base-case test (lower_guard): a function whose entry
  // block computes only registers (moves, constants, wrapping arithmetic,
  // comparisons: nothing that traps or reaches outside the frame) and ends
  // in a branch, and that no branch enters at its first instruction.
  // Returns the index of the branch, or 0 when the function does not qualify.
  static size_t pure_entry_block(const FuncCode& f) {
    for (size_t i = 0; i < f.code.size(); ++i) {
      const Insn& in = f.code[i];
      if (in.op < kOpcodeCount && (kOpInfo[in.op].flags & F_BRANCH) && branch_target(in, i) == 0)
        return 0;
    }
    for (size_t i = 0; i < f.code.size(); ++i) {
      const uint16_t op = f.code[i].op;
      if (op < kOpcodeCount && (kOpInfo[op].flags & F_BRANCH)) return i;  // jmp or conditional
      if (!is_pure(op)) return 0;
    }
    return 0;
  }
  // An instruction that computes registers only: nothing that traps or
  // reaches outside the frame.
  static bool is_pure(uint16_t op) {
    static constexpr Op kPure[] = {
        Op::NOP,   Op::MOV,    Op::CONST,   Op::WMOV,  Op::WCONST, Op::WCONSTI, Op::ZEXT, Op::SEXT,
        Op::TRUNC, Op::SELECT, Op::ADD,     Op::SUB,   Op::MUL,    Op::ADDI,    Op::AND,  Op::OR,
        Op::XOR,   Op::NOT,    Op::SHL,     Op::SHR_U, Op::SHR_S,  Op::ANDI,    Op::XORI, Op::SHLI,
        Op::SHRI,  Op::ADD32,  Op::ROTRI32, Op::EQ,    Op::NE,     Op::LT_U,    Op::LE_U, Op::LT_S,
        Op::LE_S,  Op::EQZ,    Op::EQI,     Op::LTI_U};
    return op < kOpcodeCount &&
           std::find(std::begin(kPure), std::end(kPure), static_cast<Op>(op)) != std::end(kPure);
  }
  // Whether the code from instruction `at` is a few register computations
  // and a return: a recursion's base case.
  static bool returns_at_once(const FuncCode& f, size_t at) {
    for (size_t i = at; i < f.code.size() && i < at + kMaxGuardInsns; ++i) {
      if (f.code[i].op == static_cast<uint16_t>(Op::RET)) return true;
      if (!is_pure(f.code[i].op)) return false;
    }
    return false;
  }

  // Recursion unrolled by kRecursionCopies levels: a small function that
  // calls itself calls, instead, the first of that many copies of itself,
  // each marked always-inline and calling the next, the last calling the
  // function again. Once the copies are inlined, only every third level of
  // the recursion makes a call, and the leaves of a recursion such as
  // Fibonacci's (half of its calls) run as a test and a branch in their
  // caller. The copies are the same lowered code: their gas charges, depth
  // and register-stack tests, trap sites (the function's index and pcs) and
  // frames (each callee frame at its caller's end) are the function's own,
  // so results, traps and gas are unchanged.
  void unroll_recursion() {
    for (size_t f = 0; f < fns_.size(); ++f) {
      if (prog_.funcs[f].code.size() > kMaxUnrolledInsns) continue;
      llvm::Function* fn = fns_[f];
      const auto self_calls = [fn](llvm::Function& in) {
        std::vector<llvm::CallInst*> calls;
        for (llvm::Instruction& inst : llvm::instructions(in))
          if (auto* call = llvm::dyn_cast<llvm::CallInst>(&inst);
              call && call->getCalledFunction() == fn)
            calls.push_back(call);
        return calls;
      };
      // Each level inlines a copy at every self-call of the level above: k
      // self-calls give 1 + k + k^2 bodies for two levels. Within a budget
      // of kMaxUnrolledInsns * 8 instructions, as many levels as fit.
      const size_t k = self_calls(*fn).size();
      const size_t size = prog_.funcs[f].code.size();
      unsigned levels = 0;
      for (size_t bodies = 1, width = 1; levels < kRecursionCopies; ++levels) {
        width *= k;
        bodies += width;
        if (k == 0 || size * bodies > kMaxUnrolledInsns * 8) break;
      }
      if (levels == 0) continue;
      std::vector<llvm::Function*> chain = {fn};
      for (unsigned l = 0; l < levels; ++l) {
        llvm::ValueToValueMapTy map;
        llvm::Function* copy = llvm::CloneFunction(fn, map);
        copy->setName(fn->getName() + "_copy" + std::to_string(l));
        copy->addFnAttr(llvm::Attribute::AlwaysInline);
        // Inlined, a copy is a stretch of its caller's code: no test at its
        // entry (the function's own entry, every third level, tests).
        if (llvm::Value* test = entry_test_[f]) {
          auto* in_copy = llvm::cast<llvm::Instruction>(map[test]);
          in_copy->replaceAllUsesWith(llvm::ConstantInt::getFalse(ctx_));
          in_copy->eraseFromParent();
        }
        chain.push_back(copy);
      }
      if (llvm::Function* guard = lower_guard(static_cast<uint32_t>(f))) chain.push_back(guard);
      for (size_t l = 0; l + 1 < chain.size(); ++l)
        for (llvm::CallInst* call : self_calls(*chain[l])) call->setCalledFunction(chain[l + 1]);
    }
  }

  // The entry of function f called from C++: uint32_t (JitState*, uint64_t* regs),
  // parameters in the frame's memory, gas in the state; on Ok the RET's pc
  // goes to trap_pc.
  void lower_entry(uint32_t f) {
    auto* fn = llvm::Function::Create(entry_ty_, llvm::Function::ExternalLinkage, name(f), mod_);
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn));
    st_ = fn->getArg(0);
    llvm::Value* regs = fn->getArg(1);
    std::vector<llvm::Value*> args = {
        st_, regs,
        b_.CreateLoad(i64_->getPointerTo(),
                      field(offsetof(JitState, stack_end), i64_->getPointerTo())),
        b_.CreateLoad(i64_, field(offsetof(JitState, gas), i64_)), b_.getInt32(0)};
    for (uint32_t k = 0; k < prog_.funcs[f].param_slots; ++k)
      args.push_back(
          b_.CreateAlignedLoad(i64_, b_.CreateConstInBoundsGEP1_64(i64_, regs, k), llvm::Align(8)));
    auto* r = b_.CreateCall(fns_[f], args);
    r->setCallingConv(llvm::CallingConv::Fast);
    llvm::Value* gas = b_.CreateExtractValue(r, 0);
    b_.CreateStore(gas, field(offsetof(JitState, gas), i64_));
    llvm::Value* sp = b_.CreateExtractValue(r, 1);
    llvm::Value* status = b_.CreateTrunc(sp, i32_);
    auto* ok = llvm::BasicBlock::Create(ctx_, "ok", fn);
    auto* out = llvm::BasicBlock::Create(ctx_, "out", fn);
    auto* returned = llvm::BasicBlock::Create(ctx_, "returned", fn);
    b_.CreateCondBr(b_.CreateICmpEQ(status, b_.getInt32(0)), returned, out);
    b_.SetInsertPoint(returned);
    if (metered_) {
      // Charges after the last test: a return with the gas below zero is an
      // out-of-gas trap found late.
      auto* late = llvm::BasicBlock::Create(ctx_, "out_of_gas_late", fn);
      br_cold(b_.CreateICmpSLT(gas, b_.getInt64(0)), late, ok);
      b_.SetInsertPoint(late);
      b_.CreateStore(b_.getInt32(f), field(offsetof(JitState, trap_func), i32_));
      b_.CreateStore(b_.getInt32(kUnplacedPc), field(offsetof(JitState, trap_pc), i32_));
      b_.CreateRet(b_.getInt32(st_code(Status::OutOfGas)));
    } else {
      b_.CreateBr(ok);
    }
    b_.SetInsertPoint(ok);
    b_.CreateStore(b_.CreateTrunc(b_.CreateLShr(sp, 32), i32_),
                   field(offsetof(JitState, trap_pc), i32_));
    if (prog_.funcs[f].result_slots == 1)
      b_.CreateAlignedStore(b_.CreateExtractValue(r, 2), regs, llvm::Align(8));
    b_.CreateBr(out);
    b_.SetInsertPoint(out);
    b_.CreateRet(status);
  }

  void lower(uint32_t f) { lower_into(f, fns_[f], 0); }

  // A recursion's guard: function f's entry block and base case, lowered as
  // f lowers them, in a function of f's type that is inlined where the last
  // of the recursion's copies calls f; the branch of the entry block that
  // does not return at once calls f with the same arguments instead (f
  // computes its entry block again, which has no effect but registers).
  // Where the unrolled levels end, a leaf (half the calls of recursive
  // Fibonacci) is then a test and a branch in its caller instead of a call
  // of f that saves and restores its registers to return at once. Returns
  // null when f's entry block is not pure or no branch of it returns at once.
  llvm::Function* lower_guard(uint32_t f) {
    const FuncCode& fc = prog_.funcs[f];
    const size_t branch = pure_entry_block(fc);
    if (branch == 0) return nullptr;
    const Insn& in = fc.code[branch];
    const bool conditional = in.op != static_cast<uint16_t>(Op::JMP);
    const bool taken_returns = returns_at_once(fc, branch_target(in, branch));
    const bool fall_returns = conditional && returns_at_once(fc, branch + 1);
    if (!conditional || taken_returns == fall_returns) return nullptr;
    llvm::Function* fn = fns_[f];
    auto* guard = llvm::Function::Create(fn->getFunctionType(), llvm::Function::InternalLinkage,
                                         prefix_ + "g" + std::to_string(f), mod_);
    guard->setCallingConv(llvm::CallingConv::Fast);
    guard->setAttributes(fn->getAttributes());
    guard->addFnAttr(llvm::Attribute::AlwaysInline);
    lower_into(f, guard, branch);
    return guard;
  }

  // Lowers function f into F; guard_branch != 0: as f's guard (lower_guard),
  // whose entry block ends with the branch at that index.
  void lower_into(uint32_t f, llvm::Function* F, size_t guard_branch) {
    func_ = f;
    fc_ = &prog_.funcs[f];
    guard_branch_ = guard_branch;
    F_ = F;
    const auto& code = fc_->code;
    auto* entry = llvm::BasicBlock::Create(ctx_, "entry", F_);
    b_.SetInsertPoint(entry);
    st_ = F_->getArg(0);
    regs_ = F_->getArg(1);
    stack_end_ = F_->getArg(2);
    depth_ = F_->getArg(4);
    gas_ = b_.CreateAlloca(i64_, nullptr, "gas");
    frame_ = b_.CreateAlloca(llvm::ArrayType::get(i64_, std::max<uint32_t>(fc_->frame_slots, 1)),
                             nullptr, "frame");
    for (auto*& t : wide_tmp_) t = b_.CreateAlloca(i256_, nullptr, "wide_arg");
    for (uint32_t k = 0; k < fc_->frame_slots; ++k)
      st(k, k < fc_->param_slots ? static_cast<llvm::Value*>(F_->getArg(5 + k)) : b_.getInt64(0));
    b_.CreateStore(F_->getArg(3), gas_);

    // One block per leader: the entry, every branch target, every
    // instruction after a branch or terminator.
    std::vector<bool> leader(code.size() + 1, false);
    leader[0] = true;
    for (size_t i = 0; i < code.size(); ++i) {
      const Insn& in = code[i];
      if (in.op < kOpcodeCount && (kOpInfo[in.op].flags & F_BRANCH))
        leader[branch_target(in, i)] = true;
      if (is_terminator_or_branch(in.op)) leader[i + 1] = true;
    }
    blocks_.assign(code.size(), nullptr);
    for (size_t i = 0; i < code.size(); ++i)
      if (leader[i]) blocks_[i] = llvm::BasicBlock::Create(ctx_, "i" + std::to_string(i), F_);
    trap_ = llvm::BasicBlock::Create(ctx_, "trap", F_);
    trap_incoming_.clear();
    find_loops();
    // The entry tests the gas (the caller's charges since its last test,
    // this function's entry gas among them), so that a recursion stops; the
    // copies that unroll_recursion inlines do not.
    if (guard_branch == 0) entry_test_[f] = test_gas();
    b_.CreateBr(blocks_[0]);

    // The code, its gas tested late (charge); then each loop's unchecked copy.
    unchecked_ = nullptr;
    lower_range(0, code.size(), blocks_);
    for (Loop& loop : loops_) {
      if (!loop.versioned) continue;
      // The guard: enough gas for every charge of `copies` iterations, or the tested code.
      b_.SetInsertPoint(loop.guard);
      loop.fast.assign(loop.copies, std::vector<llvm::BasicBlock*>(code.size(), nullptr));
      for (unsigned c = 0; c < loop.copies; ++c)
        for (size_t i = loop.head; i <= loop.end; ++i)
          if (blocks_[i])
            loop.fast[c][i] = llvm::BasicBlock::Create(
                ctx_, "u" + std::to_string(c) + "_" + std::to_string(i), F_);
      if (metered_)
        br_cold(b_.CreateICmpSLT(b_.CreateLoad(i64_, gas_), b_.getInt64(loop.gas * loop.copies)),
                blocks_[loop.head], loop.fast[0][loop.head]);
      else
        b_.CreateBr(loop.fast[0][loop.head]);
      unchecked_ = &loop;
      for (copy_ = 0; copy_ < loop.copies; ++copy_)
        lower_range(loop.head, loop.end + 1, loop.fast[copy_]);
      unchecked_ = nullptr;
      copy_ = 0;
    }

    // The shared trap exit: status and pc from the trapping site.
    b_.SetInsertPoint(trap_);
    if (trap_incoming_.empty()) {
      b_.CreateUnreachable();
      return;
    }
    auto* status_at = b_.CreatePHI(i32_, static_cast<unsigned>(trap_incoming_.size()), "status");
    auto* pc_at = b_.CreatePHI(i32_, static_cast<unsigned>(trap_incoming_.size()), "pc");
    for (const auto& t : trap_incoming_) {
      status_at->addIncoming(t.status, t.from);
      pc_at->addIncoming(b_.getInt32(t.pc), t.from);
    }
    // A trap after a charge that ran the gas out: the interpreter would
    // have stopped at that charge.
    llvm::Value* status = status_at;
    llvm::Value* pc = pc_at;
    if (metered_) {
      llvm::Value* out = b_.CreateICmpSLT(b_.CreateLoad(i64_, gas_), b_.getInt64(0));
      status = b_.CreateSelect(out, b_.getInt32(st_code(Status::OutOfGas)), status_at);
      pc = b_.CreateSelect(out, b_.getInt32(kUnplacedPc), pc_at);
    }
    b_.CreateStore(b_.getInt32(func_), field(offsetof(JitState, trap_func), i32_));
    b_.CreateStore(pc, field(offsetof(JitState, trap_pc), i32_));
    ret_pair(b_.CreateZExt(status, i64_));
  }

 private:
  struct TrapEdge {
    llvm::Value* status;
    uint32_t pc;
    llvm::BasicBlock* from;
  };

  llvm::Value* field(size_t offset, llvm::Type* ty) {
    llvm::Value* p = b_.CreateConstInBoundsGEP1_64(i8_, st_, offset);
    return b_.CreateBitCast(p, ty->getPointerTo());
  }
  // A register slot in the function's SSA frame, and in its memory frame.
  llvm::Value* slot(uint32_t s) { return b_.CreateConstGEP2_64(frame_type(), frame_, 0, s); }
  llvm::Type* frame_type() { return frame_->getAllocatedType(); }
  llvm::Value* mem_slot(uint32_t s) { return b_.CreateConstInBoundsGEP1_64(i64_, regs_, s); }
  void spill(uint32_t from, uint32_t count) {
    for (uint32_t k = from; k < from + count && k < fc_->frame_slots; ++k)
      b_.CreateAlignedStore(ld(k), mem_slot(k), llvm::Align(8));
  }
  void unspill(uint32_t from, uint32_t count) {
    for (uint32_t k = from; k < from + count && k < fc_->frame_slots; ++k)
      st(k, b_.CreateAlignedLoad(i64_, mem_slot(k), llvm::Align(8)));
  }
  // The slots an instruction reads (before == true) or writes, by its
  // operand letters: spilled before a helper call, read back after it.
  void sync_operands(const Insn& in, bool before) {
    if (in.op >= kOpcodeCount) return;
    const uint16_t fields[5] = {in.a, in.b, in.c, in.ext.d, in.ext.e};
    unsigned n = 0;
    for (char c : std::string_view(kOpInfo[in.op].operands)) {
      if (c == 'i' || c == 't') continue;
      if (n >= 5) break;
      const uint32_t s = fields[n++];
      switch (c) {
        case 'a':
        case 'b':
          if (before) spill(s, 1);
          break;
        case 'w':
          if (before) spill(s, 4);
          break;
        case 'r':  // a run: its length is the event's or error's; to the frame's end
          if (before) spill(s, fc_->frame_slots);
          break;
        case 'A':
        case 'B':
          if (!before) unspill(s, 1);
          break;
        case 'W':
          if (!before) unspill(s, 4);
          break;
        default:
          break;
      }
    }
  }
  // A 256-bit helper argument or result: a stack temporary the helper reads or writes.
  llvm::Value* wide_in(unsigned i, uint32_t s) {
    b_.CreateAlignedStore(ldw(s), wide_tmp_[i], llvm::Align(8));
    return b_.CreateBitCast(wide_tmp_[i], i64_->getPointerTo());
  }
  llvm::Value* wide_out() { return b_.CreateBitCast(wide_tmp_[3], i64_->getPointerTo()); }
  void store_wide_out(uint32_t s) {
    stw(s, b_.CreateAlignedLoad(i256_, wide_tmp_[3], llvm::Align(8)));
  }
  llvm::Value* slot_of(llvm::Value* base, uint32_t s) {
    return b_.CreateConstInBoundsGEP1_64(i64_, base, s);
  }
  llvm::Value* ld(uint32_t s) { return b_.CreateAlignedLoad(i64_, slot(s), llvm::Align(8)); }
  void st(uint32_t s, llvm::Value* v) { b_.CreateAlignedStore(v, slot(s), llvm::Align(8)); }
  llvm::Value* ldw(uint32_t s) {
    return b_.CreateAlignedLoad(i256_, b_.CreateBitCast(slot(s), i256_->getPointerTo()),
                                llvm::Align(8));
  }
  void stw(uint32_t s, llvm::Value* v) {
    b_.CreateAlignedStore(v, b_.CreateBitCast(slot(s), i256_->getPointerTo()), llvm::Align(8));
  }
  llvm::Value* bool64(llvm::Value* c) { return b_.CreateZExt(c, i64_); }
  llvm::Value* imm64(const Insn& in) { return b_.getInt64(static_cast<uint64_t>(in.imm)); }

  // Returns {gas left, status_pc, result} (status in the low half of status_pc, a
  // RET's pc in the high).
  // A single-slot result travels in the third field, in a register.
  void ret_pair(llvm::Value* status_pc, llvm::Value* result = nullptr) {
    llvm::Value* r = llvm::UndefValue::get(pair_ty_);
    r = b_.CreateInsertValue(r, b_.CreateLoad(i64_, gas_), 0);
    r = b_.CreateInsertValue(r, status_pc, 1);
    b_.CreateRet(b_.CreateInsertValue(r, result ? result : b_.getInt64(0), 2));
  }
  // Before a helper that reads the gas or reaches outside the frame: the gas tested, then stored.
  void flush_gas() {
    test_gas();
    b_.CreateStore(b_.CreateLoad(i64_, gas_), field(offsetof(JitState, gas), i64_));
  }
  void reload_gas() {
    b_.CreateStore(b_.CreateLoad(i64_, field(offsetof(JitState, gas), i64_)), gas_);
  }

  // Branches to the trap exit with `status` (an i32) when `cond` holds.
  void trap_if(llvm::Value* cond, llvm::Value* status, uint32_t pc) {
    auto* cont = llvm::BasicBlock::Create(ctx_, "ok", F_);
    br_cold(cond, trap_, cont);
    trap_incoming_.push_back({status, pc, b_.GetInsertBlock()});
    b_.SetInsertPoint(cont);
  }
  void trap_if(llvm::Value* cond, Status s, uint32_t pc) {
    trap_if(cond, b_.getInt32(st_code(s)), pc);
  }
  void trap(Status s, uint32_t pc) {
    trap_incoming_.push_back({b_.getInt32(st_code(s)), pc, b_.GetInsertBlock()});
    b_.CreateBr(trap_);
  }
  // A helper's status: trap unless 0.
  void check(llvm::Value* status, uint32_t pc) {
    trap_if(b_.CreateICmpNE(status, b_.getInt32(0)), status, pc);
  }

  // Gas tested late (docs/jit.md): a charge subtracts without a test, and
  // the gas is tested where a charge that ran it out could matter: before
  // anything reads the gas or reaches outside the frame (flush_gas), at a
  // function's entry, on a backward branch, at a trap and at the return to
  // C++. Gas only falls, so a test that passes says that every charge
  // before it passed, and the code between two tests computes registers
  // only: a test that fails traps OutOfGas at kUnplacedPc, and the call runs
  // again on the interpreter, which finds the charge.
  void charge(uint64_t amount) {
    if (amount == 0 || !metered_) return;
    b_.CreateStore(b_.CreateSub(b_.CreateLoad(i64_, gas_), b_.getInt64(amount)), gas_);
  }
  // The gas test; returns the comparison (null when unmetered).
  llvm::Value* test_gas() {
    if (!metered_) return nullptr;
    llvm::Value* out = b_.CreateICmpSLT(b_.CreateLoad(i64_, gas_), b_.getInt64(0));
    trap_if(out, Status::OutOfGas, kUnplacedPc);
    return out;
  }

  // An edge into block `target` that pays its gas first.
  void edge(uint32_t target, uint64_t gas) {
    if (guard_branch_ != 0 && cur_ == guard_branch_ && !returns_at_once(*fc_, target)) {
      // The guard's way into the body: the function itself, called as the
      // guard was, charges and computes everything from its entry.
      std::vector<llvm::Value*> args;
      for (llvm::Argument& a : F_->args()) args.push_back(&a);
      auto* r = b_.CreateCall(fns_[func_], args);
      r->setCallingConv(llvm::CallingConv::Fast);
      r->setTailCall();
      b_.CreateRet(r);
      return;
    }
    charge(gas);
    // A backward branch tests, so that a loop stops (a versioned loop's
    // unchecked copy goes back through its guard instead).
    if (!unchecked_ && target <= cur_) test_gas();
    b_.CreateBr(dest(target));
  }

  // Loop versioning. A loop whose body is the contiguous code [head, end],
  // entered only at head, with no inner loop, internal call or instruction
  // of dynamic gas, gets a second copy with no test at its back edges. A
  // guard at the head takes it when the gas left covers every charge in the
  // body (`gas`, the sum of its blocks' and edges' charges: one iteration
  // pays each at most once), so no charge of the iteration can fail;
  // otherwise the first copy runs, testing the gas at each back edge
  // (edge). Entries from outside and the second copy's back edges go to the
  // guard.
  //
  // A small body's unchecked copy is laid out several times in a row, each
  // copy's back edges going to the next copy's head and the last copy's to
  // the guard, which then asks for gas for that many iterations: one test
  // per `copies` iterations (a tight loop's test was a fifth of its time),
  // and the charges between fold into one subtraction. Up to kMaxCopies
  // copies, and about kCopiedInsns instructions in all (code size and
  // compile time; measured on the sort workload: 1 copy 22-41% metering
  // cost, 4 copies 15-17%, 8 copies 4-8%).
  static constexpr size_t kMaxCopies = 8;
  static constexpr size_t kCopiedInsns = 96;
  struct Loop {
    size_t head = 0, end = 0;
    uint64_t gas = 0;
    bool versioned = false;
    llvm::BasicBlock* guard = nullptr;
    unsigned copies = 1;
    std::vector<std::vector<llvm::BasicBlock*>> fast;  // per unchecked copy, its blocks
  };

  void find_loops() {
    const auto& code = fc_->code;
    loops_.clear();
    loop_at_.assign(code.size(), -1);
    // Unmetered code (benchmarks' baseline) is laid out the same way, its
    // guard always passing, so that metered / unmetered measures the charges
    // and tests alone.
    std::map<size_t, size_t> ends;  // head -> last backward branch to it
    for (size_t i = 0; i < code.size(); ++i) {
      const Insn& in = code[i];
      if (in.op < kOpcodeCount && (kOpInfo[in.op].flags & F_BRANCH) && branch_target(in, i) <= i)
        ends[branch_target(in, i)] = std::max(ends[branch_target(in, i)], i);
    }
    for (const auto& [head, end] : ends) {
      Loop loop;
      loop.head = head;
      loop.end = end;
      bool ok = true;
      for (size_t i = head; ok && i <= end; ++i) {
        const Insn& in = code[i];
        if (in.op == kOpGas) {
          loop.gas += static_cast<uint64_t>(in.imm);
          continue;
        }
        const uint32_t flags = kOpInfo[in.op].flags;
        if (flags & (F_DYN | F_CALL)) ok = false;
        if (flags & F_BRANCH) {
          const uint32_t t = branch_target(in, i);
          if (t <= i && t != head) ok = false;  // an inner loop
          loop.gas += in.br.gas;
        }
        if (flags & F_COND) loop.gas += in.ft_gas;
      }
      // Entered only at its head (from outside, by a branch).
      for (size_t i = 0; ok && i < code.size(); ++i) {
        if (i >= head && i <= end) continue;
        const Insn& in = code[i];
        if (in.op < kOpcodeCount && (kOpInfo[in.op].flags & F_BRANCH) &&
            branch_target(in, i) > head && branch_target(in, i) <= end)
          ok = false;
      }
      if (!ok) continue;
      for (const Loop& other : loops_)  // regions do not overlap
        if (head <= other.end && other.head <= end) ok = false;
      if (!ok) continue;
      loop.versioned = true;
      loop.copies =
          static_cast<unsigned>(std::clamp<size_t>(kCopiedInsns / (end - head + 1), 1, kMaxCopies));
      loop.guard = llvm::BasicBlock::Create(ctx_, "guard" + std::to_string(head), F_);
      for (size_t i = head; i <= end; ++i) loop_at_[i] = static_cast<int>(loops_.size());
      loops_.push_back(std::move(loop));
    }
  }

  // Where control goes for `target` from the code being lowered.
  llvm::BasicBlock* dest(size_t target) {
    const int l = loop_at_[target];
    if (l >= 0 && loops_[l].head == target) {
      // An unchecked copy's back edge: on to the next copy while there is one.
      if (unchecked_ == &loops_[l] && copy_ + 1 < unchecked_->copies)
        return unchecked_->fast[copy_ + 1][target];
      // Into a versioned loop's head: through its guard, except the tested
      // copy's own back edges (once the guard failed it fails again: gas
      // only falls).
      const bool own_back_edge = !unchecked_ && loop_at_[cur_] == l;
      return own_back_edge ? blocks_[target] : loops_[l].guard;
    }
    if (unchecked_ && l >= 0 && &loops_[l] == unchecked_) return unchecked_->fast[copy_][target];
    return blocks_[target];
  }

  // Lowers code[from, to) into `blocks`; control falling off the end goes on to `to`.
  void lower_range(size_t from, size_t to, const std::vector<llvm::BasicBlock*>& blocks) {
    bool open = false;
    for (size_t i = from; i < to; ++i) {
      if (blocks[i]) {
        cur_ = i - 1;  // falling through from the instruction before
        if (open) b_.CreateBr(dest(i));
        b_.SetInsertPoint(blocks[i]);
        open = true;
      }
      cur_ = i;
      if (!open) continue;  // unreachable code after a terminator
      open = insn(i);
    }
    if (!open) return;
    if (to < fc_->code.size()) {
      cur_ = to - 1;
      b_.CreateBr(dest(to));
    } else {
      b_.CreateUnreachable();  // the verifier ends every function with a terminator
    }
  }
  void cond_branch(size_t i, llvm::Value* cond) {
    const Insn& in = fc_->code[i];
    auto* taken = llvm::BasicBlock::Create(ctx_, "taken", F_);
    auto* fall = llvm::BasicBlock::Create(ctx_, "fall", F_);
    b_.CreateCondBr(cond, taken, fall);
    b_.SetInsertPoint(taken);
    edge(branch_target(in, i), in.br.gas);
    b_.SetInsertPoint(fall);
    edge(static_cast<uint32_t>(i + 1), in.ft_gas);
  }

  // A call of one of the helpers above, by name: the compiled object holds
  // no addresses of this process, so it can be cached on disk and loaded by
  // another (the JIT resolves the names, Compiler::create).
  llvm::Value* helper(const char* name, llvm::FunctionType* ty, std::vector<llvm::Value*> args) {
    llvm::FunctionCallee f = mod_.getOrInsertFunction(name, ty);
    if (auto* fn = llvm::dyn_cast<llvm::Function>(f.getCallee()))
      fn->addFnAttr(llvm::Attribute::NoUnwind);
    return b_.CreateCall(f, args);
  }
  llvm::FunctionType* fn_type(llvm::Type* ret, std::vector<llvm::Type*> params) {
    return llvm::FunctionType::get(ret, params, false);
  }
  llvm::Value* intrinsic(llvm::Intrinsic::ID id, llvm::Type* ty, std::vector<llvm::Value*> args) {
    llvm::Function* f = llvm::Intrinsic::getDeclaration(&mod_, id, {ty});
    return b_.CreateCall(f, args);
  }
  // The value and the overflow flag of an *.with.overflow intrinsic.
  std::pair<llvm::Value*, llvm::Value*> with_overflow(llvm::Intrinsic::ID id, llvm::Type* ty,
                                                      llvm::Value* x, llvm::Value* y) {
    llvm::Value* r = intrinsic(id, ty, {x, y});
    return {b_.CreateExtractValue(r, 0), b_.CreateExtractValue(r, 1)};
  }
  llvm::Value* wconst(const U256& v) {
    return llvm::ConstantInt::get(ctx_, llvm::APInt(256, llvm::ArrayRef<uint64_t>(v.limb, 4)));
  }

  // Lowers instruction i; returns whether control may fall through to i + 1.
  bool insn(size_t i) {
    const Insn& in = fc_->code[i];
    const uint32_t pc = in.pc;
    using llvm::Intrinsic::ID;
    if (in.op == kOpGas) {
      charge(static_cast<uint64_t>(in.imm));
      return true;
    }
    auto* ptr_t = i64_->getPointerTo();
    switch (static_cast<Op>(in.op)) {
      // ---- control
      case Op::NOP:
        return true;
      case Op::JMP:
        edge(branch_target(in, i), in.br.gas);
        return false;
      case Op::BR_IF:
        cond_branch(i, b_.CreateICmpNE(ld(in.a), b_.getInt64(0)));
        return false;
      case Op::BR_IFNOT:
        cond_branch(i, b_.CreateICmpEQ(ld(in.a), b_.getInt64(0)));
        return false;
      case Op::BEQ:
        cond_branch(i, b_.CreateICmpEQ(ld(in.a), ld(in.b)));
        return false;
      case Op::BNE:
        cond_branch(i, b_.CreateICmpNE(ld(in.a), ld(in.b)));
        return false;
      case Op::BLT_U:
        cond_branch(i, b_.CreateICmpULT(ld(in.a), ld(in.b)));
        return false;
      case Op::BGE_U:
        cond_branch(i, b_.CreateICmpUGE(ld(in.a), ld(in.b)));
        return false;
      case Op::BLT_S:
        cond_branch(i, b_.CreateICmpSLT(ld(in.a), ld(in.b)));
        return false;
      case Op::BGE_S:
        cond_branch(i, b_.CreateICmpSGE(ld(in.a), ld(in.b)));
        return false;
      case Op::CALL:
        call(in);
        return true;
      case Op::RET:
        if (fc_->result_slots == 1) {
          ret_pair(b_.getInt64(uint64_t{pc} << 32), ld(in.a));
          return false;
        }
        for (uint32_t k = 0; k < fc_->result_slots; ++k)
          b_.CreateAlignedStore(ld(in.a + k), mem_slot(k), llvm::Align(8));
        ret_pair(b_.getInt64(uint64_t{pc} << 32));
        return false;
      case Op::UNREACHABLE:
        trap(Status::Unreachable, pc);
        return false;
      case Op::ASSERT:
        trap_if(b_.CreateICmpEQ(ld(in.a), b_.getInt64(0)), Status::AssertFailed, pc);
        return true;

      // ---- moves and constants
      case Op::MOV:
      case Op::BMOV:
        st(in.a, ld(in.b));
        return true;
      case Op::CONST:
        st(in.a, imm64(in));
        return true;
      case Op::WMOV:
        stw(in.a, ldw(in.b));
        return true;
      case Op::WCONST:
        stw(in.a, wconst(vm_.module().constants[in.b].word));
        return true;
      case Op::WCONSTI:
        stw(in.a, b_.CreateZExt(imm64(in), i256_));
        return true;
      case Op::ZEXT:
        stw(in.a, b_.CreateZExt(ld(in.b), i256_));
        return true;
      case Op::SEXT:
        stw(in.a, b_.CreateSExt(ld(in.b), i256_));
        return true;
      case Op::TRUNC:
        st(in.a, b_.CreateTrunc(ldw(in.b), i64_));
        return true;
      case Op::NARROW_U: {
        llvm::Value* v = ldw(in.b);
        trap_if(b_.CreateICmpUGT(v, b_.CreateZExt(b_.getInt64(~uint64_t{0}), i256_)),
                Status::Overflow, pc);
        st(in.a, b_.CreateTrunc(v, i64_));
        return true;
      }
      case Op::NARROW_S: {
        llvm::Value* v = ldw(in.b);
        llvm::Value* t = b_.CreateTrunc(v, i64_);
        trap_if(b_.CreateICmpNE(b_.CreateSExt(t, i256_), v), Status::Overflow, pc);
        st(in.a, t);
        return true;
      }
      case Op::SELECT:
        st(in.a,
           b_.CreateSelect(b_.CreateICmpNE(ld(in.b), b_.getInt64(0)), ld(in.c), ld(in.ext.d)));
        return true;

      // ---- 64-bit integers
      case Op::ADD:
        st(in.a, b_.CreateAdd(ld(in.b), ld(in.c)));
        return true;
      case Op::SUB:
        st(in.a, b_.CreateSub(ld(in.b), ld(in.c)));
        return true;
      case Op::MUL:
        st(in.a, b_.CreateMul(ld(in.b), ld(in.c)));
        return true;
      case Op::ADDI:
        st(in.a, b_.CreateAdd(ld(in.b), imm64(in)));
        return true;
      case Op::ADD_CU:
      case Op::SUB_CU:
      case Op::MUL_CU:
      case Op::ADD_CS:
      case Op::SUB_CS:
      case Op::MUL_CS: {
        static const std::map<Op, ID> kIds = {{Op::ADD_CU, llvm::Intrinsic::uadd_with_overflow},
                                              {Op::SUB_CU, llvm::Intrinsic::usub_with_overflow},
                                              {Op::MUL_CU, llvm::Intrinsic::umul_with_overflow},
                                              {Op::ADD_CS, llvm::Intrinsic::sadd_with_overflow},
                                              {Op::SUB_CS, llvm::Intrinsic::ssub_with_overflow},
                                              {Op::MUL_CS, llvm::Intrinsic::smul_with_overflow}};
        auto [v, o] = with_overflow(kIds.at(static_cast<Op>(in.op)), i64_, ld(in.b), ld(in.c));
        trap_if(o, Status::Overflow, pc);
        st(in.a, v);
        return true;
      }
      case Op::DIV_U:
      case Op::REM_U: {
        llvm::Value* y = ld(in.c);
        trap_if(b_.CreateICmpEQ(y, b_.getInt64(0)), Status::DivisionByZero, pc);
        llvm::Value* x = ld(in.b);
        st(in.a,
           in.op == static_cast<uint16_t>(Op::DIV_U) ? b_.CreateUDiv(x, y) : b_.CreateURem(x, y));
        return true;
      }
      case Op::DIV_S: {
        llvm::Value* y = ld(in.c);
        llvm::Value* x = ld(in.b);
        trap_if(b_.CreateICmpEQ(y, b_.getInt64(0)), Status::DivisionByZero, pc);
        trap_if(b_.CreateAnd(b_.CreateICmpEQ(x, b_.getInt64(static_cast<uint64_t>(INT64_MIN))),
                             b_.CreateICmpEQ(y, b_.getInt64(~uint64_t{0}))),
                Status::Overflow, pc);
        st(in.a, b_.CreateSDiv(x, y));
        return true;
      }
      case Op::REM_S: {
        llvm::Value* y = ld(in.c);
        llvm::Value* x = ld(in.b);
        trap_if(b_.CreateICmpEQ(y, b_.getInt64(0)), Status::DivisionByZero, pc);
        // y == -1 gives 0 (and keeps srem away from MIN % -1).
        llvm::Value* minus1 = b_.CreateICmpEQ(y, b_.getInt64(~uint64_t{0}));
        llvm::Value* safe_y = b_.CreateSelect(minus1, b_.getInt64(1), y);
        st(in.a, b_.CreateSelect(minus1, b_.getInt64(0), b_.CreateSRem(x, safe_y)));
        return true;
      }
      case Op::AND:
        st(in.a, b_.CreateAnd(ld(in.b), ld(in.c)));
        return true;
      case Op::OR:
        st(in.a, b_.CreateOr(ld(in.b), ld(in.c)));
        return true;
      case Op::XOR:
        st(in.a, b_.CreateXor(ld(in.b), ld(in.c)));
        return true;
      case Op::NOT:
        st(in.a, b_.CreateNot(ld(in.b)));
        return true;
      case Op::SHL:
      case Op::SHR_U: {
        llvm::Value* s = ld(in.c);
        llvm::Value* big = b_.CreateICmpUGE(s, b_.getInt64(64));
        llvm::Value* safe = b_.CreateSelect(big, b_.getInt64(0), s);
        llvm::Value* r = in.op == static_cast<uint16_t>(Op::SHL) ? b_.CreateShl(ld(in.b), safe)
                                                                 : b_.CreateLShr(ld(in.b), safe);
        st(in.a, b_.CreateSelect(big, b_.getInt64(0), r));
        return true;
      }
      case Op::SHR_S: {
        llvm::Value* s = ld(in.c);
        llvm::Value* safe =
            b_.CreateSelect(b_.CreateICmpUGE(s, b_.getInt64(64)), b_.getInt64(63), s);
        st(in.a, b_.CreateAShr(ld(in.b), safe));
        return true;
      }
      case Op::ANDI:
        st(in.a, b_.CreateAnd(ld(in.b), imm64(in)));
        return true;
      case Op::XORI:
        st(in.a, b_.CreateXor(ld(in.b), imm64(in)));
        return true;
      case Op::SHLI:
      case Op::SHRI: {
        const uint64_t s = static_cast<uint64_t>(in.imm);
        if (s >= 64) {
          st(in.a, b_.getInt64(0));
        } else {
          st(in.a, in.op == static_cast<uint16_t>(Op::SHLI) ? b_.CreateShl(ld(in.b), s)
                                                            : b_.CreateLShr(ld(in.b), s));
        }
        return true;
      }
      case Op::ADD32:
        st(in.a, b_.CreateZExt(b_.CreateTrunc(b_.CreateAdd(ld(in.b), ld(in.c)), i32_), i64_));
        return true;
      case Op::ROTRI32: {
        llvm::Value* x = b_.CreateTrunc(ld(in.b), i32_);
        const unsigned s = static_cast<unsigned>(in.imm) & 31;
        llvm::Value* r =
            s == 0 ? x : intrinsic(llvm::Intrinsic::fshr, i32_, {x, x, b_.getInt32(s)});
        st(in.a, b_.CreateZExt(r, i64_));
        return true;
      }
      case Op::FITS_U: {
        const uint64_t bits = static_cast<uint64_t>(in.imm);
        if (bits < 64)
          trap_if(b_.CreateICmpNE(b_.CreateLShr(ld(in.a), bits), b_.getInt64(0)), Status::Overflow,
                  pc);
        return true;
      }
      case Op::FITS_S: {
        const uint64_t bits = static_cast<uint64_t>(in.imm);
        if (bits < 64) {
          const int64_t lim = int64_t{1} << (bits - 1);
          llvm::Value* x = ld(in.a);
          trap_if(b_.CreateOr(b_.CreateICmpSLT(x, b_.getInt64(static_cast<uint64_t>(-lim))),
                              b_.CreateICmpSGE(x, b_.getInt64(static_cast<uint64_t>(lim)))),
                  Status::Overflow, pc);
        }
        return true;
      }
      case Op::EQ:
        st(in.a, bool64(b_.CreateICmpEQ(ld(in.b), ld(in.c))));
        return true;
      case Op::NE:
        st(in.a, bool64(b_.CreateICmpNE(ld(in.b), ld(in.c))));
        return true;
      case Op::LT_U:
        st(in.a, bool64(b_.CreateICmpULT(ld(in.b), ld(in.c))));
        return true;
      case Op::LE_U:
        st(in.a, bool64(b_.CreateICmpULE(ld(in.b), ld(in.c))));
        return true;
      case Op::LT_S:
        st(in.a, bool64(b_.CreateICmpSLT(ld(in.b), ld(in.c))));
        return true;
      case Op::LE_S:
        st(in.a, bool64(b_.CreateICmpSLE(ld(in.b), ld(in.c))));
        return true;
      case Op::EQZ:
        st(in.a, bool64(b_.CreateICmpEQ(ld(in.b), b_.getInt64(0))));
        return true;
      case Op::EQI:
        st(in.a, bool64(b_.CreateICmpEQ(ld(in.b), imm64(in))));
        return true;
      case Op::LTI_U:
        st(in.a, bool64(b_.CreateICmpULT(ld(in.b), imm64(in))));
        return true;
      case Op::BELOW:
        trap_if(b_.CreateICmpUGE(ld(in.a), imm64(in)), Status::Overflow, pc);
        return true;

      // ---- 256-bit integers
      case Op::WADD:
        stw(in.a, b_.CreateAdd(ldw(in.b), ldw(in.c)));
        return true;
      case Op::WSUB:
        stw(in.a, b_.CreateSub(ldw(in.b), ldw(in.c)));
        return true;
      case Op::WMUL:
        stw(in.a, b_.CreateMul(ldw(in.b), ldw(in.c)));
        return true;
      case Op::WADD_CU:
      case Op::WSUB_CU:
      case Op::WADD_CS:
      case Op::WSUB_CS: {
        static const std::map<Op, ID> kIds = {{Op::WADD_CU, llvm::Intrinsic::uadd_with_overflow},
                                              {Op::WSUB_CU, llvm::Intrinsic::usub_with_overflow},
                                              {Op::WADD_CS, llvm::Intrinsic::sadd_with_overflow},
                                              {Op::WSUB_CS, llvm::Intrinsic::ssub_with_overflow}};
        auto [v, o] = with_overflow(kIds.at(static_cast<Op>(in.op)), i256_, ldw(in.b), ldw(in.c));
        trap_if(o, Status::Overflow, pc);
        stw(in.a, v);
        return true;
      }
      case Op::WMUL_CU:
      case Op::WMUL_CS: {
        flush_gas();
        llvm::Value* s = helper("writ_jit_wmul_checked", fn_type(i32_, {ptr_t, ptr_t, ptr_t, i32_}),
                                {wide_out(), wide_in(0, in.b), wide_in(1, in.c),
                                 b_.getInt32(in.op == static_cast<uint16_t>(Op::WMUL_CS))});
        check(s, pc);
        store_wide_out(in.a);
        return true;
      }
      case Op::WDIV_U:
      case Op::WREM_U:
      case Op::WDIV_S:
      case Op::WREM_S: {
        llvm::Value* s =
            helper("writ_jit_wdivrem", fn_type(i32_, {ptr_t, ptr_t, ptr_t, i32_}),
                   {wide_out(), wide_in(0, in.b), wide_in(1, in.c), b_.getInt32(in.op)});
        check(s, pc);
        store_wide_out(in.a);
        return true;
      }
      case Op::WEXP:
      case Op::WEXP_CU: {
        flush_gas();
        llvm::Value* s =
            helper("writ_jit_wexp", fn_type(i32_, {i8_->getPointerTo(), ptr_t, ptr_t, ptr_t, i32_}),
                   {st_, wide_out(), wide_in(0, in.b), wide_in(1, in.c),
                    b_.getInt32(in.op == static_cast<uint16_t>(Op::WEXP_CU))});
        reload_gas();
        check(s, pc);
        store_wide_out(in.a);
        return true;
      }
      case Op::WADDMOD:
      case Op::WMULMOD: {
        llvm::Value* s =
            helper("writ_jit_wmodop", fn_type(i32_, {ptr_t, ptr_t, ptr_t, ptr_t, i32_}),
                   {wide_out(), wide_in(0, in.b), wide_in(1, in.c), wide_in(2, in.ext.d),
                    b_.getInt32(in.op == static_cast<uint16_t>(Op::WMULMOD))});
        check(s, pc);
        store_wide_out(in.a);
        return true;
      }
      case Op::WMULDIV:
      case Op::WMULDIV_UP: {
        llvm::Value* s =
            helper("writ_jit_wmuldiv", fn_type(i32_, {ptr_t, ptr_t, ptr_t, ptr_t, i32_}),
                   {wide_out(), wide_in(0, in.b), wide_in(1, in.c), wide_in(2, in.ext.d),
                    b_.getInt32(in.op == static_cast<uint16_t>(Op::WMULDIV_UP))});
        check(s, pc);
        store_wide_out(in.a);
        return true;
      }
      case Op::WAND:
        stw(in.a, b_.CreateAnd(ldw(in.b), ldw(in.c)));
        return true;
      case Op::WOR:
        stw(in.a, b_.CreateOr(ldw(in.b), ldw(in.c)));
        return true;
      case Op::WXOR:
        stw(in.a, b_.CreateXor(ldw(in.b), ldw(in.c)));
        return true;
      case Op::WNOT:
        stw(in.a, b_.CreateNot(ldw(in.b)));
        return true;
      case Op::WSHL:
      case Op::WSHR_U: {
        llvm::Value* s = ld(in.c);
        llvm::Value* big = b_.CreateICmpUGE(s, b_.getInt64(256));
        llvm::Value* amount = b_.CreateZExt(b_.CreateSelect(big, b_.getInt64(0), s), i256_);
        llvm::Value* r = in.op == static_cast<uint16_t>(Op::WSHL)
                             ? b_.CreateShl(ldw(in.b), amount)
                             : b_.CreateLShr(ldw(in.b), amount);
        stw(in.a, b_.CreateSelect(big, llvm::ConstantInt::get(i256_, 0), r));
        return true;
      }
      case Op::WSHR_S: {
        llvm::Value* s = ld(in.c);
        llvm::Value* amount = b_.CreateZExt(
            b_.CreateSelect(b_.CreateICmpUGE(s, b_.getInt64(256)), b_.getInt64(255), s), i256_);
        stw(in.a, b_.CreateAShr(ldw(in.b), amount));
        return true;
      }
      case Op::WSIGNEXT:
        helper("writ_jit_wsignext", fn_type(llvm::Type::getVoidTy(ctx_), {ptr_t, ptr_t, i64_}),
               {wide_out(), wide_in(0, in.b), ld(in.c)});
        store_wide_out(in.a);
        return true;
      case Op::WEQ:
        st(in.a, bool64(b_.CreateICmpEQ(ldw(in.b), ldw(in.c))));
        return true;
      case Op::WNE:
        st(in.a, bool64(b_.CreateICmpNE(ldw(in.b), ldw(in.c))));
        return true;
      case Op::WLT_U:
        st(in.a, bool64(b_.CreateICmpULT(ldw(in.b), ldw(in.c))));
        return true;
      case Op::WLE_U:
        st(in.a, bool64(b_.CreateICmpULE(ldw(in.b), ldw(in.c))));
        return true;
      case Op::WLT_S:
        st(in.a, bool64(b_.CreateICmpSLT(ldw(in.b), ldw(in.c))));
        return true;
      case Op::WLE_S:
        st(in.a, bool64(b_.CreateICmpSLE(ldw(in.b), ldw(in.c))));
        return true;
      case Op::WEQZ:
        st(in.a, bool64(b_.CreateICmpEQ(ldw(in.b), llvm::ConstantInt::get(i256_, 0))));
        return true;
      case Op::WFITS_U: {
        const uint64_t bits = static_cast<uint64_t>(in.imm);
        if (bits < 256)
          trap_if(b_.CreateICmpNE(b_.CreateLShr(ldw(in.a), bits), llvm::ConstantInt::get(i256_, 0)),
                  Status::Overflow, pc);
        return true;
      }
      case Op::WFITS_S: {
        const uint64_t bits = static_cast<uint64_t>(in.imm);
        if (bits < 256) {
          llvm::Value* hi = b_.CreateAShr(ldw(in.a), bits - 1);
          trap_if(b_.CreateAnd(b_.CreateICmpNE(hi, llvm::ConstantInt::get(i256_, 0)),
                               b_.CreateICmpNE(hi, llvm::ConstantInt::getAllOnesValue(i256_))),
                  Status::Overflow, pc);
        }
        return true;
      }
      case Op::BLEN:
      case Op::LD8:
      case Op::ST8:
      case Op::LD64:
      case Op::ST64:
        if (vector_layout_is_three_pointers()) {
          buffer_access(in);
          return true;
        }
        host_op(in);
        return true;
      default:
        host_op(in);
        return true;
    }
  }

  // Buffers, the host, events, errors: through the interpreter's code.
  // `always_traps`: the caller knows the instruction traps here (a bound
  // check failed), so control does not come back into the function's code
  // (and loops keep their loads hoisted past this path).
  void host_op(const Insn& in, bool always_traps = false) {
    auto* p8 = i8_->getPointerTo();
    flush_gas();
    sync_operands(in, true);
    const auto index = static_cast<uint32_t>(&in - fc_->code.data());
    llvm::Value* s = helper("writ_jit_host", fn_type(i32_, {p8, i64_->getPointerTo(), i32_, i32_}),
                            {st_, regs_, b_.getInt32(func_), b_.getInt32(index)});
    if (always_traps) {
      trap_incoming_.push_back({s, in.pc, b_.GetInsertBlock()});
      b_.CreateBr(trap_);
      return;
    }
    reload_gas();
    check(s, in.pc);
    sync_operands(in, false);
  }

  // blen, ld8, st8, ld64, st64 inline: the buffer's begin and end pointers
  // from the heap's element for the handle; out of bounds goes to the
  // helper, which traps with the interpreter's detail.
  void buffer_access(const Insn& in) {
    const Op op = static_cast<Op>(in.op);
    const uint32_t handle_reg = (op == Op::ST8 || op == Op::ST64) ? in.a : in.b;
    auto* p8 = i8_->getPointerTo();
    llvm::Value* heap = tagged(b_.CreateLoad(p8, field(offsetof(JitState, heap), p8)), tbaa_meta_);
    llvm::Value* heap_begin =
        tagged(b_.CreateLoad(p8, b_.CreateBitCast(heap, p8->getPointerTo())), tbaa_meta_);
    llvm::Value* elem = b_.CreateInBoundsGEP(
        i8_, heap_begin, b_.CreateMul(ld(handle_reg), b_.getInt64(sizeof(Buffer))));
    llvm::Value* words = b_.CreateBitCast(elem, p8->getPointerTo());
    llvm::Value* data = tagged(b_.CreateLoad(p8, words), tbaa_meta_);
    llvm::Value* end =
        tagged(b_.CreateLoad(p8, b_.CreateConstInBoundsGEP1_64(p8, words, 1)), tbaa_meta_);
    llvm::Value* size = b_.CreateSub(b_.CreatePtrToInt(end, i64_), b_.CreatePtrToInt(data, i64_));
    if (op == Op::BLEN) {
      st(in.a, size);
      return;
    }
    const bool wide = op == Op::LD64 || op == Op::ST64;
    const uint32_t index_reg = (op == Op::ST8 || op == Op::ST64) ? in.b : in.c;
    llvm::Value* idx = ld(index_reg);
    llvm::Value* limit = wide ? b_.CreateLShr(size, 3) : size;
    auto* fast = llvm::BasicBlock::Create(ctx_, "in_bounds", F_);
    auto* slow = llvm::BasicBlock::Create(ctx_, "out_of_bounds", F_);
    auto* done = llvm::BasicBlock::Create(ctx_, "accessed", F_);
    br_cold(b_.CreateICmpUGE(idx, limit), slow, fast);
    b_.SetInsertPoint(slow);
    host_op(in, /*always_traps=*/true);
    b_.SetInsertPoint(fast);
    llvm::Value* at = b_.CreateInBoundsGEP(i8_, data, wide ? b_.CreateShl(idx, 3) : idx);
    switch (op) {
      case Op::LD8:
        st(in.a, b_.CreateZExt(tagged(b_.CreateLoad(i8_, at), tbaa_bytes_), i64_));
        break;
      case Op::ST8:
        tagged(b_.CreateStore(b_.CreateTrunc(ld(in.c), i8_), at), tbaa_bytes_);
        break;
      case Op::LD64:
        st(in.a, tagged(b_.CreateAlignedLoad(i64_, b_.CreateBitCast(at, i64_->getPointerTo()),
                                             llvm::Align(1)),
                        tbaa_bytes_));
        break;
      default:
        tagged(b_.CreateAlignedStore(ld(in.c), b_.CreateBitCast(at, i64_->getPointerTo()),
                                     llvm::Align(1)),
               tbaa_bytes_);
        break;
    }
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
  }

  // CALL f, args at B, results to C (interpreter_loop.inc, TARGET(CALL)).
  void call(const Insn& in) {
    const FuncCode& callee = prog_.funcs[in.a];
    const uint32_t pc = in.pc;
    auto* helper_t = fn_type(i32_, {i8_->getPointerTo(), i32_});
    // Depth, then the register stack, then the callee's entry gas.
    llvm::Value* depth = b_.CreateAdd(depth_, b_.getInt32(1));
    auto* deep = llvm::BasicBlock::Create(ctx_, "deep", F_);
    auto* ok1 = llvm::BasicBlock::Create(ctx_, "depth_ok", F_);
    br_cold(b_.CreateICmpUGE(depth, b_.getInt32(kMaxFrames)), deep, ok1);
    b_.SetInsertPoint(deep);
    trap_incoming_.push_back(
        {helper("writ_jit_call_depth", helper_t, {st_, b_.getInt32(0)}), pc, deep});
    b_.CreateBr(trap_);
    b_.SetInsertPoint(ok1);
    llvm::Value* callee_regs = mem_slot(fc_->frame_slots);
    if (stack_cannot_overflow_) {
      // No frame is larger than kMaxStackSlots / kMaxFrames, and the depth
      // test above keeps at most kMaxFrames frames: the register stack's
      // test would always pass.
      emit_call(in, callee_regs);
      return;
    }
    llvm::Value* room =
        b_.CreateSub(b_.CreatePtrToInt(stack_end_, i64_), b_.CreatePtrToInt(callee_regs, i64_));
    auto* full = llvm::BasicBlock::Create(ctx_, "stack_full", F_);
    auto* ok2 = llvm::BasicBlock::Create(ctx_, "stack_ok", F_);
    br_cold(b_.CreateICmpUGT(b_.getInt64(uint64_t{callee.frame_slots} * 8), room), full, ok2);
    b_.SetInsertPoint(full);
    trap_incoming_.push_back(
        {helper("writ_jit_call_depth", helper_t, {st_, b_.getInt32(1)}), pc, full});
    b_.CreateBr(trap_);
    b_.SetInsertPoint(ok2);
    emit_call(in, callee_regs);
  }

  void emit_call(const Insn& in, llvm::Value* callee_regs) {
    const FuncCode& callee = prog_.funcs[in.a];
    llvm::Value* depth = b_.CreateAdd(depth_, b_.getInt32(1));
    charge(callee.entry_gas);
    // Parameters in machine registers (the callee zeroes the rest of its frame).
    std::vector<llvm::Value*> args = {st_, callee_regs, stack_end_, b_.CreateLoad(i64_, gas_),
                                      depth};
    for (uint32_t k = 0; k < callee.param_slots; ++k) args.push_back(ld(in.b + k));
    auto* r = b_.CreateCall(fns_[in.a], args);
    r->setCallingConv(llvm::CallingConv::Fast);
    b_.CreateStore(b_.CreateExtractValue(r, 0), gas_);
    // A trap in the callee passes up with its own function and pc.
    auto* failed = llvm::BasicBlock::Create(ctx_, "callee_trapped", F_);
    auto* ok3 = llvm::BasicBlock::Create(ctx_, "returned", F_);
    llvm::Value* sp = b_.CreateExtractValue(r, 1);
    br_cold(b_.CreateICmpNE(b_.CreateTrunc(sp, i32_), b_.getInt32(0)), failed, ok3);
    b_.SetInsertPoint(failed);
    b_.CreateRet(r);
    b_.SetInsertPoint(ok3);
    // Results out: one slot in the returned value, more in the callee frame's first slots.
    if (callee.result_slots == 1) {
      st(in.c, b_.CreateExtractValue(r, 2));
      return;
    }
    for (uint32_t k = 0; k < callee.result_slots; ++k)
      st(in.c + k, b_.CreateAlignedLoad(i64_, slot_of(callee_regs, k), llvm::Align(8)));
  }

  llvm::LLVMContext& ctx_;
  llvm::Module& mod_;
  llvm::IRBuilder<> b_;
  const VerifiedModule& vm_;
  const Program& prog_;
  std::string prefix_;
  bool metered_;                        // false: no static gas (execute_unmetered, for benchmarks)
  bool stack_cannot_overflow_ = false;  // a CALL needs no register-stack test
  size_t guard_branch_ = 0;  // lowering a guard (lower_guard): its entry block's branch
  llvm::Type *i1_, *i8_, *i32_, *i64_, *i256_;
  llvm::FunctionType* entry_ty_;
  llvm::StructType* pair_ty_;
  std::vector<llvm::Function*> fns_;
  std::vector<llvm::Value*> entry_test_;  // per function: its entry's gas test (lower_into)

  uint32_t func_ = 0;
  const FuncCode* fc_ = nullptr;
  llvm::Function* F_ = nullptr;
  llvm::Value* st_ = nullptr;
  llvm::Value* regs_ = nullptr;
  llvm::Value* stack_end_ = nullptr;
  llvm::Value* depth_ =
      nullptr;  // internal frames below this one (the interpreter's frames.size())
  llvm::AllocaInst* gas_ = nullptr;
  // Type-based alias classes: a buffer's bytes are never the heap's vector
  // words, so loads of a buffer's bounds leave loops that only touch bytes.
  llvm::MDNode* tbaa_meta_ = nullptr;
  llvm::MDNode* tbaa_bytes_ = nullptr;
  llvm::MDNode* cold_ = nullptr;
  llvm::AllocaInst* frame_ = nullptr;   // the registers, promoted to SSA values
  llvm::AllocaInst* wide_tmp_[4] = {};  // 256-bit helper arguments and result
  std::vector<llvm::BasicBlock*> blocks_;
  std::vector<Loop> loops_;
  std::vector<int> loop_at_;   // per instruction: the versioned loop it is in, or -1
  Loop* unchecked_ = nullptr;  // the loop whose unchecked copy is being lowered
  unsigned copy_ = 0;          // which of its copies
  size_t cur_ = 0;             // the instruction being lowered
  llvm::BasicBlock* trap_ = nullptr;
  std::vector<TrapEdge> trap_incoming_;
};

}  // namespace

bool supported(uint16_t op) {
  if (op == kOpGas) return true;
  return op < kOpcodeCount && (kOpInfo[op].flags & F_INVALID) == 0;
}

std::string entry_name(const std::string& prefix, size_t f) {
  return prefix + "f" + std::to_string(f);
}

void lower_module(llvm::LLVMContext& ctx, llvm::Module& mod, const VerifiedModule& vm,
                  const std::string& prefix, bool metered) {
  Lowering lowering(ctx, mod, vm, prefix, metered);
  for (uint32_t f = 0; f < vm.program().funcs.size(); ++f) {
    lowering.lower(f);
    lowering.lower_entry(f);
  }
  lowering.unroll_recursion();
}

}  // namespace writ::vm::jit
