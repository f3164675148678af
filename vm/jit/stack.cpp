// See stack.hpp. The switch itself is a few instructions of assembler per
// architecture (x86-64, AArch64): move the stack pointer, call, move it back.
#include "stack.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>

#if defined(__SANITIZE_ADDRESS__)
#define WRIT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WRIT_ASAN 1
#endif
#endif
#ifdef WRIT_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

extern "C" void writ_jit_on_stack(void* arg, void (*fn)(void*), void* top);

#if defined(__x86_64__)
// rdi = arg, rsi = fn, rdx = top (16-byte aligned); rbp keeps the old stack.
asm(R"(
  .pushsection .text
  .globl writ_jit_on_stack
  .type writ_jit_on_stack, @function
writ_jit_on_stack:
  .cfi_startproc
  endbr64
  push %rbp
  .cfi_def_cfa_offset 16
  .cfi_offset %rbp, -16
  mov %rsp, %rbp
  .cfi_def_cfa_register %rbp
  mov %rdx, %rsp
  call *%rsi
  mov %rbp, %rsp
  pop %rbp
  .cfi_def_cfa %rsp, 8
  ret
  .cfi_endproc
  .size writ_jit_on_stack, .-writ_jit_on_stack
  .popsection
)");
#define WRIT_HAVE_STACK_SWITCH 1
#elif defined(__aarch64__)
// x0 = arg, x1 = fn, x2 = top (16-byte aligned); x29 keeps the old stack.
asm(R"(
  .pushsection .text
  .globl writ_jit_on_stack
  .type writ_jit_on_stack, %function
writ_jit_on_stack:
  stp x29, x30, [sp, #-16]!
  mov x29, sp
  mov sp, x2
  blr x1
  mov sp, x29
  ldp x29, x30, [sp], #16
  ret
  .size writ_jit_on_stack, .-writ_jit_on_stack
  .popsection
)");
#define WRIT_HAVE_STACK_SWITCH 1
#endif

namespace writ::vm::jit {

namespace {

struct ThreadStack {
  char* base = nullptr;  // lowest address: the guard page
  size_t size = 0;
  bool active = false;
  ~ThreadStack() {
    if (base) munmap(base, size);
  }
};

thread_local ThreadStack tl_stack;

struct Call {
  void (*fn)(void*);
  void* arg;
#ifdef WRIT_ASAN
  const void* from_bottom = nullptr;
  size_t from_size = 0;
#endif
};

void enter(void* p) {
  auto* c = static_cast<Call*>(p);
#ifdef WRIT_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &c->from_bottom, &c->from_size);
#endif
  c->fn(c->arg);
#ifdef WRIT_ASAN
  __sanitizer_start_switch_fiber(nullptr, c->from_bottom, c->from_size);
#endif
}

}  // namespace

bool reserve_stack() {
#ifdef WRIT_HAVE_STACK_SWITCH
  ThreadStack& s = tl_stack;
  if (s.base) return true;
  void* p = mmap(nullptr, kStackBytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (p == MAP_FAILED) {
    std::fprintf(stderr, "writ jit: cannot reserve %zu bytes for compiled code's stack\n",
                 kStackBytes);
    return false;
  }
  s.base = static_cast<char*>(p);
  s.size = kStackBytes;
  mprotect(s.base, static_cast<size_t>(sysconf(_SC_PAGESIZE)), PROT_NONE);  // the guard page
#endif
  return true;
}

void run_on_stack(void (*fn)(void*), void* arg) {
#ifndef WRIT_HAVE_STACK_SWITCH
  fn(arg);  // elsewhere: the thread's own stack
#else
  ThreadStack& s = tl_stack;
  if (s.active || !s.base) {
    fn(arg);
    return;
  }
  s.active = true;
  Call c{fn, arg};
#ifdef WRIT_ASAN
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(&fake, s.base, s.size);
#endif
  writ_jit_on_stack(&c, &enter, s.base + s.size);
#ifdef WRIT_ASAN
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
  s.active = false;
#endif
}

}  // namespace writ::vm::jit
