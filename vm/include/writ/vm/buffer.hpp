// The memory of a call's buffers (`bnew`, `bconst`, `input`, ...).
//
// Buffers live in a per-thread arena that keeps its pages between calls: a
// call that allocates megabytes would otherwise get them fresh from the
// kernel every time (glibc returns the top of its heap after a large free),
// and a page fault costs far more than the gas the schedule charges per word
// (docs/gas.md, "Memory"). Each call's buffers are freed together when the
// call ends (BufferScope); until then the arena only grows, except that the
// last allocation can be given back (a vector's growth reuses it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace writ::vm {

namespace detail {
void* buffer_allocate(size_t bytes);
void buffer_deallocate(void* p, size_t bytes) noexcept;
}  // namespace detail

template <typename T>
struct BufferAllocator {
  using value_type = T;
  BufferAllocator() = default;
  template <typename U>
  BufferAllocator(const BufferAllocator<U>&) noexcept {}
  T* allocate(size_t n) { return static_cast<T*>(detail::buffer_allocate(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { detail::buffer_deallocate(p, n * sizeof(T)); }
  friend bool operator==(const BufferAllocator&, const BufferAllocator&) { return true; }
};

// A buffer of a running call. Only a Machine's heap holds them: they must not
// outlive the BufferScope they were allocated in.
using Buffer = std::vector<uint8_t, BufferAllocator<uint8_t>>;
// A call's buffers by handle, in the arena too.
using BufferHeap = std::vector<Buffer, BufferAllocator<Buffer>>;

// Marks the arena while a call runs; its destructor frees what the call
// allocated (after the call's buffers are destroyed). Scopes nest with calls;
// one that ends before a scope opened after it keeps its memory until that
// one ends too.
class BufferScope {
 public:
  BufferScope();
  ~BufferScope();
  BufferScope(const BufferScope&) = delete;
  BufferScope& operator=(const BufferScope&) = delete;

 private:
  size_t index_;
};

}  // namespace writ::vm
