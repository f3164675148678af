// The syntax tree. The parser builds it; sema annotates expressions with
// their types and resolved symbols in place; codegen walks it.
//
// One node struct per category (Expr, Stmt, TypeExpr) with a kind tag keeps
// the tree easy to build and walk; fields a kind does not use stay empty.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "writ/compiler/diagnostics.hpp"

namespace writ::compiler {

struct Type;  // types.hpp
struct FnDecl;
struct ContractDecl;

struct TypeExpr {
  enum class Kind : uint8_t { Named, Array, Generic } kind = Kind::Named;
  Span span;
  std::string name;                             // Named / Generic ("map", "vec", "iter_map")
  std::vector<std::unique_ptr<TypeExpr>> args;  // Generic args, Array element
  std::string size;                             // Array length literal
};

enum class BinOp : uint8_t {
  Add,
  Sub,
  Mul,
  Div,
  Rem,
  Pow,
  And,
  Or,
  BitAnd,
  BitOr,
  BitXor,
  Shl,
  Shr,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
};
enum class UnOp : uint8_t { Neg, Not, BitNot };

const char* binop_text(BinOp op);

// What a name or call resolved to (filled by sema).
enum class Ref : uint8_t {
  None,
  Local,
  Storage,
  Const,
  Function,
  Builtin,
  EnumVariant,
  Event,
  Error,
  Struct,
  Interface,
  Type,
};

struct Expr {
  enum class Kind : uint8_t {
    Int,
    Decimal,
    Duration,
    String,
    Bool,
    Name,
    Path,
    Unary,
    Binary,
    Call,
    Method,
    Field,
    Index,
    StructLit,
    Cast,
    Try,
    ArrayLit,
    Tuple,
  } kind;
  Span span;
  std::string text;   // literal digits / name / field / method / path head
  std::string text2;  // Path tail (Enum::Variant), Duration unit
  BinOp bin{};
  UnOp un{};
  std::vector<std::unique_ptr<Expr>> kids;  // operands, args, elements
  std::vector<std::string> field_names;     // StructLit
  std::unique_ptr<TypeExpr> type_expr;      // Cast target
  std::unique_ptr<Expr> call_value;         // Method: IFace(a).m{value: v}(...)

  // Sema annotations.
  const Type* type = nullptr;
  Ref ref = Ref::None;
  int index = -1;               // local index, storage field, function, builtin id, variant, ...
  const void* decl = nullptr;   // resolved declaration when useful (FnDecl*, StructDecl*, ...)
  bool is_const = false;        // compile-time constant integer (value in `value`)
  bool is_storage_ref = false;  // Name of a storage parameter (its register holds a slot)
  std::string value;            // constant value as decimal text (folded)

  Expr(Kind k, Span s) : kind(k), span(s) {}
};

struct Block;

struct Stmt {
  enum class Kind : uint8_t {
    Let,
    Assign,
    Expr,
    If,
    While,
    For,
    Return,
    Break,
    Continue,
    Emit,
    Revert,
    Block,
  } kind;
  Span span;
  std::vector<std::string> names;  // Let (several for tuple destructuring), For variable
  std::vector<Span> name_spans;
  std::unique_ptr<TypeExpr> type_expr;  // Let annotation
  std::vector<std::unique_ptr<Expr>>
      exprs;          // Let init / Assign target+value / cond / return values / For range
  BinOp assign_op{};  // Assign: compound operator
  bool compound = false;
  std::unique_ptr<Block> body;       // If then / While / For / Block
  std::unique_ptr<Block> else_body;  // If else (an else-if is a Block holding one If)
  std::vector<int> locals;           // sema: local indices declared (Let, For)

  Stmt(Kind k, Span s) : kind(k), span(s) {}
};

struct Block {
  Span span;
  std::vector<std::unique_ptr<Stmt>> stmts;
};

struct Param {
  std::string name;
  Span span;
  std::unique_ptr<TypeExpr> type;
  bool indexed = false;      // event fields
  bool storage_ref = false;  // `name: storage T`: a reference to a storage place (free functions)
  const Type* resolved = nullptr;
};

struct FnDecl {
  std::string name;
  Span span;  // the whole header
  Span name_span;
  bool is_pub = false, is_view = false, is_payable = false, is_reentrant = false, is_init = false;
  std::vector<Param> params;
  std::vector<std::unique_ptr<TypeExpr>> results;
  std::unique_ptr<Block> body;       // null in interfaces
  ContractDecl* contract = nullptr;  // owner, or null for free functions
  uint32_t file = 0;

  // Sema.
  std::vector<const Type*> result_types;
  struct Local {
    std::string name;
    const Type* type;
    Span span;
    bool storage_ref = false;  // holds a storage slot, not a value
  };
  std::vector<Local> locals;  // params first
};

struct StorageField {
  std::string name;
  Span span;
  std::unique_ptr<TypeExpr> type;
  const Type* resolved = nullptr;
  uint64_t slot = 0;
};

struct ContractDecl {
  std::string name;
  Span span;
  std::vector<StorageField> storage;
  std::vector<std::unique_ptr<FnDecl>> fns;
};

struct StructDecl {
  std::string name;
  Span span;
  std::vector<Param> fields;
};

struct EnumDecl {
  std::string name;
  Span span;
  std::vector<std::string> variants;
  std::vector<Span> variant_spans;
  // `enum Phase { default Open, ... }`: the author says that unset storage
  // reading as the first variant is intended (no warning in storage).
  bool first_is_default = false;
};

struct EventDecl {
  std::string name;
  Span span;
  std::vector<Param> fields;
};

struct ErrorDecl {
  std::string name;
  Span span;
  std::vector<Param> fields;
};

struct InterfaceDecl {
  std::string name;
  Span span;
  std::vector<std::unique_ptr<FnDecl>> fns;
};

struct ConstDecl {
  std::string name;
  Span span;
  std::unique_ptr<TypeExpr> type;
  std::unique_ptr<Expr> value;
  const Type* resolved = nullptr;
};

// `currency EUR = dec<2>;`: amounts of EUR are dec<2> values tagged EUR
// (amount<EUR>); prices between two currencies are price<EUR/USD>.
struct CurrencyDecl {
  std::string name;
  Span span;
  std::unique_ptr<TypeExpr> type;
  unsigned decimals = 0;  // of the resolved fixed-point type
};

struct ImportDecl {
  std::string path;
  Span span;
};

// One source file.
struct Unit {
  uint32_t file = 0;
  std::vector<ImportDecl> imports;
  std::vector<std::unique_ptr<ContractDecl>> contracts;
  std::vector<std::unique_ptr<FnDecl>> fns;
  std::vector<std::unique_ptr<StructDecl>> structs;
  std::vector<std::unique_ptr<EnumDecl>> enums;
  std::vector<std::unique_ptr<EventDecl>> events;
  std::vector<std::unique_ptr<ErrorDecl>> errors;
  std::vector<std::unique_ptr<InterfaceDecl>> interfaces;
  std::vector<std::unique_ptr<ConstDecl>> consts;
  std::vector<std::unique_ptr<CurrencyDecl>> currencies;
};

}  // namespace writ::compiler
