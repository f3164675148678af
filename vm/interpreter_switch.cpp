// The same dispatch loop as interpreter.cpp, expanded as a portable switch.
// Used where computed goto is unavailable and by the differential tests that
// check both dispatchers agree on every result, trap and unit of gas.
#include <openssl/sha.h>

#include <type_traits>

#include "machine.hpp"
#include "sha256.hpp"
#include "writ/vm/abi.hpp"
#include "writ/vm/ed25519.hpp"
#include "writ/vm/gas.hpp"

namespace writ::vm {

#define WRIT_SWITCH_DISPATCH 1
#define WRIT_LOOP_NAME run_switch
#include "interpreter_loop.inc"
#undef WRIT_LOOP_NAME
#undef WRIT_SWITCH_DISPATCH

namespace {
void switch_adapter(Machine& m, uint32_t func, Tracer*) {
  run_switch<NullTracer, true>(m, func, static_cast<NullTracer*>(nullptr));
}
}  // namespace

LoopFn switch_loop() {
  return &switch_adapter;
}

}  // namespace writ::vm
