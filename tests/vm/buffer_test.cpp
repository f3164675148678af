// The per-thread buffer arena (writ/vm/buffer.hpp): scopes free what their
// call allocated, keep the memory for the next call, and never hand out
// memory that a live buffer holds, whatever order scopes end in.
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <optional>

#include "writ/vm/buffer.hpp"

namespace writ::vm {
namespace {

Buffer filled(size_t n, uint8_t byte) {
  return Buffer(n, byte);
}

bool all(const Buffer& b, uint8_t byte) {
  for (uint8_t x : b)
    if (x != byte) return false;
  return !b.empty();
}

TEST(BufferArena, ANestedCallsMemoryIsReusedByTheNextCall) {
  BufferScope outer;
  Buffer a = filled(1000, 0xaa);
  const uint8_t* inner_first = nullptr;
  {
    BufferScope inner;
    Buffer b = filled(4096, 0xbb);
    inner_first = b.data();
    EXPECT_TRUE(all(a, 0xaa));
  }
  {
    BufferScope next;
    Buffer c = filled(64, 0xcc);
    EXPECT_EQ(c.data(), inner_first);
    EXPECT_TRUE(all(a, 0xaa));
    EXPECT_TRUE(all(c, 0xcc));
  }
}

TEST(BufferArena, AScopeThatEndsFirstKeepsItsMemoryUntilTheLaterOneEnds) {
  std::optional<BufferScope> outer(std::in_place);
  std::optional<Buffer> a(std::in_place, 512, uint8_t{0x11});
  BufferScope inner;
  Buffer b = filled(512, 0x22);
  // The outer call ends first (its buffers, then its scope).
  a.reset();
  outer.reset();
  // New allocations must not land on b.
  Buffer c = filled(2048, 0x33);
  Buffer d = filled(16, 0x44);
  EXPECT_TRUE(all(b, 0x22));
  EXPECT_TRUE(all(c, 0x33));
  EXPECT_TRUE(all(d, 0x44));
  EXPECT_TRUE(c.data() + c.size() <= b.data() || b.data() + b.size() <= c.data());
}

TEST(BufferArena, AGrowingBufferKeepsItsBytesAndGivesBackTheLastBlock) {
  BufferScope scope;
  Buffer b;
  for (size_t n = 1; n <= 100000; n = n * 3 / 2 + 1) {
    const size_t old = b.size();
    b.resize(n, uint8_t(n & 0xff));
    // The bytes written before the growth are still there.
    if (old > 0) {
      EXPECT_EQ(b[old - 1], uint8_t(old & 0xff)) << n;
    }
  }
  // The last allocation given back is the next one handed out.
  const uint8_t* p;
  {
    Buffer t = filled(100, 1);
    p = t.data();
  }
  Buffer u = filled(100, 2);
  EXPECT_EQ(u.data(), p);
}

// How many of the pages of [p, p + bytes) are resident.
size_t resident_pages(const uint8_t* p, size_t bytes) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> v(bytes / page);
  EXPECT_EQ(mincore(const_cast<uint8_t*>(p), bytes, v.data()), 0);
  size_t n = 0;
  for (unsigned char c : v) n += c & 1;
  return n;
}

TEST(BufferArena, AThreadKeepsSixtyFourMebibytesAndGivesBackTheRest) {
  constexpr size_t kMiB = size_t{1} << 20;
  const uint8_t* p;
  {
    BufferScope outermost;
    Buffer big(96 * kMiB, uint8_t{1});  // every page written
    p = big.data();
    EXPECT_EQ(resident_pages(p + 64 * kMiB, 32 * kMiB), 32 * kMiB / 4096);
  }
  // The call has ended: the first 64 MiB stay, the rest went back.
  EXPECT_EQ(resident_pages(p, 64 * kMiB), 64 * kMiB / 4096);
  EXPECT_EQ(resident_pages(p + 64 * kMiB, 32 * kMiB), 0u);
  {
    // And the next call starts there again, with the kept pages.
    BufferScope next;
    Buffer b(4096, uint8_t{2});
    EXPECT_EQ(b.data(), p);
  }
}

TEST(BufferArena, BuffersOutsideAnyScopeComeFromTheHeap) {
  Buffer b = filled(300, 0x5a);
  Buffer copy = b;
  b.clear();
  b.shrink_to_fit();
  EXPECT_TRUE(all(copy, 0x5a));
  {
    BufferScope scope;
    Buffer inside = filled(300, 0x6b);
    EXPECT_TRUE(all(copy, 0x5a));
    EXPECT_TRUE(all(inside, 0x6b));
  }
  // Still valid after the scope: it was never in the arena.
  EXPECT_TRUE(all(copy, 0x5a));
}

}  // namespace
}  // namespace writ::vm
