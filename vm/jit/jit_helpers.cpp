// The helpers compiled code calls (by name, through the JIT's symbol table):
// what the lowering does not emit inline. They never throw and return a
// status, as the interpreter's instructions end (vm/interpreter_loop.inc).
#include <string>

#include "jit_state.hpp"
#include "writ/vm/gas.hpp"

namespace writ::vm::jit {

namespace {

U256 load(const uint64_t* p) {
  return Machine::load_w(p);
}

uint32_t writ_jit_call_depth(JitState* st, uint32_t stack_exhausted) {
  *st->detail = stack_exhausted ? "register stack exhausted"
                                : "internal call depth exceeds " + std::to_string(kMaxFrames);
  return st_code(Status::CallDepth);
}

// WDIV_U, WREM_U, WDIV_S, WREM_S.
uint32_t writ_jit_wdivrem(uint64_t* dst, const uint64_t* x, const uint64_t* y, uint32_t op) {
  const U256 d = load(y);
  if (d.is_zero()) return st_code(Status::DivisionByZero);
  U256 r;
  switch (static_cast<Op>(op)) {
    case Op::WDIV_U:
      r = div(load(x), d);
      break;
    case Op::WREM_U:
      r = mod(load(x), d);
      break;
    case Op::WDIV_S:
      if (!sdiv(load(x), d, r)) return st_code(Status::Overflow);
      break;
    default:
      r = smod(load(x), d);
      break;
  }
  Machine::store_w(dst, r);
  return 0;
}

// WMUL_CU, WMUL_CS.
uint32_t writ_jit_wmul_checked(uint64_t* dst, const uint64_t* x, const uint64_t* y,
                               uint32_t is_signed) {
  U256 r;
  const bool ok = is_signed ? smul_checked(load(x), load(y), r) : mul_checked(load(x), load(y), r);
  if (!ok) return st_code(Status::Overflow);
  Machine::store_w(dst, r);
  return 0;
}

// WEXP, WEXP_CU: the dynamic gas first, as the interpreter charges it.
uint32_t writ_jit_wexp(JitState* st, uint64_t* dst, const uint64_t* x, const uint64_t* y,
                       uint32_t checked) {
  const U256 e = load(y);
  if (st->metered) {
    st->gas -= static_cast<int64_t>(kGasExpByte * byte_length(e));
    if (st->gas < 0) return st_code(Status::OutOfGas);
  }
  U256 r;
  if (checked) {
    if (!exp_checked(load(x), e, r)) return st_code(Status::Overflow);
  } else {
    r = exp(load(x), e);
  }
  Machine::store_w(dst, r);
  return 0;
}

// WADDMOD, WMULMOD.
// The operands are read where compiled code left them (a register file's
// slots are U256-shaped), without a copy that waits on their stores.
const U256& word_at(const uint64_t* p) {
  return *reinterpret_cast<const U256*>(p);
}
uint32_t writ_jit_wmodop(uint64_t* dst, const uint64_t* x, const uint64_t* y, const uint64_t* m,
                         uint32_t is_mul) {
  const U256& md = word_at(m);
  if (md.is_zero()) return st_code(Status::DivisionByZero);
  const U256 r = is_mul ? mulmod(word_at(x), word_at(y), md) : addmod(word_at(x), word_at(y), md);
  Machine::store_w(dst, r);
  return 0;
}

// WMULDIV, WMULDIV_UP.
uint32_t writ_jit_wmuldiv(uint64_t* dst, const uint64_t* x, const uint64_t* y, const uint64_t* d,
                          uint32_t up) {
  const U256 dv = load(d);
  if (dv.is_zero()) return st_code(Status::DivisionByZero);
  U256 r;
  if (!muldiv(load(x), load(y), dv, up != 0, r)) return st_code(Status::Overflow);
  Machine::store_w(dst, r);
  return 0;
}

void writ_jit_wsignext(uint64_t* dst, const uint64_t* x, uint64_t byte) {
  Machine::store_w(dst, signextend(byte, load(x)));
}

// Everything that reaches outside the registers: the interpreter's own
// code (ops_host.cpp). Exceptions stop here: an allocation failure becomes
// the interpreter's MemoryLimit for the whole call (run_call's rule).
uint32_t writ_jit_host(JitState* st, uint64_t* regs, uint32_t func, uint32_t index) {
  const Insn* in = &st->m->prog.funcs[func].code[index];
  try {
    Status s;
    if (!is_host_op(in->op))
      s = exec_register_op(*st->m, regs, *in, st->metered ? st->gas : 0, *st->detail);
    else if (st->metered)
      s = exec_host_op<true>(*st->m, regs, *in, st->gas, *st->detail);
    else
      s = exec_host_op<false>(*st->m, regs, *in, st->gas, *st->detail);
    return st_code(s);
  } catch (const std::exception&) {
    st->out_of_memory = 1;
    return st_code(Status::MemoryLimit);
  }
}

}  // namespace

std::span<const HelperSymbol> helper_symbols() {
  static const HelperSymbol kHelpers[] = {
      {"writ_jit_call_depth", reinterpret_cast<void*>(&writ_jit_call_depth)},
      {"writ_jit_wdivrem", reinterpret_cast<void*>(&writ_jit_wdivrem)},
      {"writ_jit_wmul_checked", reinterpret_cast<void*>(&writ_jit_wmul_checked)},
      {"writ_jit_wexp", reinterpret_cast<void*>(&writ_jit_wexp)},
      {"writ_jit_wmodop", reinterpret_cast<void*>(&writ_jit_wmodop)},
      {"writ_jit_wmuldiv", reinterpret_cast<void*>(&writ_jit_wmuldiv)},
      {"writ_jit_wsignext", reinterpret_cast<void*>(&writ_jit_wsignext)},
      {"writ_jit_host", reinterpret_cast<void*>(&writ_jit_host)},
  };
  return kHelpers;
}

}  // namespace writ::vm::jit
