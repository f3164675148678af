// The Writ compiler: `.writ` source to verified VM modules, with an ABI and
// debug info per contract.
//
//   CompileOptions opts;
//   opts.stdlib_dir = "/path/to/stdlib";
//   CompileOutput out = compile_file("token.writ", opts);
//   if (!out.ok) std::cerr << out.diagnostics;   // file:line:col: error: ... with carets
//
// The compiler never throws and never crashes on any input: errors become
// diagnostics, and an internal error is reported as one diagnostic naming the
// location being compiled.
#pragma once

#include <string>
#include <vector>

#include "writ/vm/module.hpp"

namespace writ::compiler {

inline constexpr const char* kCompilerVersion = "writc 0.1.0";

struct CompileOptions {
  // Where `import "name";` looks after the importing file's directory: in
  // import_dirs in order (a project's sources, writ.json's "imports"), then
  // in stdlib_dir.
  std::vector<std::string> import_dirs;
  std::string stdlib_dir;
};

// The ABI in structured form (abi_json prints the same).
struct AbiParam {
  std::string name;
  std::string type;                   // Writ type, e.g. "wad", "address", "map<address, u256>"
  std::vector<vm::ValType> flat;      // the VM values it occupies, in order
  bool indexed = false;               // events
  std::vector<AbiParam> fields;       // a struct's fields, in order (their flat values concatenate)
  std::vector<std::string> variants;  // an enum's variant names, by index
};
struct AbiEntry {
  std::string name;               // "$init" for the constructor
  uint32_t selector = 0;          // functions and errors
  std::vector<AbiParam> inputs;   // parameters, or event/error fields
  std::vector<AbiParam> outputs;  // functions
  bool view = false, payable = false, reentrant = false, constructor = false;
};

struct ContractOutput {
  std::string name;
  std::vector<AbiEntry> functions, events, errors;
  vm::Module module;              // verified
  std::vector<uint8_t> bytecode;  // encode_module(module)
  std::string abi_json;           // functions, selectors, events, errors, storage layout
  std::string debug_json;         // pc -> source spans, functions, locals' registers
};

struct CompileOutput {
  bool ok = false;
  std::vector<ContractOutput> contracts;
  std::string diagnostics;  // rendered errors and warnings
  size_t error_count = 0;
};

CompileOutput compile_file(const std::string& path, const CompileOptions& opts);
// Compiles source text given directly (imports resolve against opts.stdlib_dir
// and the directory of `path`).
CompileOutput compile_source(const std::string& path, const std::string& text,
                             const CompileOptions& opts);

}  // namespace writ::compiler
