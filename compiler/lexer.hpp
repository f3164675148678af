// Lexer: source text to tokens. Never fails: malformed input becomes an
// Error token with a diagnostic, and lexing continues after it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "writ/compiler/diagnostics.hpp"

namespace writ::compiler {

enum class Tok : uint8_t {
  End,
  Error,
  Ident,
  Int,       // 123, 0xff, 1_000
  Decimal,   // 1.5 (fixed-point literal)
  Duration,  // 30s, 5m, 1h, 7d, 2w
  String,    // "..." (text holds the decoded bytes)
  // keywords
  KwContract,
  KwInterface,
  KwStruct,
  KwEnum,
  KwEvent,
  KwError,
  KwFn,
  KwPub,
  KwView,
  KwPayable,
  KwReentrant,
  KwLet,
  KwIf,
  KwElse,
  KwWhile,
  KwFor,
  KwIn,
  KwReturn,
  KwBreak,
  KwContinue,
  KwEmit,
  KwRevert,
  KwStorage,
  KwInit,
  KwTrue,
  KwFalse,
  KwIndexed,
  KwAs,
  KwTry,
  KwConst,
  KwImport,
  // punctuation and operators
  LParen,
  RParen,
  LBrace,
  RBrace,
  LBracket,
  RBracket,
  Comma,
  Semi,
  Colon,
  ColonColon,
  Dot,
  DotDot,
  Arrow,
  Assign,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  Plus,
  Minus,
  Star,
  StarStar,
  Slash,
  Percent,
  Bang,
  AndAnd,
  OrOr,
  Amp,
  Pipe,
  Caret,
  Tilde,
  Shl,
  Shr,
  PlusAssign,
  MinusAssign,
  StarAssign,
  SlashAssign,
  PercentAssign,
  AmpAssign,
  PipeAssign,
  CaretAssign,
  ShlAssign,
  ShrAssign,
};

std::string_view tok_name(Tok t);  // for diagnostics: "identifier", "'{'", ...

struct Token {
  Tok kind = Tok::End;
  Span span;
  std::string text;  // identifier name, literal digits (no '_'), decoded string bytes
  char unit = 0;     // Duration: 's', 'm', 'h', 'd' or 'w'
};

std::vector<Token> lex(const SourceFile& file, uint32_t file_id, Diagnostics& diags);

}  // namespace writ::compiler
