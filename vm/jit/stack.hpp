// The native stack compiled code runs on.
//
// Compiled code keeps the registers of every internal frame on the native
// stack (in machine registers and their spill slots), where the interpreter
// keeps them in its register stack on the heap. The interpreter's bounds
// (1,024 frames, 8 MiB of registers per contract call, 64 nested contract
// calls) allow more than a thread's stack holds (8 MiB for the main thread,
// often less for others), so a deep recursion that the interpreter runs
// would overflow it. Compiled code therefore runs on a stack of its own:
// kStackBytes of address space per thread, reserved once and committed by
// the kernel page by page as it is touched, with a guard page below it.
//
// Thread safety: each thread has its own stack; nested calls (a compiled
// contract calling another through the host) stay on it.
#pragma once

#include <cstddef>

namespace writ::vm::jit {

// 64 nested contract calls, each with 8 MiB of registers and 1,024 frames
// of spill area and return addresses: 16 MiB per nested call.
inline constexpr size_t kStackBytes = size_t{64} * 16 * 1024 * 1024;

// Reserves the calling thread's compiled-code stack if it has none; false
// when the address space cannot be had (then the interpreter runs the call).
[[nodiscard]] bool reserve_stack();

// Runs fn(arg) on the calling thread's compiled-code stack (directly when
// already on it). REQUIRES: reserve_stack() returned true on this thread;
// fn does not throw.
void run_on_stack(void (*fn)(void*), void* arg);

}  // namespace writ::vm::jit
