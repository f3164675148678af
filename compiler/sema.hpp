// Semantic analysis: name resolution, type checking, and the language's
// safety rules (view purity, explicit rounding for fixed-point, reachability,
// constant checks). Annotates the tree in place; codegen then trusts it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ast.hpp"
#include "types.hpp"

namespace writ::compiler {

// Built-in functions, by Expr::index when Expr::ref == Ref::Builtin.
enum class Builtin : int {
  Require,
  Assert,
  Caller,
  Origin,
  SelfAddress,
  Value,
  Now,
  BlockNumber,
  ChainId,
  GasLeft,
  Balance,
  HistoryWord,
  SetHistoryWord,
  Transfer,
  Sha256,
  Ed25519Verify,
  RawCall,
  CallData,
  Selector,
  AbiWord,
  AbiBytes,
  AbiSelector,
  AbiArgs,
  Hash,
  Min,
  Max,
  MulDown,
  MulUp,
  DivDown,
  DivUp,
  MulDivDown,
  MulDivUp,
  Floor,
  Ceil,
  ToRay,
  RescaleDown,
  RescaleUp,
  ConvertDown,
  ConvertUp,
  ToWadDown,
  ToWadUp,
  WrappingAdd,
  WrappingSub,
  WrappingMul,
  WrappingPow,
  SignExtend,
  RotateRight,
  AddMod,
  MulMod,
  // conversions written as calls of a type name: address(x), wad(x), timestamp(x) ...
  ConvAddress,
  ConvBytes32,
  ConvFixed,
  ConvTimestamp,
  ConvDuration,
  NewBytes,
  FromRaw,
  // methods
  Len,
  Push,
  Pop,
  Contains,
  Remove,
  KeyAt,
  Raw,
  Seconds,
};

// Everything visible in a compilation: the root unit and its imports share
// one namespace of top-level declarations.
struct Program {
  SourceManager sources;
  std::vector<std::unique_ptr<Unit>> units;  // units[0] is the root file
  std::map<std::string, StructDecl*> structs;
  std::map<std::string, EnumDecl*> enums;
  std::map<std::string, EventDecl*> events;
  std::map<std::string, ErrorDecl*> errors;
  std::map<std::string, InterfaceDecl*> interfaces;
  std::map<std::string, ConstDecl*> consts;
  std::map<std::string, CurrencyDecl*> currencies;
  std::map<std::string, FnDecl*> fns;    // free functions
  std::vector<ContractDecl*> contracts;  // of the root file, in order
  TypeTable types;
  // Built-in error raised by transfer() when the contract's balance is short.
  std::unique_ptr<ErrorDecl> transfer_failed;
};

// Checks the whole program. Reports to `diags`; returns false on any error.
bool analyze(Program& p, Diagnostics& diags);

// The signature text of call_data, "name(t1,t2,...)", split into the name and
// the type names (spaces ignored). False when it is not of that form.
bool split_call_signature(const std::string& sig, std::string& name,
                          std::vector<std::string>& types);

}  // namespace writ::compiler
