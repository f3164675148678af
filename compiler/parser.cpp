// Recursive-descent parser with precedence climbing. On a syntax error it
// reports, then skips to a synchronisation point (';' or '}' inside bodies,
// the next item keyword at top level) and carries on, so independent errors
// are all reported in one run.
#include "parser.hpp"

#include <functional>
#include <optional>

namespace writ::compiler {

const char* binop_text(BinOp op) {
  switch (op) {
    case BinOp::Add:
      return "+";
    case BinOp::Sub:
      return "-";
    case BinOp::Mul:
      return "*";
    case BinOp::Div:
      return "/";
    case BinOp::Rem:
      return "%";
    case BinOp::Pow:
      return "**";
    case BinOp::And:
      return "&&";
    case BinOp::Or:
      return "||";
    case BinOp::BitAnd:
      return "&";
    case BinOp::BitOr:
      return "|";
    case BinOp::BitXor:
      return "^";
    case BinOp::Shl:
      return "<<";
    case BinOp::Shr:
      return ">>";
    case BinOp::Eq:
      return "==";
    case BinOp::Ne:
      return "!=";
    case BinOp::Lt:
      return "<";
    case BinOp::Le:
      return "<=";
    case BinOp::Gt:
      return ">";
    case BinOp::Ge:
      return ">=";
  }
  return "?";
}

namespace {

// Thrown only inside the parser to unwind to the nearest recovery point;
// never escapes parse().
struct SyntaxError {};

// Bounds that keep every phase's recursion (the parser's, then the checker's
// and the code generator's over the tree) within the compiler's stack (the
// compiler runs on a thread of its own with a 256 MiB stack, compiler.cpp):
// nesting to 256 levels (each block, parenthesis, argument or index, unary
// operator, right operand of **, else if and type inside a type), and the
// depth of an expression tree, where each link of a left-associative chain
// (a + b + c ..., calls and fields a.b().c) is a level, to 5,000, so that
// a flat sum of a few hundred terms is fine.
constexpr int kMaxDepth = 256;
constexpr int kMaxTreeDepth = 5000;

class Parser {
 public:
  Parser(std::vector<Token> toks, uint32_t file, Diagnostics& d)
      : t_(std::move(toks)), file_(file), diags_(d) {}

  std::unique_ptr<Unit> run() {
    auto unit = std::make_unique<Unit>();
    unit->file = file_;
    while (!at(Tok::End)) {
      try {
        item(*unit);
      } catch (const SyntaxError&) {
        sync_top();
      }
    }
    return unit;
  }

 private:
  // ---- token helpers ---------------------------------------------------------
  const Token& cur() const { return t_[p_]; }
  const Token& peek(size_t k = 1) const { return t_[std::min(p_ + k, t_.size() - 1)]; }
  bool at(Tok k) const { return cur().kind == k; }
  Token take() {
    Token t = cur();
    if (p_ + 1 < t_.size()) ++p_;
    return t;
  }
  bool accept(Tok k) {
    if (!at(k)) return false;
    take();
    return true;
  }
  [[noreturn]] void fail(const std::string& what) {
    // An Error token was already reported by the lexer; do not pile on.
    if (!at(Tok::Error))
      diags_.error(cur().span, "expected " + what + ", found " + describe(cur()));
    throw SyntaxError{};
  }
  Token expect(Tok k, const char* what = nullptr) {
    if (!at(k)) {
      if (k == Tok::Semi && p_ > 0 && !at(Tok::Error)) {
        // A missing ';' belongs at the end of the previous token, not at the
        // start of the next line.
        Span prev = t_[p_ - 1].span;
        diags_.error(Span{prev.file, prev.end, prev.end + 1},
                     "expected ';' after " + describe(t_[p_ - 1]));
        throw SyntaxError{};
      }
      fail(what ? std::string(what) : std::string(tok_name(k)));
    }
    return take();
  }
  static std::string describe(const Token& t) {
    if (t.kind == Tok::Ident) return "identifier '" + t.text + "'";
    return std::string(tok_name(t.kind));
  }
  Span span_from(Span b) const {
    Span prev = t_[p_ > 0 ? p_ - 1 : 0].span;
    return Span{b.file, b.begin, std::max(prev.end, b.begin)};
  }
  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& pp) : p(pp) {
      if (++p.depth_ > kMaxDepth) {
        p.diags_.error(p.cur().span, "nesting is too deep (more than 256 levels)");
        --p.depth_;
        throw SyntaxError{};
      }
    }
    ~DepthGuard() { --p.depth_; }
  };

  void sync_top() {
    while (!at(Tok::End)) {
      switch (cur().kind) {
        case Tok::KwContract:
        case Tok::KwInterface:
        case Tok::KwStruct:
        case Tok::KwEnum:
        case Tok::KwEvent:
        case Tok::KwError:
        case Tok::KwConst:
        case Tok::KwImport:
          return;
        case Tok::KwFn:
          if (brace_depth_ == 0) return;
          break;
        default:
          break;
      }
      if (at(Tok::LBrace)) ++brace_depth_;
      if (at(Tok::RBrace) && brace_depth_ > 0) --brace_depth_;
      take();
    }
  }

  // Skips to just after the next ';' or to a '}' at the current depth.
  void sync_stmt() {
    int depth = 0;
    while (!at(Tok::End)) {
      if (at(Tok::Semi) && depth == 0) {
        take();
        return;
      }
      if (at(Tok::LBrace)) ++depth;
      if (at(Tok::RBrace)) {
        if (depth == 0) return;
        --depth;
        if (depth == 0) {
          take();
          return;
        }
      }
      take();
    }
  }

  // ---- items -------------------------------------------------------------------
  void item(Unit& u) {
    switch (cur().kind) {
      case Tok::KwImport: {
        Span b = take().span;
        Token s = expect(Tok::String, "a module path string");
        expect(Tok::Semi);
        u.imports.push_back(ImportDecl{s.text, span_from(b)});
        return;
      }
      case Tok::KwContract:
        u.contracts.push_back(contract());
        return;
      case Tok::KwInterface:
        u.interfaces.push_back(interface_decl());
        return;
      case Tok::KwStruct:
        u.structs.push_back(struct_decl());
        return;
      case Tok::KwEnum:
        u.enums.push_back(enum_decl());
        return;
      case Tok::KwEvent:
        u.events.push_back(event_decl());
        return;
      case Tok::KwError:
        u.errors.push_back(error_decl());
        return;
      case Tok::KwConst:
        u.consts.push_back(const_decl());
        return;
      case Tok::KwFn:
      case Tok::KwPub:
      case Tok::KwView:
      case Tok::KwPayable:
      case Tok::KwReentrant: {
        auto f = fn_decl(true);
        f->file = file_;
        u.fns.push_back(std::move(f));
        return;
      }
      case Tok::Ident:
        if (cur().text == "currency" && peek().kind == Tok::Ident) {
          u.currencies.push_back(currency_decl());
          return;
        }
        [[fallthrough]];
      default:
        fail(
            "a declaration (contract, interface, struct, enum, event, error, const, currency, fn "
            "or import)");
    }
  }

  std::unique_ptr<ContractDecl> contract() {
    auto c = std::make_unique<ContractDecl>();
    Span b = take().span;
    Token name = expect(Tok::Ident, "a contract name");
    c->name = name.text;
    c->span = name.span;
    expect(Tok::LBrace);
    while (!at(Tok::RBrace) && !at(Tok::End)) {
      try {
        if (at(Tok::KwStorage)) {
          take();
          if (accept(Tok::LBrace)) {
            while (!at(Tok::RBrace) && !at(Tok::End)) {
              storage_field(*c);
              if (!accept(Tok::Comma) && !accept(Tok::Semi)) break;
            }
            expect(Tok::RBrace);
          } else {
            storage_field(*c);
            expect(Tok::Semi);
          }
        } else if (at(Tok::KwInit) || (at(Tok::KwPayable) && peek().kind == Tok::KwInit)) {
          auto f = std::make_unique<FnDecl>();
          f->is_payable = accept(Tok::KwPayable);
          Token t = take();
          f->name = "init";
          f->name_span = t.span;
          f->is_init = true;
          f->is_pub = true;
          params(f->params, false);
          f->span = span_from(t.span);
          f->body = block();
          f->contract = c.get();
          f->file = file_;
          c->fns.push_back(std::move(f));
        } else {
          auto f = fn_decl(true);
          f->contract = c.get();
          f->file = file_;
          c->fns.push_back(std::move(f));
        }
      } catch (const SyntaxError&) {
        sync_stmt();
      }
    }
    expect(Tok::RBrace);
    (void)b;
    return c;
  }

  void storage_field(ContractDecl& c) {
    StorageField f;
    Token n = expect(Tok::Ident, "a storage field name");
    f.name = n.text;
    f.span = n.span;
    expect(Tok::Colon);
    f.type = type();
    c.storage.push_back(std::move(f));
  }

  std::unique_ptr<FnDecl> fn_decl(bool needs_body) {
    auto f = std::make_unique<FnDecl>();
    Span b = cur().span;
    for (;;) {
      if (accept(Tok::KwPub))
        f->is_pub = true;
      else if (accept(Tok::KwView))
        f->is_view = true;
      else if (accept(Tok::KwPayable))
        f->is_payable = true;
      else if (accept(Tok::KwReentrant))
        f->is_reentrant = true;
      else
        break;
    }
    expect(Tok::KwFn);
    Token n = expect(Tok::Ident, "a function name");
    f->name = n.text;
    f->name_span = n.span;
    params(f->params, false);
    if (accept(Tok::Arrow)) {
      if (accept(Tok::LParen)) {
        do {
          f->results.push_back(type());
        } while (accept(Tok::Comma));
        expect(Tok::RParen);
      } else {
        f->results.push_back(type());
      }
    }
    f->span = span_from(b);
    if (needs_body) {
      if (at(Tok::Semi)) {
        diags_.error(cur().span, "function " + f->name + " needs a body");
        take();
      } else {
        f->body = block();
      }
    } else {
      expect(Tok::Semi);
    }
    return f;
  }

  void params(std::vector<Param>& out, bool allow_indexed) {
    expect(Tok::LParen);
    while (!at(Tok::RParen)) {
      Param p;
      Token n = expect(Tok::Ident, "a parameter name");
      p.name = n.text;
      p.span = n.span;
      expect(Tok::Colon);
      p.storage_ref = accept(Tok::KwStorage);
      p.type = type();
      if (at(Tok::KwIndexed)) {
        if (!allow_indexed) diags_.error(cur().span, "only event fields can be indexed");
        take();
        p.indexed = true;
      }
      p.span = span_from(n.span);
      out.push_back(std::move(p));
      if (!accept(Tok::Comma)) break;
    }
    expect(Tok::RParen);
  }

  std::unique_ptr<InterfaceDecl> interface_decl() {
    auto d = std::make_unique<InterfaceDecl>();
    take();
    Token n = expect(Tok::Ident, "an interface name");
    d->name = n.text;
    d->span = n.span;
    expect(Tok::LBrace);
    while (!at(Tok::RBrace) && !at(Tok::End)) {
      try {
        auto f = fn_decl(false);
        f->file = file_;
        f->is_pub = true;
        d->fns.push_back(std::move(f));
      } catch (const SyntaxError&) {
        sync_stmt();
      }
    }
    expect(Tok::RBrace);
    return d;
  }

  std::unique_ptr<StructDecl> struct_decl() {
    auto d = std::make_unique<StructDecl>();
    take();
    Token n = expect(Tok::Ident, "a struct name");
    d->name = n.text;
    d->span = n.span;
    expect(Tok::LBrace);
    while (!at(Tok::RBrace)) {
      Param p;
      Token f = expect(Tok::Ident, "a field name");
      p.name = f.text;
      p.span = f.span;
      expect(Tok::Colon);
      p.type = type();
      d->fields.push_back(std::move(p));
      if (!accept(Tok::Comma)) break;
    }
    expect(Tok::RBrace);
    return d;
  }

  std::unique_ptr<EnumDecl> enum_decl() {
    auto d = std::make_unique<EnumDecl>();
    take();
    Token n = expect(Tok::Ident, "an enum name");
    d->name = n.text;
    d->span = n.span;
    expect(Tok::LBrace);
    while (!at(Tok::RBrace)) {
      // `default` (a contextual word) marks the first variant as the
      // intended value of unset storage.
      if (at(Tok::Ident) && cur().text == "default" && peek().kind == Tok::Ident) {
        if (!d->variants.empty())
          diags_.error(cur().span,
                       "only the first variant can be marked default (it is what unset storage "
                       "reads as)");
        else
          d->first_is_default = true;
        take();
      }
      Token v = expect(Tok::Ident, "a variant name");
      d->variants.push_back(v.text);
      d->variant_spans.push_back(v.span);
      if (!accept(Tok::Comma)) break;
    }
    expect(Tok::RBrace);
    return d;
  }

  std::unique_ptr<EventDecl> event_decl() {
    auto d = std::make_unique<EventDecl>();
    take();
    Token n = expect(Tok::Ident, "an event name");
    d->name = n.text;
    d->span = n.span;
    params(d->fields, true);
    expect(Tok::Semi);
    return d;
  }

  std::unique_ptr<ErrorDecl> error_decl() {
    auto d = std::make_unique<ErrorDecl>();
    take();
    Token n = expect(Tok::Ident, "an error name");
    d->name = n.text;
    d->span = n.span;
    params(d->fields, false);
    expect(Tok::Semi);
    return d;
  }

  // currency NAME = TYPE;   (`currency` is a contextual word)
  std::unique_ptr<CurrencyDecl> currency_decl() {
    auto d = std::make_unique<CurrencyDecl>();
    take();
    Token n = expect(Tok::Ident, "a currency name");
    d->name = n.text;
    d->span = n.span;
    expect(Tok::Assign);
    d->type = type();
    expect(Tok::Semi);
    return d;
  }

  std::unique_ptr<ConstDecl> const_decl() {
    auto d = std::make_unique<ConstDecl>();
    take();
    Token n = expect(Tok::Ident, "a constant name");
    d->name = n.text;
    d->span = n.span;
    expect(Tok::Colon);
    d->type = type();
    expect(Tok::Assign);
    d->value = expr();
    expect(Tok::Semi);
    return d;
  }

  std::unique_ptr<TypeExpr> type() {
    DepthGuard g(*this);
    auto t = std::make_unique<TypeExpr>();
    Span b = cur().span;
    if (accept(Tok::LBracket)) {
      t->kind = TypeExpr::Kind::Array;
      t->args.push_back(type());
      expect(Tok::Semi);
      Token n = expect(Tok::Int, "an array length");
      t->size = n.text;
      expect(Tok::RBracket);
      t->span = span_from(b);
      return t;
    }
    Token n = expect(Tok::Ident, "a type");
    t->name = n.text;
    // dec<N>: a fixed-point decimal with N digits after the point.
    if (t->name == "dec" && at(Tok::Lt) && peek().kind == Tok::Int) {
      take();
      t->kind = TypeExpr::Kind::Generic;
      t->size = take().text;
      expect(Tok::Gt);
      t->span = span_from(b);
      return t;
    }
    // price<BASE/QUOTE>: QUOTE per one BASE.
    if (t->name == "price" && at(Tok::Lt) && peek().kind == Tok::Ident &&
        peek(2).kind == Tok::Slash) {
      take();
      t->kind = TypeExpr::Kind::Generic;
      for (int i = 0; i < 2; ++i) {
        auto arg = std::make_unique<TypeExpr>();
        Token c = expect(Tok::Ident, "a currency name");
        arg->name = c.text;
        arg->span = c.span;
        t->args.push_back(std::move(arg));
        if (i == 0) expect(Tok::Slash);
      }
      expect(Tok::Gt);
      t->span = span_from(b);
      return t;
    }
    if (accept(Tok::Lt)) {
      t->kind = TypeExpr::Kind::Generic;
      do {
        t->args.push_back(type());
      } while (accept(Tok::Comma));
      // '>>' closes two generic lists at once.
      if (at(Tok::Shr)) {
        t_[p_].kind = Tok::Gt;
        t_[p_].span.begin += 1;
      } else {
        expect(Tok::Gt);
      }
    }
    t->span = span_from(b);
    return t;
  }

  // ---- statements ----------------------------------------------------------------
  std::unique_ptr<Block> block() {
    DepthGuard g(*this);
    auto b = std::make_unique<Block>();
    Span start = expect(Tok::LBrace).span;
    while (!at(Tok::RBrace) && !at(Tok::End)) {
      try {
        b->stmts.push_back(stmt());
      } catch (const SyntaxError&) {
        sync_stmt();
      }
    }
    expect(Tok::RBrace);
    b->span = span_from(start);
    return b;
  }

  std::unique_ptr<Stmt> stmt() {
    Span b = cur().span;
    switch (cur().kind) {
      case Tok::KwLet: {
        take();
        auto s = std::make_unique<Stmt>(Stmt::Kind::Let, b);
        if (accept(Tok::LParen)) {
          do {
            Token n = expect(Tok::Ident, "a variable name");
            s->names.push_back(n.text);
            s->name_spans.push_back(n.span);
          } while (accept(Tok::Comma));
          expect(Tok::RParen);
        } else {
          Token n = expect(Tok::Ident, "a variable name");
          s->names.push_back(n.text);
          s->name_spans.push_back(n.span);
        }
        if (accept(Tok::Colon)) s->type_expr = type();
        expect(Tok::Assign, "'=' (every variable starts with a value)");
        s->exprs.push_back(expr());
        expect(Tok::Semi);
        s->span = span_from(b);
        return s;
      }
      case Tok::KwIf:
        return if_stmt();
      case Tok::KwWhile: {
        take();
        auto s = std::make_unique<Stmt>(Stmt::Kind::While, b);
        s->exprs.push_back(expr(true));
        s->body = block();
        s->span = span_from(b);
        return s;
      }
      case Tok::KwFor: {
        take();
        auto s = std::make_unique<Stmt>(Stmt::Kind::For, b);
        Token n = expect(Tok::Ident, "a loop variable");
        s->names.push_back(n.text);
        s->name_spans.push_back(n.span);
        expect(Tok::KwIn);
        s->exprs.push_back(expr(true));
        // for i in a..b counts; for x in xs walks a vector's elements.
        if (accept(Tok::DotDot)) s->exprs.push_back(expr(true));
        s->body = block();
        s->span = span_from(b);
        return s;
      }
      case Tok::KwReturn: {
        take();
        auto s = std::make_unique<Stmt>(Stmt::Kind::Return, b);
        if (!at(Tok::Semi)) {
          do {
            s->exprs.push_back(expr());
          } while (accept(Tok::Comma));
        }
        expect(Tok::Semi);
        s->span = span_from(b);
        return s;
      }
      case Tok::KwBreak:
      case Tok::KwContinue: {
        auto k = at(Tok::KwBreak) ? Stmt::Kind::Break : Stmt::Kind::Continue;
        take();
        expect(Tok::Semi);
        return std::make_unique<Stmt>(k, span_from(b));
      }
      case Tok::KwEmit:
      case Tok::KwRevert: {
        auto k = at(Tok::KwEmit) ? Stmt::Kind::Emit : Stmt::Kind::Revert;
        take();
        auto s = std::make_unique<Stmt>(k, b);
        auto e = postfix();
        if (e->kind != Expr::Kind::Call || e->kids.empty() ||
            e->kids[0]->kind != Expr::Kind::Name) {
          diags_.error(e->span, k == Stmt::Kind::Emit
                                    ? "emit takes an event: emit Name(args);"
                                    : "revert takes an error: revert Name(args);");
        }
        s->exprs.push_back(std::move(e));
        expect(Tok::Semi);
        s->span = span_from(b);
        return s;
      }
      case Tok::LBrace: {
        auto s = std::make_unique<Stmt>(Stmt::Kind::Block, b);
        s->body = block();
        s->span = span_from(b);
        return s;
      }
      default: {
        auto lhs = expr();
        Tok k = cur().kind;
        static const std::pair<Tok, BinOp> kCompound[] = {
            {Tok::PlusAssign, BinOp::Add},    {Tok::MinusAssign, BinOp::Sub},
            {Tok::StarAssign, BinOp::Mul},    {Tok::SlashAssign, BinOp::Div},
            {Tok::PercentAssign, BinOp::Rem}, {Tok::AmpAssign, BinOp::BitAnd},
            {Tok::PipeAssign, BinOp::BitOr},  {Tok::CaretAssign, BinOp::BitXor},
            {Tok::ShlAssign, BinOp::Shl},     {Tok::ShrAssign, BinOp::Shr}};
        const auto* op = std::find_if(std::begin(kCompound), std::end(kCompound),
                                      [k](const auto& c) { return c.first == k; });
        if (k == Tok::Assign || op != std::end(kCompound)) {
          take();
          auto s = std::make_unique<Stmt>(Stmt::Kind::Assign, b);
          s->compound = k != Tok::Assign;
          if (s->compound) s->assign_op = op->second;
          s->exprs.push_back(std::move(lhs));
          s->exprs.push_back(expr());
          expect(Tok::Semi);
          s->span = span_from(b);
          return s;
        }
        auto s = std::make_unique<Stmt>(Stmt::Kind::Expr, b);
        s->exprs.push_back(std::move(lhs));
        expect(Tok::Semi);
        s->span = span_from(b);
        return s;
      }
    }
  }

  // A level of nesting is a block, an expression inside another (in
  // parentheses, an argument, an index, an operand of a unary operator), a
  // type inside another and an `else if` (it nests the rest of the chain).
  std::unique_ptr<Stmt> if_stmt() {
    Span b = take().span;
    auto s = std::make_unique<Stmt>(Stmt::Kind::If, b);
    s->exprs.push_back(expr(true));
    s->body = block();
    if (accept(Tok::KwElse)) {
      if (at(Tok::KwIf)) {
        DepthGuard g(*this);
        auto eb = std::make_unique<Block>();
        eb->span = cur().span;
        eb->stmts.push_back(if_stmt());
        s->else_body = std::move(eb);
      } else {
        s->else_body = block();
      }
    }
    s->span = span_from(b);
    return s;
  }

  // ---- expressions ---------------------------------------------------------------
  // no_struct: inside if/while/for headers, `Name {` opens the body, not a literal.
  std::unique_ptr<Expr> expr(bool no_struct = false) {
    DepthGuard g(*this);
    bool saved = no_struct_;
    no_struct_ = no_struct;
    auto e = binary(0);
    no_struct_ = saved;
    return e;
  }

  static int precedence(Tok k) {
    switch (k) {
      case Tok::OrOr:
        return 1;
      case Tok::AndAnd:
        return 2;
      case Tok::Eq:
      case Tok::Ne:
      case Tok::Lt:
      case Tok::Le:
      case Tok::Gt:
      case Tok::Ge:
        return 3;
      case Tok::Pipe:
        return 4;
      case Tok::Caret:
        return 5;
      case Tok::Amp:
        return 6;
      case Tok::Shl:
      case Tok::Shr:
        return 7;
      case Tok::Plus:
      case Tok::Minus:
        return 8;
      case Tok::Star:
      case Tok::Slash:
      case Tok::Percent:
        return 9;
      case Tok::StarStar:
        return 10;
      default:
        return 0;
    }
  }

  static BinOp to_binop(Tok k) {
    switch (k) {
      case Tok::OrOr:
        return BinOp::Or;
      case Tok::AndAnd:
        return BinOp::And;
      case Tok::Eq:
        return BinOp::Eq;
      case Tok::Ne:
        return BinOp::Ne;
      case Tok::Lt:
        return BinOp::Lt;
      case Tok::Le:
        return BinOp::Le;
      case Tok::Gt:
        return BinOp::Gt;
      case Tok::Ge:
        return BinOp::Ge;
      case Tok::Pipe:
        return BinOp::BitOr;
      case Tok::Caret:
        return BinOp::BitXor;
      case Tok::Amp:
        return BinOp::BitAnd;
      case Tok::Shl:
        return BinOp::Shl;
      case Tok::Shr:
        return BinOp::Shr;
      case Tok::Plus:
        return BinOp::Add;
      case Tok::Minus:
        return BinOp::Sub;
      case Tok::Star:
        return BinOp::Mul;
      case Tok::Slash:
        return BinOp::Div;
      case Tok::Percent:
        return BinOp::Rem;
      default:
        return BinOp::Pow;
    }
  }

  // Left-associative chains (a + b + c ...) and postfix chains build trees as
  // deep as they are long without recursing here; later phases recurse on
  // them, so each link counts toward the tree depth, for as long as the
  // chain is open (ChainLinks gives them back when its parse returns).
  struct ChainLinks {
    Parser& p;
    int n = 0;
    explicit ChainLinks(Parser& pp) : p(pp) {}
    ~ChainLinks() { p.chain_depth_ -= n; }
  };
  void chain_link(ChainLinks& links) {
    ++links.n;
    if (++chain_depth_ + depth_ > kMaxTreeDepth) {
      diags_.error(cur().span,
                   "expression is too deep (more than 5,000 levels of operators, "
                   "calls and fields): split it with let");
      throw SyntaxError{};
    }
  }

  std::unique_ptr<Expr> binary(int min_prec) {
    auto lhs = unary();
    ChainLinks links(*this);
    for (;;) {
      int prec = precedence(cur().kind);
      if (prec == 0 || prec <= min_prec) {
        // ** is right-associative: allow equal precedence on the right.
        if (!(prec == 10 && min_prec == 10)) break;
      }
      chain_link(links);
      Tok k = take().kind;
      BinOp op = to_binop(k);
      // The right side of a higher operator recurses once per precedence
      // level; of ** (right-associative) once per operator: a level each.
      std::optional<DepthGuard> right;
      if (prec == 10) right.emplace(*this);
      auto rhs = binary(prec == 10 ? prec - 1 : prec);
      if (prec == 3 && precedence(cur().kind) == 3) {
        diags_.error(cur().span, "comparisons cannot be chained: use && between them");
      }
      auto e = std::make_unique<Expr>(Expr::Kind::Binary,
                                      Span{lhs->span.file, lhs->span.begin, rhs->span.end});
      e->bin = op;
      e->kids.push_back(std::move(lhs));
      e->kids.push_back(std::move(rhs));
      lhs = std::move(e);
    }
    return lhs;
  }

  std::unique_ptr<Expr> unary() {
    Span b = cur().span;
    if (at(Tok::Minus) || at(Tok::Bang) || at(Tok::Tilde)) {
      DepthGuard g(*this);
      Tok k = take().kind;
      auto operand = unary();
      auto e = std::make_unique<Expr>(Expr::Kind::Unary, Span{b.file, b.begin, operand->span.end});
      e->un = k == Tok::Minus ? UnOp::Neg : k == Tok::Bang ? UnOp::Not : UnOp::BitNot;
      e->kids.push_back(std::move(operand));
      return e;
    }
    if (at(Tok::KwTry)) {
      take();
      auto call = postfix();
      auto e = std::make_unique<Expr>(Expr::Kind::Try, Span{b.file, b.begin, call->span.end});
      e->kids.push_back(std::move(call));
      return e;
    }
    auto e = postfix();
    ChainLinks links(*this);
    while (at(Tok::KwAs)) {
      chain_link(links);
      take();
      auto c = std::make_unique<Expr>(Expr::Kind::Cast, b);
      c->type_expr = type();
      c->span = span_from(b);
      c->kids.push_back(std::move(e));
      e = std::move(c);
    }
    return e;
  }

  std::unique_ptr<Expr> postfix() {
    auto e = primary();
    ChainLinks links(*this);
    for (;;) {
      Span b = e->span;
      if (at(Tok::LParen) || at(Tok::Dot) || at(Tok::LBracket)) chain_link(links);
      if (at(Tok::LParen)) {
        auto c = std::make_unique<Expr>(Expr::Kind::Call, b);
        c->kids.push_back(std::move(e));
        args(c->kids);
        c->span = span_from(b);
        e = std::move(c);
      } else if (at(Tok::Dot)) {
        take();
        Token n = expect(Tok::Ident, "a field or method name");
        // IFace(a).m{value: v}(...): value sent along a call to another contract.
        std::unique_ptr<Expr> value;
        if (at(Tok::LBrace) && peek().kind == Tok::Ident && peek().text == "value" &&
            peek(2).kind == Tok::Colon) {
          take();
          take();
          take();
          bool saved = no_struct_;
          no_struct_ = false;
          value = expr();
          no_struct_ = saved;
          expect(Tok::RBrace);
          if (!at(Tok::LParen)) expect(Tok::LParen, "the call's arguments after {value: ...}");
        }
        if (at(Tok::LParen)) {
          auto m = std::make_unique<Expr>(Expr::Kind::Method, b);
          m->text = n.text;
          m->call_value = std::move(value);
          m->kids.push_back(std::move(e));
          args(m->kids);
          m->span = span_from(b);
          e = std::move(m);
        } else {
          auto f = std::make_unique<Expr>(Expr::Kind::Field, b);
          f->text = n.text;
          f->kids.push_back(std::move(e));
          f->span = span_from(b);
          e = std::move(f);
        }
      } else if (at(Tok::LBracket)) {
        take();
        auto ix = std::make_unique<Expr>(Expr::Kind::Index, b);
        ix->kids.push_back(std::move(e));
        ix->kids.push_back(expr());
        expect(Tok::RBracket);
        ix->span = span_from(b);
        e = std::move(ix);
      } else {
        break;
      }
    }
    return e;
  }

  void args(std::vector<std::unique_ptr<Expr>>& out) {
    expect(Tok::LParen);
    bool saved = no_struct_;
    no_struct_ = false;
    while (!at(Tok::RParen)) {
      out.push_back(expr());
      if (!accept(Tok::Comma)) break;
    }
    no_struct_ = saved;
    expect(Tok::RParen);
  }

  std::unique_ptr<Expr> primary() {
    Span b = cur().span;
    switch (cur().kind) {
      case Tok::Int:
      case Tok::Decimal:
      case Tok::Duration:
      case Tok::String: {
        Token t = take();
        auto k = t.kind == Tok::Int        ? Expr::Kind::Int
                 : t.kind == Tok::Decimal  ? Expr::Kind::Decimal
                 : t.kind == Tok::Duration ? Expr::Kind::Duration
                                           : Expr::Kind::String;
        auto e = std::make_unique<Expr>(k, t.span);
        e->text = t.text;
        if (t.unit) e->text2 = std::string(1, t.unit);
        return e;
      }
      case Tok::KwTrue:
      case Tok::KwFalse: {
        auto e = std::make_unique<Expr>(Expr::Kind::Bool, b);
        e->text = at(Tok::KwTrue) ? "true" : "false";
        take();
        return e;
      }
      case Tok::Ident: {
        Token n = take();
        if (accept(Tok::ColonColon)) {
          Token tail = expect(Tok::Ident, "a name after '::'");
          auto e = std::make_unique<Expr>(Expr::Kind::Path, span_from(b));
          e->text = n.text;
          e->text2 = tail.text;
          return e;
        }
        if (!no_struct_ && at(Tok::LBrace) &&
            (peek().kind == Tok::RBrace ||
             (peek().kind == Tok::Ident && peek(2).kind == Tok::Colon))) {
          take();
          auto e = std::make_unique<Expr>(Expr::Kind::StructLit, b);
          e->text = n.text;
          while (!at(Tok::RBrace)) {
            Token f = expect(Tok::Ident, "a field name");
            expect(Tok::Colon);
            e->field_names.push_back(f.text);
            e->kids.push_back(expr());
            if (!accept(Tok::Comma)) break;
          }
          expect(Tok::RBrace);
          e->span = span_from(b);
          return e;
        }
        auto e = std::make_unique<Expr>(Expr::Kind::Name, n.span);
        e->text = n.text;
        return e;
      }
      case Tok::LParen: {
        take();
        bool saved = no_struct_;
        no_struct_ = false;
        auto first = expr();
        if (accept(Tok::Comma)) {
          auto t = std::make_unique<Expr>(Expr::Kind::Tuple, b);
          t->kids.push_back(std::move(first));
          do {
            t->kids.push_back(expr());
          } while (accept(Tok::Comma));
          expect(Tok::RParen);
          no_struct_ = saved;
          t->span = span_from(b);
          return t;
        }
        expect(Tok::RParen);
        no_struct_ = saved;
        return first;
      }
      case Tok::LBracket: {
        take();
        auto e = std::make_unique<Expr>(Expr::Kind::ArrayLit, b);
        while (!at(Tok::RBracket)) {
          e->kids.push_back(expr());
          if (!accept(Tok::Comma)) break;
        }
        expect(Tok::RBracket);
        e->span = span_from(b);
        return e;
      }
      default:
        fail("an expression");
    }
  }

  std::vector<Token> t_;
  uint32_t file_;
  Diagnostics& diags_;
  size_t p_ = 0;
  int depth_ = 0;
  int chain_depth_ = 0;  // links of the chains being parsed, outermost to here
  int brace_depth_ = 0;
  bool no_struct_ = false;
};

}  // namespace

std::unique_ptr<Unit> parse(const SourceFile& file, uint32_t file_id, Diagnostics& diags) {
  return Parser(lex(file, file_id, diags), file_id, diags).run();
}

}  // namespace writ::compiler
