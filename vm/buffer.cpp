// The per-thread buffer arena (writ/vm/buffer.hpp).
#include "writ/vm/buffer.hpp"

#include <sys/mman.h>

#include <new>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) && !defined(__SANITIZE_ADDRESS__)
#define __SANITIZE_ADDRESS__ 1
#endif
#endif

namespace writ::vm {
namespace {

// Virtual address space reserved per thread; pages are committed when first
// touched and kept. A call grants at most kMaxMemory (32 MiB) to its buffers,
// and a buffer grown step by step leaves its earlier copies behind (about
// twice its size in all), so this holds several nested calls at their limit;
// past it, allocations fall back to the C++ heap.
constexpr size_t kReserve = size_t{1} << 30;
constexpr size_t kAlign = 16;

size_t rounded(size_t bytes) {
  return (bytes + kAlign - 1) & ~(kAlign - 1);
}

struct Arena {
  uint8_t* base = nullptr;
  bool reserve_failed = false;
  size_t top = 0;
  struct Mark {
    size_t top;
    bool live;
  };
  std::vector<Mark> marks;

  ~Arena() {
    if (base) munmap(base, kReserve);
  }
  bool owns(const void* p) const {
    auto* b = static_cast<const uint8_t*>(p);
    return base && b >= base && b < base + kReserve;
  }
  void* allocate(size_t bytes) {
    if (!base && !reserve_failed) {
      void* p = mmap(nullptr, kReserve, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (p == MAP_FAILED)
        reserve_failed = true;
      else
        base = static_cast<uint8_t*>(p);
    }
    const size_t n = rounded(bytes);
    if (base && !marks.empty() && n <= kReserve - top) {
      void* p = base + top;
      top += n;
      return p;
    }
    return ::operator new(bytes);
  }
  void deallocate(void* p, size_t bytes) noexcept {
    if (!owns(p)) {
      ::operator delete(p);
      return;
    }
    // The last allocation can be given back; the rest waits for its scope.
    const size_t n = rounded(bytes);
    if (static_cast<uint8_t*>(p) + n == base + top) top -= n;
  }
};

thread_local Arena t_arena;

}  // namespace

namespace detail {

// Under AddressSanitizer buffers come from the C++ heap, so that it checks
// every access to them.
#if defined(__SANITIZE_ADDRESS__)
void* buffer_allocate(size_t bytes) {
  return ::operator new(bytes);
}
void buffer_deallocate(void* p, size_t) noexcept {
  ::operator delete(p);
}
bool buffer_arena_in_use() {
  return false;
}
#else
void* buffer_allocate(size_t bytes) {
  return t_arena.allocate(bytes);
}
void buffer_deallocate(void* p, size_t bytes) noexcept {
  t_arena.deallocate(p, bytes);
}
bool buffer_arena_in_use() {
  return true;
}
#endif

}  // namespace detail

BufferScope::BufferScope() : index_(t_arena.marks.size()) {
  t_arena.marks.push_back({t_arena.top, true});
}

BufferScope::~BufferScope() {
  auto& marks = t_arena.marks;
  marks[index_].live = false;
  while (!marks.empty() && !marks.back().live) {
    t_arena.top = marks.back().top;
    marks.pop_back();
  }
}

}  // namespace writ::vm
