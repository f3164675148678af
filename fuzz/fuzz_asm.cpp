// libFuzzer target over the text assembler.
//
// Input: assembler source text (any bytes). Checks:
//   1. assemble() never crashes; an error carries a line and column inside the
//      text (1-based);
//   2. a module that assembles and passes the loader and the verifier
//      round-trips: decode(encode(m)) == m and assemble(disassemble(m)) == m.
// A broken invariant calls abort(): libFuzzer reports it as a crash.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "writ/vm/assembler.hpp"
#include "writ/vm/module.hpp"
#include "writ/vm/verifier.hpp"

namespace {

using namespace writ::vm;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_asm: invariant broken: %s\n%s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = assemble(text);
  if (!m.ok()) {
    const Error& e = m.error();
    size_t lines = 1 + static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
    if (e.line < 1 || e.line > lines || e.column < 1 || e.message.empty())
      fail("assembler error without a location inside the text", e.to_string());
    return 0;
  }
  std::vector<uint8_t> bytes = encode_module(m.value());
  auto decoded = decode_module(bytes);
  if (!decoded.ok()) return 0;  // assembled but outside the loader's limits: `writ asm` rejects it
  if (!(decoded.value() == m.value())) fail("decode(encode(m)) != m", std::string(text));
  auto verified = verify(decoded.value(), code_hash(bytes));
  if (!verified.ok()) return 0;
  std::string dis = disassemble(m.value());
  auto again = assemble(dis);
  if (!again.ok()) fail("disassembly does not assemble", again.error().to_string() + "\n" + dis);
  if (!(again.value() == m.value())) fail("assemble(disassemble(m)) != m", dis);
  return 0;
}
