// The VM's limits on a module (vm/module.hpp) as the compiler meets them:
// source that passes one gets an error at the place that passes it (the
// function, the literal, the contract), never "internal compiler error"
// from a module that does not verify. The sources are generated: each case
// is just past its limit, and a twin just inside it compiles.
#include <gtest/gtest.h>

#include <string>

#include "writ/compiler/compiler.hpp"
#include "writ/vm/module.hpp"

namespace writ::compiler {
namespace {

CompileOutput build(const std::string& text) {
  return compile_source("limits.writ", text, {});
}

// `n` public functions f0..f(n-1) in contract C, each `body`.
std::string pub_functions(size_t n, const std::string& body = "return a + 1;") {
  std::string s = "contract C {\n";
  for (size_t i = 0; i < n; ++i)
    s += "  pub fn f" + std::to_string(i) + "(a: u64) -> u64 { " + body + " }\n";
  return s + "}\n";
}

// Fails with exactly one error, at `where` (line:col), whose message starts
// with `message` and contains `rest`; and no internal error.
void expect_one_error(const CompileOutput& out, const std::string& where,
                      const std::string& message, const std::string& rest = "") {
  const std::string shown = out.diagnostics.substr(0, 2000);
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.error_count, 1u) << shown;
  const size_t at = out.diagnostics.find("limits.writ:" + where + ": error: " + message);
  EXPECT_NE(at, std::string::npos) << shown;
  if (at != std::string::npos) {
    EXPECT_NE(out.diagnostics.find(rest, at), std::string::npos) << shown;
  }
  EXPECT_EQ(out.diagnostics.find("internal compiler error"), std::string::npos) << shown;
}

TEST(ModuleLimits, PublicFunctions) {
  // The constructor, when there is none written, is not exported.
  expect_one_error(build(pub_functions(vm::kMaxExports + 1)), "1:10",
                   "contract C has 1025 public functions (the constructor included), past the "
                   "VM's limit of 1024 per contract");
  EXPECT_TRUE(build(pub_functions(vm::kMaxExports)).ok);
}

TEST(ModuleLimits, Functions) {
  std::string s = "contract C {\n";
  for (size_t i = 0; i < vm::kMaxFunctions; ++i)  // with f below: one past the limit
    s += "  fn g" + std::to_string(i) + "(a: u64) -> u64 { return a + " + std::to_string(i) +
         "; }\n";
  s += "  pub fn f(a: u64) -> u64 { return g1(a); }\n}\n";
  expect_one_error(build(s), "1:10",
                   "contract C has 4097 functions (its own and the free functions it calls), "
                   "past the VM's limit of 4096 per contract");
}

TEST(ModuleLimits, NameLength) {
  const std::string name(vm::kMaxName + 1, 'a');
  expect_one_error(build("contract C {\n  pub fn " + name + "() -> u64 { return 1; }\n}\n"), "2:10",
                   "the name of function aaaaaaaaaaaaaaaa... is 65 characters long, past the "
                   "VM's limit of 64");
  const std::string event(vm::kMaxName + 1, 'E');
  expect_one_error(
      build("event " + event + "(a: u64);\ncontract C { pub fn f() { emit " + event + "(1); } }\n"),
      "1:7", "the name of event EEEEEEEEEEEEEEEE... is 65 characters long");
  const std::string error(vm::kMaxName + 1, 'R');
  expect_one_error(build("error " + error + "(a: u64);\ncontract C { pub fn f() { revert " + error +
                         "(1); } }\n"),
                   "1:7", "the name of error RRRRRRRRRRRRRRRR... is 65 characters long");
  EXPECT_TRUE(build("contract C {\n  pub fn " + std::string(vm::kMaxName, 'a') +
                    "() -> u64 { return 1; }\n}\n")
                  .ok);
}

TEST(ModuleLimits, StringLiteral) {
  auto with_literal = [](size_t n) {
    return "contract C {\n  pub fn f() -> string { return \"" + std::string(n, 'x') + "\"; }\n}\n";
  };
  expect_one_error(build(with_literal(vm::kMaxBytesConstant + 1)), "2:33",
                   "string literal of 65537 bytes, past the VM's limit of 65536 bytes for a "
                   "constant");
  EXPECT_TRUE(build(with_literal(vm::kMaxBytesConstant)).ok);
}

TEST(ModuleLimits, FunctionCodeSize) {
  // Each statement compiles to 13 bytes: 21,000 of them pass 256 KiB.
  std::string body = "let s = a;";
  for (int i = 0; i < 21000; ++i) body += " s = s ^ " + std::to_string(i) + ";";
  expect_one_error(build(pub_functions(1, body + " return s;")), "2:10", "function f0 compiles to ",
                   " bytes of code, past the VM's limit of 262144 per function");
}

TEST(ModuleLimits, ModuleSize) {
  // 1,000 exports (within their limit) of about 800 bytes each: past 512 KiB in all.
  std::string body = "let d = a;";
  for (int k = 0; k < 20; ++k)
    body += " if d > " + std::to_string(k) + " { d = d * " + std::to_string(k + 2) + " + a; }";
  expect_one_error(build(pub_functions(1000, body + " return d;")), "1:10",
                   "contract C compiles to a module of ", " bytes, past the VM's limit of 524288");
}

}  // namespace
}  // namespace writ::compiler
