// `writ debug`'s recording (docs/debugger.md): the call, test or
// transaction the command's options name runs once, traced on the
// interpreter in a sandbox session, and every step is kept (its contract,
// function, pc, gas and the frame's registers), with the storage writes and
// the hash2 preimages seen on the way. The debugger (cmd_debug.cpp) then
// steps through the recording in either direction.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "commands.hpp"
#include "project.hpp"
#include "storage_view.hpp"
#include "test_world.hpp"
#include "writ/runtime/chain.hpp"
#include "writ/runtime/sandbox.hpp"

namespace writ::cli::debug {

using compiler::AbiEntry;
using compiler::ContractOutput;
using runtime::Address;
using vm::Status;
using vm::U256;
using vm::ValType;
using vm::Value;

struct CallRec {
  const ContractOutput* contract = nullptr;
  const LineTable* lines = nullptr;
  U256 address{};
  int parent = -1;
  uint32_t nesting = 0;  // contract calls above it
  int64_t used = 0;      // gas the call used, its own calls included
};

struct StepRec {
  uint32_t call;
  uint32_t func, pc, depth;  // depth: internal frames below in this call
  int64_t gas_left, static_gas;
  uint8_t opcode;
  uint32_t regs_at, regs_len;    // Recording::regs
  uint32_t bufs_at, bufs_len;    // Recording::bufrefs: the buffers of the locals
  uint32_t stack_at, stack_len;  // Recording::fstack: the functions of the call, outermost first
  int32_t file;                  // Recording::files, -1: no source
  uint32_t line;
};

struct Write {
  size_t step;  // effective after this step
  U256 account, slot, value;
  size_t until = SIZE_MAX;  // rolled back from this step on (its call failed)
};

// A buffer's contents as a step saw them (the first kMaxBufferBytes).
struct Blob {
  std::vector<uint8_t> bytes;
  size_t size = 0;  // the buffer's whole length
};
struct BufRef {
  uint32_t reg, blob;  // a buffer local's register, Recording::blobs
};
constexpr size_t kMaxBufferBytes = 4096;

struct Recording {
  std::vector<CallRec> calls;
  std::vector<Blob> blobs;
  std::vector<BufRef> bufrefs;
  std::vector<StepRec> steps;
  std::vector<uint64_t> regs;
  std::vector<uint32_t> fstack;
  std::vector<std::string> files;
  std::vector<Write> writes;
  std::map<U256, std::pair<U256, U256>, U256Less> preimages;  // hash2 result -> its two words
  vm::ExecResult result;
  int64_t gas = 0;
  bool truncated = false;
  std::vector<runtime::Log> logs;  // what the call emitted (none when it failed)
  // The line tables the calls point at (CallRec::lines), one per contract.
  std::map<const ContractOutput*, std::unique_ptr<LineTable>> tables;
};

constexpr size_t kMaxSteps = 2'000'000;

// Slot offsets of a function's registers (vm/program.hpp's frame layout);
// `total` gets the frame's size in slots.
std::vector<uint32_t> slot_layout(const vm::Function& f, uint32_t& total);

// Reads a slot (account, slot) as it was before the recorded call.
using SlotReader = std::function<U256(const U256& account, const U256& slot)>;

// The session the call runs in, and a twin left before it (storage as it was).
struct Scenario {
  std::unique_ptr<runtime::Sandbox::Session> run, before;
  std::unique_ptr<runtime::CallHooks> hooks_run, hooks_before;
  Address from, to;
  std::vector<uint8_t> input;
  uint64_t gas = runtime::kBlockGasLimit;
  U256 value{};
};

// Everything a debug session refers to, kept alive for it.
struct Target {
  using SlotKey = std::pair<U256, U256>;  // (account, slot)
  struct SlotLess {
    bool operator()(const SlotKey& a, const SlotKey& b) const {
      return vm::lt(a.first, b.first) || (a.first == b.first && vm::lt(a.second, b.second));
    }
  };
  FILE* msgs = stdout;  // the lines said before the session starts
  TestWorld world;      // a call or a test
  Scenario sc;
  ContractBook tx_book;  // a transaction
  std::unique_ptr<runtime::Chain> replica;
  std::optional<runtime::Block> block;
  std::map<SlotKey, U256, SlotLess> before;
  Recording rec;
  // What the debugger opens on, besides `rec`: storage as it was before
  // the call, and the contracts by address. Both read what `t` keeps.
  SlotReader read_before;
  const ContractBook* book = nullptr;
};

// Records the call, test or transaction `args` name (the command's options)
// into `t`, ready to debug. kExitOk, or the exit code after saying why.
int record_target(const std::vector<std::string>& args, Target& t);

}  // namespace writ::cli::debug
