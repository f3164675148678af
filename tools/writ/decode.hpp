// Decoding what the chain and the VM give back (results, revert data, events,
// failure traces) by the contracts' ABIs and debug info, for `writ run`,
// `writ call`, `writ receipt` and `writ logs`.
//
// A ContractBook holds the contracts the command knows: compiled from source,
// or read from `writ build` outputs (NAME.abi.json, with NAME.debug.json and
// NAME.wbc beside it when present). A contract is matched to an address when
// it is bound to it (the command knows where it deployed or called it, or the
// code at the address has the contract's code hash); otherwise by selector:
// a function, error or event selector that exactly one known contract (or,
// for events and errors, any: they decode the same) declares.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "writ/compiler/compiler.hpp"
#include "writ/vm/abi.hpp"
#include "writ/vm/host.hpp"
#include "writ/vm/module.hpp"

namespace writ::cli {

// Where a trap happened in the source, from a contract's debug info (the
// last pc span at or before the trap's pc in its function): "file:line:col"
// and that source line (empty when the file cannot be read), or empty
// strings when the debug info has no span.
struct SourceSpot {
  std::string where;
  std::string line_text;
};
// A source file that cannot be opened at the path the debug info gives is
// looked for by its file name in `search_dir` too (the build directory).
SourceSpot source_spot(const compiler::ContractOutput& c, uint32_t func, uint32_t pc,
                       const std::string& search_dir = "");

// The name of function `func` of the contract, from its module or its debug
// info; "function N" when neither names it.
std::string function_name(const compiler::ContractOutput& c, uint32_t func);

// Reads NAME.abi.json into `out` (name, functions, events, errors; struct
// fields and enum variants when the file lists them). Errors name the file
// and the field ("T.abi.json: functions[2].inputs[0].abi: ...").
bool read_abi_json(const std::string& path, const std::string& text, compiler::ContractOutput& out,
                   std::string& err);

// pc -> (file, line) of one contract, from its debug info, for lookups per
// instruction (the gas profile, the debugger).
class LineTable {
 public:
  explicit LineTable(const compiler::ContractOutput& c);
  // (file, line) of the last span at or before pc; file empty when none.
  std::pair<std::string, uint32_t> at(uint32_t func, uint32_t pc) const;
  std::string function_name(uint32_t func) const;
  // The locals of `func` (parameters first) with their registers, from the debug info.
  struct Local {
    std::string name, type;
    std::vector<uint32_t> registers;
  };
  const std::vector<Local>& locals(uint32_t func) const;
  // A local's value (`count` of `vals` from k on) by its type: a struct by
  // field ({x: 5, flag: true}) and an enum by variant (Phase::Open), from the
  // debug info.
  std::string format(const std::string& type, const std::vector<vm::Value>& vals, size_t& k,
                     size_t count) const;

 private:
  struct Field {
    std::string name, type;
    size_t registers = 1;
  };
  struct Named {
    std::vector<Field> fields;          // a struct
    std::vector<std::string> variants;  // an enum
  };
  std::map<std::string, Named> types_;
  struct Span {
    uint32_t pc, file, line;
  };
  struct Func {
    std::string name;
    std::vector<Span> spans;
    std::vector<Local> locals;
  };
  std::vector<std::string> files_;
  std::vector<Func> funcs_;
};

class ContractBook {
 public:
  struct Entry {
    compiler::ContractOutput contract;  // from files: the module when NAME.wbc is beside
    std::optional<vm::CodeHash> code_hash;
    std::string origin;      // file or source it came from, for messages
    std::string source_dir;  // where to look for its sources besides their paths
    bool system = false;     // a system contract of this build, bound to its address
  };

  // Adds every contract of a compile.
  void add_compiled(const compiler::CompileOutput& out);
  // Adds the contract of NAME.abi.json, with NAME.debug.json and NAME.wbc
  // beside it when they exist. Errors name the file.
  bool add_abi_file(const std::string& path, std::string& err);
  // Adds every NAME.abi.json in DIR (a `writ build` output directory).
  bool add_build_dir(const std::string& dir, std::string& err);
  // Adds the system contracts this build embeds (contracts/), bound to their
  // fixed addresses, so their calls, events and errors always decode.
  void add_system_contracts();

  bool empty() const { return entries_.empty(); }
  // Pointers to entries stay valid as more are added.
  const std::deque<Entry>& entries() const { return entries_; }
  const compiler::ContractOutput* find_name(const std::string& name) const;

  // Binds an address to a known contract.
  void bind(const vm::U256& address, const compiler::ContractOutput* c);
  // Binds the address to the contract whose code hash is `hash`, if any.
  // Returns the bound contract or nullptr.
  const compiler::ContractOutput* bind_code(const vm::U256& address, const vm::CodeHash& hash);
  bool has_code_hashes() const;
  const compiler::ContractOutput* at(const vm::U256& address) const;
  const Entry* entry_of(const compiler::ContractOutput* c) const;

  // The contract at `address` if bound, else the only one that exports a
  // function with `selector`.
  const compiler::ContractOutput* for_call(const vm::U256& address, uint32_t selector) const;
  const compiler::AbiEntry* function_of(const compiler::ContractOutput& c, uint32_t selector) const;

  // "Error(field: value, ...)" by the contract's errors, then any known
  // contract's; "data 0x.." if none declares it; "" for empty data.
  std::string revert(const compiler::ContractOutput* c, const std::vector<uint8_t>& data) const;
  // "Event(field: value, ...)" by the emitter's events, then any contract's
  // the caller gave (not the system contracts': they decode their own logs,
  // by address, and an event they merely import, such as a token's Transfer,
  // says nothing of another emitter); nullopt if none declares it.
  std::optional<std::string> event(const compiler::ContractOutput* c,
                                   std::span<const vm::U256> topics,
                                   std::span<const uint8_t> data) const;

 private:
  struct U256Less {
    bool operator()(const vm::U256& a, const vm::U256& b) const { return vm::lt(a, b); }
  };
  std::deque<Entry> entries_;
  std::map<vm::U256, size_t, U256Less> bound_;
};

// One frame of a failure, outermost or nested, as the CLI prints it.
struct Frame {
  vm::U256 address{};
  uint32_t selector = 0;
  bool selector_known = false;  // false: the frame's input is not known
  vm::Status status = vm::Status::Ok;
  uint32_t func = 0, pc = 0;
  std::string detail;
};

// The failure chain, outermost first: `top` (the call the command made or
// the transaction), then `calls` (vm::ExecResult::calls, innermost first)
// from the outside in. Text, one frame per entry with its location and
// source line; `revert_data` is the data every Revert frame of the chain
// ended with (the chain's frames pass it on unchanged).
std::string format_chain(const ContractBook& book, const Frame& top,
                         const std::vector<vm::FailedCall>& calls, uint32_t omitted,
                         const std::vector<uint8_t>& revert_data);
// The same as a JSON array (text), innermost first like vm::ExecResult::calls:
// [{"address", "contract", "function", "selector", "status", "revert"?,
//   "at", "pc", "source", "line", "detail"}], nested calls only.
std::string chain_json(const ContractBook& book, const std::vector<vm::FailedCall>& calls,
                       const std::vector<uint8_t>& revert_data);

}  // namespace writ::cli
