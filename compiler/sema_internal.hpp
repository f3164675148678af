// Internal to the compiler library (writ_compiler, not installed): the
// semantic checker, Sema, shared by the sema*.cpp files. The contract is in
// sema.hpp.
//
//   sema.cpp        the driver, state effects, declarations, constants,
//                   functions and statements
//   sema_expr.cpp   type rules and expressions
//   sema_calls.cpp  calls: of functions, of other contracts' methods, of the
//                   builtin functions and methods
//
// Invariants:
//
// Sema annotates the tree in place and codegen trusts what it writes: check()
// gives every expression its type (the error type after an error, which later
// checks pass over without reporting again), names and calls their ref, index
// and decl, constant expressions is_const and their folded value, functions
// their locals.
//
// Every declaration is collected and resolved (collect, resolve_declarations)
// before any body is checked. Constants are checked before the functions, and
// on demand when one names another; const_state_ catches a constant that
// depends on itself.
//
// While a function is checked, fn_ is that function (null for a constant's
// value), scopes_ its open block scopes (name -> index in fn_->locals) and
// loop_depth_ the number of loops around the statement.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sema.hpp"

namespace writ::compiler::sema_internal {

class Sema {
 public:
  Sema(Program& p, Diagnostics& d) : p_(p), d_(d), T(p.types) {}

  bool run();

 private:
  // Decimals of dec<N>: enough for any currency or rate, and 10^N leaves
  // room in 256 bits for amounts (10^36 × 10^36 still fits the 512-bit
  // products of mul_down and friends).
  static constexpr unsigned kMaxDecimals = 36;

  // ---- state effects (sema.cpp) ---------------------------------------------
  bool changes_state(const FnDecl& f);
  bool block_changes_state(const Block& b);
  bool stmt_changes_state(const Stmt& st);
  bool expr_changes_state(const Expr& e);

  // ---- declarations (sema.cpp) ----------------------------------------------
  template <class D>
  void declare(std::map<std::string, D*>& table, D* d, const char* what);
  static bool reserved_name(const std::string& n);
  void collect();
  void resolve_declarations();
  static bool neutral_variant(const std::string& v);
  const EnumDecl* unmarked_enum_in(const Type* t, int depth = 0);
  void warn_unset_enums(const StorageField& s, const Type* t);
  void check_unique_params(const std::vector<Param>& ps);
  bool resolve_struct(StructDecl* s);
  void resolve_signature(FnDecl& f, bool is_interface);
  const Type* resolve_value_type(TypeExpr& te, const char* where);
  const Type* resolve_type(TypeExpr& te, bool storage);

  // ---- constants (sema.cpp) -------------------------------------------------
  void check_const(ConstDecl& c);

  // ---- functions and statements (sema.cpp) ----------------------------------
  struct Scope {
    std::map<std::string, int> names;
  };

  void check_fn(FnDecl& f);
  int declare_local(const std::string& name, const Type* t, Span s, bool report = true);
  int lookup_local(const std::string& name) const;
  bool check_block(Block& b, bool new_scope = true);
  void check_for_body(Stmt& s, const Type* t);
  bool check_stmt(Stmt& s);
  static bool contains_break(const Block& b);
  void check_cond(Expr& e);
  void check_decl_call(Expr& call, bool is_event, bool report_shape = false);
  void check_args(Expr& call, size_t first, const std::vector<Param>& params,
                  const std::string& what);

  // ---- type rules (sema_expr.cpp) -------------------------------------------
  void expect_type(Expr& e, const Type* got, const Type* want);
  static std::string time_hint(const Type* time_type);
  static std::string conversion_hint(const Type* got, const Type* want);
  void fold_int_literal(Expr& e, const Type* t);
  const Type* check(Expr& e, const Type* expected);
  bool is_literal(const Expr& e) const;
  // A literal, or an expression of literals alone (5 * 2, -(1 << 3)): it
  // takes its type from the other operand of a binary operation.
  bool is_literal_expr(const Expr& e) const;
  const Type* check_inner(Expr& e, const Type* expected);
  const Type* check_name(Expr& e);
  std::string suggestion(const std::string& name) const;
  const Type* check_path(Expr& e);
  const Type* check_unary(Expr& e, const Type* expected);
  std::string source_text(const Expr& e, const char* fallback) const;
  const Type* check_arith(BinOp op, const Type* l, const Type* r, Expr* lhs, Expr& rhs, Span span);
  // & | ^ << >>: the result's type, or null for another operator.
  const Type* check_bits(BinOp op, const Type* l, const Type* r, Span span);
  const Type* check_binary(Expr& e, const Type* expected);
  const Type* check_binary_type(Expr& e, const Type* expected);
  void fold_unsigned(Expr& e, const Type* t);
  bool is_decimal_literal(const Expr& e) const;
  const Type* operand_hint(BinOp op, const Type* other, const Expr& operand, bool on_left);
  const Type* literal_hint(BinOp op, const Type* other, bool literal_on_left);
  const Type* check_lvalue(Expr& e);
  static bool is_place(const Expr& e, bool& storage);
  const Type* check_field(Expr& e);
  const Type* check_index(Expr& e);
  const Type* check_struct_lit(Expr& e);
  const Type* check_cast(Expr& e);

  // ---- calls (sema_calls.cpp) -----------------------------------------------
  const Type* builtin_result(Expr& e, Builtin b, const Type* t);
  bool nargs(Expr& e, size_t n, const std::string& name);
  void require_state_access(Expr&, const char*);
  const Type* check_call(Expr& e, const Type* expected);
  const Type* check_fn_call(Expr& e, FnDecl& f);
  static bool is_pure_helper(const FnDecl& f);
  const Type* check_builtin_call(Expr& e, const std::string& n, const Type* expected);
  const Type* check_method(Expr& e);

  Program& p_;
  Diagnostics& d_;
  TypeTable& T;
  std::map<std::string, Span> global_names_;
  std::map<const StructDecl*, int> struct_state_;
  FnDecl* fn_ = nullptr;
  std::vector<Scope> scopes_;
  int loop_depth_ = 0;
  bool callee_is_view_ = false;  // set while checking the arguments of a call to a view function
  std::map<const ConstDecl*, int> const_state_;        // 0 unchecked, 1 being checked, 2 done
  std::vector<std::pair<Expr*, FnDecl*>> view_calls_;  // views calling unmarked free functions
  std::map<const FnDecl*, int> effects_;  // changes_state memo: 0 no, 1 in progress, 2 yes
};

}  // namespace writ::compiler::sema_internal
