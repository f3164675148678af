// Assembler: errors with line and column, and the text round trip.
#include "test_util.hpp"

namespace writ::vm::test {
namespace {

Error asm_error(const std::string& text) {
  auto m = assemble(text);
  EXPECT_FALSE(m.ok()) << "assembled:\n" << text;
  return m.ok() ? Error{} : m.error();
}

TEST(Assembler, UnknownInstructionIsLocated) {
  Error e = asm_error(".func f() export\n  nop\n   frobnicate r0\n  unreachable\n.end\n");
  EXPECT_EQ(e.line, 3u);
  EXPECT_EQ(e.column, 4u);
  EXPECT_NE(e.message.find("unknown instruction 'frobnicate'"), std::string::npos);
}

TEST(Assembler, OperandCountAndKindAreChecked) {
  Error e = asm_error(".func f(u64) export\n  add r0, r0\n  ret r0\n.end\n");
  EXPECT_EQ(e.line, 2u);
  EXPECT_NE(e.message.find("add takes 3 operands, got 2"), std::string::npos);
  e = asm_error(".func f(u64) export\n  add r0, r0, 5\n  ret r0\n.end\n");
  EXPECT_EQ(e.line, 2u);
  EXPECT_EQ(e.column, 15u);
  EXPECT_NE(e.message.find("expected a register"), std::string::npos);
  e = asm_error(".func f(u64) export\n  const r0, 0x10000000000000000\n  ret r0\n.end\n");
  EXPECT_NE(e.message.find("does not fit 64 bits"), std::string::npos);
}

TEST(Assembler, UndefinedLabelFunctionConstantAreLocated) {
  Error e = asm_error(".func f() export\n  jmp nowhere\n.end\n");
  EXPECT_EQ(e.line, 2u);
  EXPECT_EQ(e.column, 7u);
  EXPECT_NE(e.message.find("undefined label nowhere"), std::string::npos);
  e = asm_error(".func f() export\n  call g, r0, r0\n  ret r0\n.end\n");
  EXPECT_NE(e.message.find("unknown function 'g'"), std::string::npos);
  e = asm_error(".func f() -> (u256) export\n  .regs u256\n  wconst r0, PI\n  ret r0\n.end\n");
  EXPECT_EQ(e.line, 3u);
  EXPECT_NE(e.message.find("unknown constant 'PI'"), std::string::npos);
}

TEST(Assembler, StructuralErrors) {
  EXPECT_NE(asm_error(".func f() export\n  ret r0\n").message.find("missing .end"),
            std::string::npos);
  EXPECT_NE(asm_error("  nop\n").message.find("instruction outside a function"), std::string::npos);
  EXPECT_NE(asm_error(".end\n").message.find(".end without .func"), std::string::npos);
  EXPECT_NE(
      asm_error(".func f() export\n.end\n.func f() export\n.end\n").message.find("defined twice"),
      std::string::npos);
  EXPECT_NE(asm_error(".func f(u65) export\n.end\n").message.find("unknown type 'u65'"),
            std::string::npos);
  EXPECT_NE(
      asm_error(".func f() export view payable\n.end\n").message.find("a view cannot be payable"),
      std::string::npos);
  Error e = asm_error(".func f() export\nl:\nl:\n  unreachable\n.end\n");
  EXPECT_EQ(e.line, 3u);
  EXPECT_NE(e.message.find("label l is defined twice"), std::string::npos);
  e = asm_error(".const S bytes \"unterminated\n");
  EXPECT_NE(e.message.find("unterminated string"), std::string::npos);
}

TEST(Assembler, CommentsLabelsOnTheSameLineAndNegativeImmediates) {
  auto m = assemble(R"(
; a comment
.const SEMI bytes "a;b"   ; the ';' inside quotes is data
.func f(u64) -> (u64) export
top: addi r0, r0, -1      ; label and instruction on one line
  ret r0
.end)");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->constants[0].bytes, std::vector<uint8_t>({'a', ';', 'b'}));
  Fixture fx(disassemble(m.value()));
  EXPECT_EQ(fx.call_u64("f", {u64(10)}), 9u);
}

TEST(Assembler, EveryOpcodeRoundTripsThroughText) {
  // One instruction per defined opcode, operands all register 0 of the right
  // kind or index 0; the module need not verify, only decode and round-trip.
  Module m;
  m.constants.push_back(Constant{});
  m.events.push_back(Event{"E", {}});
  m.errors.push_back(ErrorDecl{"X", {}});
  Function f;
  f.name = "all";
  for (unsigned op = 0; op < kOpcodeCount; ++op) {
    if (!is_defined(static_cast<uint8_t>(op))) continue;
    f.code.push_back(static_cast<uint8_t>(op));
    for (char c : kOpInfo[op].operands) {
      unsigned width = operand_width(c);
      for (unsigned i = 0; i < width; ++i) f.code.push_back(c == 'i' ? 0xff : 0);
    }
  }
  m.functions.push_back(f);
  auto bytes = encode_module(m);
  auto decoded = decode_module(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  std::string text = disassemble(decoded.value());
  auto again = assemble(text);
  ASSERT_TRUE(again.ok()) << again.error().to_string() << "\n" << text;
  EXPECT_EQ(encode_module(again.value()), bytes);
}

}  // namespace
}  // namespace writ::vm::test
