#include "lexer.hpp"

#include <array>
#include <cstdio>
#include <utility>

namespace writ::compiler {

std::string_view tok_name(Tok t) {
  switch (t) {
    case Tok::End:
      return "end of file";
    case Tok::Error:
      return "invalid token";
    case Tok::Ident:
      return "identifier";
    case Tok::Int:
      return "integer literal";
    case Tok::Decimal:
      return "decimal literal";
    case Tok::Duration:
      return "duration literal";
    case Tok::String:
      return "string literal";
    case Tok::KwContract:
      return "'contract'";
    case Tok::KwInterface:
      return "'interface'";
    case Tok::KwStruct:
      return "'struct'";
    case Tok::KwEnum:
      return "'enum'";
    case Tok::KwEvent:
      return "'event'";
    case Tok::KwError:
      return "'error'";
    case Tok::KwFn:
      return "'fn'";
    case Tok::KwPub:
      return "'pub'";
    case Tok::KwView:
      return "'view'";
    case Tok::KwPayable:
      return "'payable'";
    case Tok::KwReentrant:
      return "'reentrant'";
    case Tok::KwLet:
      return "'let'";
    case Tok::KwIf:
      return "'if'";
    case Tok::KwElse:
      return "'else'";
    case Tok::KwWhile:
      return "'while'";
    case Tok::KwFor:
      return "'for'";
    case Tok::KwIn:
      return "'in'";
    case Tok::KwReturn:
      return "'return'";
    case Tok::KwBreak:
      return "'break'";
    case Tok::KwContinue:
      return "'continue'";
    case Tok::KwEmit:
      return "'emit'";
    case Tok::KwRevert:
      return "'revert'";
    case Tok::KwStorage:
      return "'storage'";
    case Tok::KwInit:
      return "'init'";
    case Tok::KwTrue:
      return "'true'";
    case Tok::KwFalse:
      return "'false'";
    case Tok::KwIndexed:
      return "'indexed'";
    case Tok::KwAs:
      return "'as'";
    case Tok::KwTry:
      return "'try'";
    case Tok::KwConst:
      return "'const'";
    case Tok::KwImport:
      return "'import'";
    case Tok::LParen:
      return "'('";
    case Tok::RParen:
      return "')'";
    case Tok::LBrace:
      return "'{'";
    case Tok::RBrace:
      return "'}'";
    case Tok::LBracket:
      return "'['";
    case Tok::RBracket:
      return "']'";
    case Tok::Comma:
      return "','";
    case Tok::Semi:
      return "';'";
    case Tok::Colon:
      return "':'";
    case Tok::ColonColon:
      return "'::'";
    case Tok::Dot:
      return "'.'";
    case Tok::DotDot:
      return "'..'";
    case Tok::Arrow:
      return "'->'";
    case Tok::Assign:
      return "'='";
    case Tok::Eq:
      return "'=='";
    case Tok::Ne:
      return "'!='";
    case Tok::Lt:
      return "'<'";
    case Tok::Le:
      return "'<='";
    case Tok::Gt:
      return "'>'";
    case Tok::Ge:
      return "'>='";
    case Tok::Plus:
      return "'+'";
    case Tok::Minus:
      return "'-'";
    case Tok::Star:
      return "'*'";
    case Tok::StarStar:
      return "'**'";
    case Tok::Slash:
      return "'/'";
    case Tok::Percent:
      return "'%'";
    case Tok::Bang:
      return "'!'";
    case Tok::AndAnd:
      return "'&&'";
    case Tok::OrOr:
      return "'||'";
    case Tok::Amp:
      return "'&'";
    case Tok::Pipe:
      return "'|'";
    case Tok::Caret:
      return "'^'";
    case Tok::Tilde:
      return "'~'";
    case Tok::Shl:
      return "'<<'";
    case Tok::Shr:
      return "'>>'";
    case Tok::PlusAssign:
      return "'+='";
    case Tok::MinusAssign:
      return "'-='";
    case Tok::StarAssign:
      return "'*='";
    case Tok::SlashAssign:
      return "'/='";
    case Tok::PercentAssign:
      return "'%='";
    case Tok::AmpAssign:
      return "'&='";
    case Tok::PipeAssign:
      return "'|='";
    case Tok::CaretAssign:
      return "'^='";
    case Tok::ShlAssign:
      return "'<<='";
    case Tok::ShrAssign:
      return "'>>='";
  }
  return "token";
}

namespace {

constexpr std::array<std::pair<std::string_view, Tok>, 31> kKeywords = {{
    {"contract", Tok::KwContract},
    {"interface", Tok::KwInterface},
    {"struct", Tok::KwStruct},
    {"enum", Tok::KwEnum},
    {"event", Tok::KwEvent},
    {"error", Tok::KwError},
    {"fn", Tok::KwFn},
    {"pub", Tok::KwPub},
    {"view", Tok::KwView},
    {"payable", Tok::KwPayable},
    {"reentrant", Tok::KwReentrant},
    {"let", Tok::KwLet},
    {"if", Tok::KwIf},
    {"else", Tok::KwElse},
    {"while", Tok::KwWhile},
    {"for", Tok::KwFor},
    {"in", Tok::KwIn},
    {"return", Tok::KwReturn},
    {"break", Tok::KwBreak},
    {"continue", Tok::KwContinue},
    {"emit", Tok::KwEmit},
    {"revert", Tok::KwRevert},
    {"storage", Tok::KwStorage},
    {"init", Tok::KwInit},
    {"true", Tok::KwTrue},
    {"false", Tok::KwFalse},
    {"indexed", Tok::KwIndexed},
    {"as", Tok::KwAs},
    {"try", Tok::KwTry},
    {"const", Tok::KwConst},
    {"import", Tok::KwImport},
}};

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

class Lexer {
 public:
  Lexer(const SourceFile& f, uint32_t id, Diagnostics& d) : s_(f.text), id_(id), diags_(d) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    while (true) {
      skip_space_and_comments();
      Token t = next();
      out.push_back(std::move(t));
      if (out.back().kind == Tok::End) break;
    }
    return out;
  }

 private:
  Span span(size_t b, size_t e) const {
    return Span{id_, static_cast<uint32_t>(b), static_cast<uint32_t>(e)};
  }

  void skip_space_and_comments() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i_;
      } else if (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '/') {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
      } else if (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '*') {
        size_t start = i_;
        i_ += 2;
        while (i_ + 1 < s_.size() && !(s_[i_] == '*' && s_[i_ + 1] == '/')) ++i_;
        if (i_ + 1 >= s_.size()) {
          diags_.error(span(start, start + 2), "unterminated block comment");
          i_ = s_.size();
        } else {
          i_ += 2;
        }
      } else {
        break;
      }
    }
  }

  Token make(Tok k, size_t b) {
    Token t;
    t.kind = k;
    t.span = span(b, i_);
    return t;
  }

  Token next() {
    size_t b = i_;
    if (i_ >= s_.size()) return make(Tok::End, b);
    char c = s_[i_];
    if (is_alpha(c)) {
      while (i_ < s_.size() && (is_alpha(s_[i_]) || is_digit(s_[i_]))) ++i_;
      std::string_view word = s_.substr(b, i_ - b);
      for (const auto& [kw, tok] : kKeywords)
        if (kw == word) return make(tok, b);
      Token t = make(Tok::Ident, b);
      t.text = std::string(word);
      return t;
    }
    if (is_digit(c)) return number(b);
    if (c == '"') return string(b);
    ++i_;
    auto two = [&](char second, Tok yes, Tok no) {
      if (i_ < s_.size() && s_[i_] == second) {
        ++i_;
        return make(yes, b);
      }
      return make(no, b);
    };
    switch (c) {
      case '(':
        return make(Tok::LParen, b);
      case ')':
        return make(Tok::RParen, b);
      case '{':
        return make(Tok::LBrace, b);
      case '}':
        return make(Tok::RBrace, b);
      case '[':
        return make(Tok::LBracket, b);
      case ']':
        return make(Tok::RBracket, b);
      case ',':
        return make(Tok::Comma, b);
      case ';':
        return make(Tok::Semi, b);
      case '~':
        return make(Tok::Tilde, b);
      case '^':
        return two('=', Tok::CaretAssign, Tok::Caret);
      case ':':
        return two(':', Tok::ColonColon, Tok::Colon);
      case '.':
        return two('.', Tok::DotDot, Tok::Dot);
      case '=':
        return two('=', Tok::Eq, Tok::Assign);
      case '!':
        return two('=', Tok::Ne, Tok::Bang);
      case '+':
        return two('=', Tok::PlusAssign, Tok::Plus);
      case '/':
        return two('=', Tok::SlashAssign, Tok::Slash);
      case '%':
        return two('=', Tok::PercentAssign, Tok::Percent);
      case '&':
        if (i_ < s_.size() && s_[i_] == '=') {
          ++i_;
          return make(Tok::AmpAssign, b);
        }
        return two('&', Tok::AndAnd, Tok::Amp);
      case '|':
        if (i_ < s_.size() && s_[i_] == '=') {
          ++i_;
          return make(Tok::PipeAssign, b);
        }
        return two('|', Tok::OrOr, Tok::Pipe);
      case '-':
        if (i_ < s_.size() && s_[i_] == '>') {
          ++i_;
          return make(Tok::Arrow, b);
        }
        return two('=', Tok::MinusAssign, Tok::Minus);
      case '*':
        if (i_ < s_.size() && s_[i_] == '*') {
          ++i_;
          return make(Tok::StarStar, b);
        }
        return two('=', Tok::StarAssign, Tok::Star);
      case '<':
        if (i_ < s_.size() && s_[i_] == '<') {
          ++i_;
          return two('=', Tok::ShlAssign, Tok::Shl);
        }
        return two('=', Tok::Le, Tok::Lt);
      case '>':
        if (i_ < s_.size() && s_[i_] == '>') {
          ++i_;
          return two('=', Tok::ShrAssign, Tok::Shr);
        }
        return two('=', Tok::Ge, Tok::Gt);
      default: {
        // Skip the whole UTF-8 sequence so one bad character is one error.
        while (i_ < s_.size() && (static_cast<unsigned char>(s_[i_]) & 0xC0) == 0x80) ++i_;
        Token t = make(Tok::Error, b);
        unsigned char uc = static_cast<unsigned char>(c);
        if (uc >= 0x20 && uc < 0x7f) {
          diags_.error(t.span, std::string("unexpected character '") + c + "'");
        } else if (uc < 0x20 || uc == 0x7f) {
          char hex[8];
          std::snprintf(hex, sizeof hex, "0x%02x", uc);
          diags_.error(t.span, std::string("unexpected control character ") + hex +
                                   " (spaces, tabs and line breaks separate tokens)");
        } else {
          char hex[8];
          std::snprintf(hex, sizeof hex, "0x%02x", uc);
          diags_.error(t.span, std::string("unexpected byte ") + hex +
                                   " in source (only ASCII is allowed outside strings and "
                                   "comments)");
        }
        return t;
      }
    }
  }

  // A '_' in the digits [run, i_) of a number stands between two digits:
  // 1_000 and 0xff_ff, not 1_, 1__0, 0x_ff or 1_.5. Otherwise the token
  // (begun at b) becomes an error that names the literal, and the rest of its
  // characters are taken into it.
  bool separators_between_digits(size_t run, size_t b, Token& t) {
    for (size_t k = run; k < i_; ++k) {
      if (s_[k] != '_') continue;
      if (k > run && s_[k - 1] != '_' && k + 1 < i_ && s_[k + 1] != '_') continue;
      size_t e = i_;
      while (e < s_.size() && (is_alpha(s_[e]) || is_digit(s_[e]) || s_[e] == '.')) ++e;
      t.kind = Tok::Error;
      t.span = span(b, e);
      diags_.error(span(k, k + 1), "'_' in a number stands between two digits, as in 1_000_000: '" +
                                       std::string(s_.substr(b, e - b)) + "'");
      i_ = e;
      return false;
    }
    return true;
  }

  Token number(size_t b) {
    Token t;
    bool hex = false;
    if (s_[i_] == '0' && i_ + 1 < s_.size() && (s_[i_ + 1] == 'x' || s_[i_ + 1] == 'X')) {
      hex = true;
      i_ += 2;
      t.text = "0x";
      size_t digits = 0;
      const size_t run = i_;
      while (i_ < s_.size() && (is_hex(s_[i_]) || s_[i_] == '_')) {
        if (s_[i_] != '_') {
          t.text += s_[i_];
          ++digits;
        }
        ++i_;
      }
      if (digits != 0 && !separators_between_digits(run, b, t)) return t;
      if (digits == 0) {
        t.kind = Tok::Error;
        t.span = span(b, i_);
        diags_.error(t.span, "hex literal has no digits");
        return t;
      }
    } else {
      const size_t run = i_;
      while (i_ < s_.size() && (is_digit(s_[i_]) || s_[i_] == '_')) {
        if (s_[i_] != '_') t.text += s_[i_];
        ++i_;
      }
      if (!separators_between_digits(run, b, t)) return t;
    }
    t.kind = Tok::Int;
    if (!hex && i_ + 1 < s_.size() && s_[i_] == '.' && is_digit(s_[i_ + 1])) {
      ++i_;
      t.text += '.';
      const size_t run = i_;
      while (i_ < s_.size() && (is_digit(s_[i_]) || s_[i_] == '_')) {
        if (s_[i_] != '_') t.text += s_[i_];
        ++i_;
      }
      if (!separators_between_digits(run, b, t)) return t;
      t.kind = Tok::Decimal;
    }
    if (!hex && t.kind == Tok::Int && i_ < s_.size() &&
        (s_[i_] == 's' || s_[i_] == 'm' || s_[i_] == 'h' || s_[i_] == 'd' || s_[i_] == 'w') &&
        !(i_ + 1 < s_.size() && (is_alpha(s_[i_ + 1]) || is_digit(s_[i_ + 1])))) {
      t.unit = s_[i_++];
      t.kind = Tok::Duration;
    }
    if (i_ < s_.size() && (is_alpha(s_[i_]) || is_digit(s_[i_]))) {
      size_t e = i_;
      while (e < s_.size() && (is_alpha(s_[e]) || is_digit(s_[e]))) ++e;
      const std::string why = hex ? "a duration is written in decimal: 16s"
                              : t.kind == Tok::Decimal
                                  ? "a duration is a whole number: 90m, not 1.5h"
                                  : "durations take s, m, h, d or w";
      t.kind = Tok::Error;
      t.span = span(b, e);
      diags_.error(t.span, "invalid suffix '" + std::string(s_.substr(i_, e - i_)) +
                               "' on a number (" + why + ")");
      i_ = e;
      return t;
    }
    t.span = span(b, i_);
    return t;
  }

  Token string(size_t b) {
    ++i_;
    Token t;
    t.kind = Tok::String;
    while (i_ < s_.size() && s_[i_] != '"' && s_[i_] != '\n') {
      char c = s_[i_++];
      if (c != '\\') {
        t.text += c;
        continue;
      }
      if (i_ >= s_.size()) break;
      char e = s_[i_++];
      switch (e) {
        case 'n':
          t.text += '\n';
          break;
        case 't':
          t.text += '\t';
          break;
        case '\\':
          t.text += '\\';
          break;
        case '"':
          t.text += '"';
          break;
        case '0':
          t.text += '\0';
          break;
        case 'x':
          if (i_ + 1 < s_.size() && is_hex(s_[i_]) && is_hex(s_[i_ + 1])) {
            t.text += static_cast<char>(std::stoi(std::string(s_.substr(i_, 2)), nullptr, 16));
            i_ += 2;
            break;
          }
          [[fallthrough]];
        default:
          diags_.error(span(i_ - 2, i_), std::string("unknown escape '\\") + e + "'");
      }
    }
    if (i_ >= s_.size() || s_[i_] != '"') {
      t.span = span(b, i_);
      diags_.error(span(b, b + 1), "unterminated string literal");
      t.kind = Tok::Error;
      return t;
    }
    ++i_;
    t.span = span(b, i_);
    return t;
  }

  std::string_view s_;
  uint32_t id_;
  Diagnostics& diags_;
  size_t i_ = 0;
};

}  // namespace

std::vector<Token> lex(const SourceFile& file, uint32_t file_id, Diagnostics& diags) {
  return Lexer(file, file_id, diags).run();
}

}  // namespace writ::compiler
