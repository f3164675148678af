// Verifier: every unverifiable construct is rejected with the function and
// code offset; verified code gets correct block gas.
#include "test_util.hpp"

namespace writ::vm::test {
namespace {

// Assembles and verifies; returns the verifier's error text ("" if it verifies).
std::string verify_error(const std::string& text) {
  auto m = assemble(text);
  if (!m.ok()) return "ASSEMBLY: " + m.error().to_string();
  auto bytes = encode_module(m.value());
  auto v = load_module(bytes);
  return v.ok() ? "" : v.error().message;
}

TEST(Verifier, AcceptsWellTypedCode) {
  EXPECT_EQ(verify_error(R"(
.func f(u64, u256) -> (u256) export
  .regs u256 buf
  zext r2, r0
  wadd r2, r2, r1
  bnew r3, r0
  ret r2
.end)"),
            "");
}

TEST(Verifier, RejectsTypeConfusedRegister) {
  std::string e = verify_error(R"(
.func f(u64, u256) -> (u64) export
  .regs u64
  add r2, r0, r1
  ret r2
.end)");
  EXPECT_NE(e.find("function 0 (f) at code offset 0"), std::string::npos) << e;
  EXPECT_NE(e.find("register r1 is u256, expected u64"), std::string::npos) << e;
}

TEST(Verifier, RejectsBufferUsedAsInteger) {
  std::string e = verify_error(R"(
.func f(buf) -> (u64) export
  ret r0
.end)");
  EXPECT_NE(e.find("ret value 0 in r0 is buf, expected u64"), std::string::npos) << e;
}

TEST(Verifier, RejectsMissingRegister) {
  std::string e = verify_error(R"(
.func f(u64) -> (u64) export
  add r0, r0, r7
  ret r0
.end)");
  EXPECT_NE(e.find("register r7 does not exist"), std::string::npos) << e;
}

TEST(Verifier, RejectsJumpIntoTheMiddleOfAnInstruction) {
  // const is 11 bytes long (opcode, reg, imm64); offset 3 is inside it.
  std::string e = verify_error(R"(
.func f() -> (u64) export
  .regs u64
  const r0, 5
  jmp @3
.end)");
  EXPECT_NE(e.find("at code offset 11"), std::string::npos) << e;
  EXPECT_NE(e.find("jump target 3 is not the start of an instruction"), std::string::npos) << e;
}

TEST(Verifier, RejectsJumpOutOfTheFunction) {
  std::string e = verify_error(R"(
.func f() export
  jmp @4000
.end)");
  EXPECT_NE(e.find("jump target 4000 is outside the function"), std::string::npos) << e;
}

TEST(Verifier, RejectsFallingOffTheEnd) {
  std::string e = verify_error(R"(
.func f(u64) -> (u64) export
  addi r0, r0, 1
.end)");
  EXPECT_NE(e.find("falls off the end"), std::string::npos) << e;
}

TEST(Verifier, RejectsUndefinedOpcode) {
  auto m = assemble(".func f() export\n  unreachable\n.end\n");
  ASSERT_TRUE(m.ok());
  m->functions[0].code[0] = 0x1d;  // a reserved number
  auto v = verify(m.value(), CodeHash{});
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("undefined opcode 0x1d"), std::string::npos)
      << v.error().message;
  m->functions[0].code[0] = 0xfe;  // past the table
  v = verify(m.value(), CodeHash{});
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("undefined opcode 0xfe"), std::string::npos);
}

TEST(Verifier, RejectsTruncatedInstruction) {
  auto m = assemble(".func f() -> (u64) export\n  .regs u64\n  const r0, 1\n  ret r0\n.end\n");
  ASSERT_TRUE(m.ok());
  m->functions[0].code.resize(5);  // const cut short
  auto v = verify(m.value(), CodeHash{});
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("const needs 11 bytes, 5 left"), std::string::npos)
      << v.error().message;
}

TEST(Verifier, RejectsCallWithWrongArgumentTypes) {
  std::string e = verify_error(R"(
.func g(u256) -> (u64)
  .regs u64
  ret r1
.end
.func f(u64) -> (u64) export
  .regs u64
  call g, r0, r1
  ret r1
.end)");
  EXPECT_NE(e.find("function 1 (f)"), std::string::npos) << e;
  EXPECT_NE(e.find("arguments of call g value 0 in r0 is u64, expected u256"), std::string::npos)
      << e;
}

TEST(Verifier, RejectsCallWhoseArgumentsRunPastTheRegisters) {
  std::string e = verify_error(R"(
.func g(u64, u64) -> (u64)
  ret r0
.end
.func f(u64) -> (u64) export
  call g, r0, r0
  ret r0
.end)");
  EXPECT_NE(e.find("arguments of call g needs registers r0..r1"), std::string::npos) << e;
}

TEST(Verifier, RejectsWrongConstantKind) {
  std::string e = verify_error(R"(
.const T bytes "x"
.func f() -> (u256) export
  .regs u256
  wconst r0, T
  ret r0
.end)");
  EXPECT_NE(e.find("constant k0 is a bytes constant, wconst needs a word constant"),
            std::string::npos)
      << e;
}

TEST(Verifier, RejectsMissingConstantEventAndError) {
  EXPECT_NE(verify_error(".func f() -> (u256) export\n .regs u256\n wconst r0, k3\n ret r0\n.end\n")
                .find("constant k3 does not exist"),
            std::string::npos);
  EXPECT_NE(
      verify_error(".func f() export\n emit 2, r0\n ret r0\n.end\n").find("event 2 does not exist"),
      std::string::npos);
  EXPECT_NE(verify_error(".func f() export\n throw 0, r0\n.end\n").find("error 0 does not exist"),
            std::string::npos);
}

TEST(Verifier, RejectsEventFieldTypeMismatch) {
  std::string e = verify_error(R"(
.event E(u256 indexed, u64)
.func f(u64, u64) export
  emit E, r0
  ret r0
.end)");
  EXPECT_NE(e.find("fields of event E value 0 in r0 is u64, expected u256"), std::string::npos)
      << e;
}

TEST(Verifier, RejectsFitsWidthOutOfRange) {
  std::string e = verify_error(".func f(u64) export\n fits.u r0, 65\n ret r0\n.end\n");
  EXPECT_NE(e.find("fits.u bit width 65 is outside 1..64"), std::string::npos) << e;
}

TEST(Verifier, RejectsHistoryWordOutOfRange) {
  std::string e =
      verify_error(".func f(u256) export\n .regs u256\n hload r1, r0, 3\n ret r0\n.end\n");
  EXPECT_NE(e.find("hload word 3 is outside 0..2"), std::string::npos) << e;
  e = verify_error(".func f(u256) export\n hstore r0, -1, r0\n ret r0\n.end\n");
  EXPECT_NE(e.find("hstore word -1 is outside 0..2"), std::string::npos) << e;
}

TEST(Verifier, RejectsRetWithWrongResultType) {
  std::string e = verify_error(".func f(u64) -> (u256) export\n ret r0\n.end\n");
  EXPECT_NE(e.find("ret value 0 in r0 is u64, expected u256"), std::string::npos) << e;
}

TEST(Verifier, NonZeroBaseRegisterForEmptyRunIsRejected) {
  std::string e =
      verify_error(".func f(u64) export\n ret r0\n.end\n.func g(u64) export\n ret r0\n.end\n");
  EXPECT_EQ(e, "");
  e = verify_error(".func f(u64, u64) export\n ret r1\n.end\n");
  EXPECT_NE(e.find("ret has no values: the register operand must be r0"), std::string::npos) << e;
}

}  // namespace
}  // namespace writ::vm::test
