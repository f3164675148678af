// libFuzzer target: arbitrary bytes as Writ source. The compiler must never
// crash, hang or read out of bounds; whatever compiles must verify (the
// driver checks) and re-decode to the same module.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "writ/compiler/compiler.hpp"
#include "writ/vm/module.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  writ::compiler::CompileOptions opts;  // no stdlib: imports fail cleanly
  auto out = writ::compiler::compile_source("fuzz.writ", text, opts);
  if (out.ok) {
    for (const auto& c : out.contracts) {
      auto m = writ::vm::decode_module(c.bytecode);
      if (!m.ok() || writ::vm::encode_module(m.value()) != c.bytecode) std::abort();
    }
  } else if (out.diagnostics.empty()) {
    std::abort();  // a failed compile must say why
  }
  return 0;
}
