// The per-thread buffer arena (writ/vm/buffer.hpp).
#include "writ/vm/buffer.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <new>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) && !defined(__SANITIZE_ADDRESS__)
#define __SANITIZE_ADDRESS__ 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace writ::vm {
namespace {

// Under AddressSanitizer the arena marks what is not a live buffer as
// poisoned, with a red zone after each buffer: an access past a buffer's end,
// or to a buffer whose call has ended, is reported as for the heap.
#if defined(__SANITIZE_ADDRESS__)
constexpr size_t kRedZone = 32;
void poison(const void* p, size_t n) {
  ASAN_POISON_MEMORY_REGION(p, n);
}
void unpoison(const void* p, size_t n) {
  ASAN_UNPOISON_MEMORY_REGION(p, n);
}
// Its shadow is an eighth of the range, written when the range is poisoned.
constexpr size_t kReserve = size_t{256} << 20;
#else
constexpr size_t kRedZone = 0;
void poison(const void*, size_t) {}
void unpoison(const void*, size_t) {}
// Virtual address space reserved per thread; pages are committed when first
// touched. A call grants at most kMaxMemory (32 MiB) to its buffers, and a
// buffer grown step by step leaves its earlier copies behind (about twice its
// size in all), so this holds many nested calls at their limit; past it,
// allocations fall back to the C++ heap.
constexpr size_t kReserve = size_t{1} << 30;
#endif
// Pages kept between calls: a call at its 32 MiB limit with its growth
// copies. Pages above this go back to the kernel when the thread's outermost
// call ends, so a thread holds at most this much between calls (only nested
// calls, at 1 M gas per 32 MiB, reach past it).
constexpr size_t kRetain = size_t{64} << 20;
constexpr size_t kAlign = 16;

size_t rounded(size_t bytes) {
  return (bytes + kRedZone + kAlign - 1) & ~(kAlign - 1);
}

struct Arena {
  uint8_t* base = nullptr;
  bool reserve_failed = false;
  size_t top = 0;
  size_t high = 0;  // the highest top since pages were last given back
  struct Mark {
    size_t top;
    bool live;
  };
  std::vector<Mark> marks;

  ~Arena() {
    if (!base) return;
    unpoison(base, kReserve);
    munmap(base, kReserve);
  }
  bool owns(const void* p) const {
    auto* b = static_cast<const uint8_t*>(p);
    return base && b >= base && b < base + kReserve;
  }
  void* allocate(size_t bytes) {
    if (!base && !reserve_failed) {
      void* p = mmap(nullptr, kReserve, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (p == MAP_FAILED) {
        reserve_failed = true;
      } else {
        base = static_cast<uint8_t*>(p);
        poison(base, kReserve);
      }
    }
    const size_t n = rounded(bytes);
    if (base && !marks.empty() && n <= kReserve - top) {
      void* p = base + top;
      top += n;
      high = std::max(high, top);
      unpoison(p, bytes);
      return p;
    }
    return ::operator new(bytes);
  }
  void deallocate(void* p, size_t bytes) noexcept {
    if (!owns(p)) {
      ::operator delete(p);
      return;
    }
    poison(p, bytes);
    // The last allocation can be given back; the rest waits for its scope.
    const size_t n = rounded(bytes);
    if (static_cast<uint8_t*>(p) + n == base + top) top -= n;
  }
  // The end of a scope: what was allocated since `mark` is free.
  void release_to(size_t mark) {
    if (top > mark) poison(base + mark, top - mark);
    top = mark;
  }
  // After the outermost call: pages above kRetain go back to the kernel.
  void trim() {
    if (high <= kRetain) return;
    const size_t keep = std::max(kRetain, (top + 4095) & ~size_t{4095});
    if (high > keep) madvise(base + keep, high - keep, MADV_DONTNEED);
    high = keep;
  }
};

thread_local Arena t_arena;

}  // namespace

namespace detail {

void* buffer_allocate(size_t bytes) {
  return t_arena.allocate(bytes);
}
void buffer_deallocate(void* p, size_t bytes) noexcept {
  t_arena.deallocate(p, bytes);
}

}  // namespace detail

BufferScope::BufferScope() : index_(t_arena.marks.size()) {
  t_arena.marks.push_back({t_arena.top, true});
}

BufferScope::~BufferScope() {
  auto& marks = t_arena.marks;
  marks[index_].live = false;
  while (!marks.empty() && !marks.back().live) {
    t_arena.release_to(marks.back().top);
    marks.pop_back();
  }
  if (marks.empty()) t_arena.trim();
}

}  // namespace writ::vm
