// The host interface: everything the VM can ask of the world outside a call.
//
// The runtime implements Host over its journaled state; MemoryHost (below and
// memory_host.hpp) is the in-memory implementation used by tests, benchmarks
// and `writ exec`. Nested contract calls go through Host::call, which runs the
// VM again for the callee, so the host owns journaling: a call that fails
// must leave no trace of its own state changes.
//
// Thread-safety: a Host is used by one execution at a time.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "writ/vm/u256.hpp"

namespace writ::vm {

// How a call ended. Every value except Ok is a trap; the pc and function of a
// trap are in ExecResult. Values are stable: they appear in receipts.
enum class Status : uint8_t {
  Ok = 0,
  Revert = 1,  // explicit revert/throw; output holds the revert data
  OutOfGas = 2,
  Overflow = 3,  // checked arithmetic or a narrowing conversion
  DivisionByZero = 4,
  OutOfBounds = 5,  // buffer access outside its length
  CallDepth = 6,    // internal call depth, frame stack or nested call depth exceeded
  Unreachable = 7,
  AssertFailed = 8,
  MemoryLimit = 9,           // buffer memory of the call past kMaxMemory
  StaticViolation = 10,      // state change inside a view (static) call
  Reentrancy = 11,           // the contract is already on the call stack
  InvalidInput = 12,         // input too short, unknown selector, or arguments that do not decode
  NotPayable = 13,           // value sent to a function that is not payable
  NoCode = 14,               // call to an address without a contract
  InvalidCode = 15,          // the callee's module failed to load or verify
  InsufficientBalance = 16,  // value sent along a call exceeds the caller's balance
  NotPermitted = 17,         // hload/hstore by a contract that is not the host's risk engine
};
std::string_view status_name(Status s);

// Gas left after a trap: Revert keeps the unused gas; every other trap
// consumes all gas given to the call.
inline constexpr bool keeps_gas(Status s) {
  return s == Status::Ok || s == Status::Revert;
}

// Refusals: a call stopped before any of the callee's code ran, by the
// host (no code at the address, a module that does not load, no balance for
// the value) or by the VM's entry checks (input without a known selector or
// decodable arguments, value to a function that is not payable, re-entry
// of a contract already on the call stack). Nothing ran, so a refusal
// consumes none of the call's gas: a nested call costs the caller only the
// call instruction's price, a transaction only its intrinsic gas. A status
// raised by running code (a trap) is never a refusal; CallDepth is not one
// either, since the interpreter also raises it for internal calls (the
// nested-call depth check in xcall returns the gas by itself).
inline constexpr bool is_refusal(Status s) {
  return s == Status::Reentrancy || s == Status::InvalidInput || s == Status::NotPayable ||
         s == Status::NoCode || s == Status::InvalidCode || s == Status::InsufficientBalance;
}

struct BlockContext {
  uint64_t number = 0;
  uint64_t timestamp = 0;  // seconds since the Unix epoch
  uint64_t chain_id = 0;
  U256 origin{};  // signer of the transaction
};

// One call frame as seen by the host and the VM. `parent` links the frames of
// the call stack (nullptr for the transaction's top call); the VM walks it to
// refuse reentrancy.
struct Message {
  U256 caller{};
  U256 self{};  // the contract being called
  U256 value{};
  std::span<const uint8_t> input;
  int64_t gas = 0;
  uint32_t depth = 0;
  bool is_static = false;
  // Set only by the runtime's deploy: the constructor export (kConstructorName)
  // runs then and never again, and a deploy runs nothing else.
  bool is_deploy = false;
  const Message* parent = nullptr;
};

// One nested call on the way to a failure: a call that failed and whose
// failure its caller passed on (see ExecResult::calls).
struct FailedCall {
  U256 callee{};
  uint32_t selector = 0;  // the first 4 bytes of the call's input, big-endian (0 if shorter)
  Status status = Status::Ok;
  uint32_t func = 0;   // where the callee ended, as ExecResult::func and pc
  uint32_t pc = 0;     // (both 0 for a refusal: none of its code ran)
  std::string detail;  // ExecResult::detail, cut to kMaxFailedCallDetail bytes
  bool operator==(const FailedCall&) const = default;
};
// Bounds of a failure trace: they keep a receipt small whatever the call
// depth (kMaxCallDepth), and a trace costs no gas.
inline constexpr size_t kMaxFailedCalls = 16;
inline constexpr size_t kMaxFailedCallDetail = 256;

struct ExecResult {
  Status status = Status::Ok;
  int64_t gas_left = 0;
  std::vector<uint8_t> output;  // ABI-encoded results, or revert data
  uint32_t func = 0;            // where a trap happened: function index ...
  uint32_t pc = 0;              // ... and byte offset in its code
  std::string detail;           // human-readable reason, for traps
  // The failure trace. A call that ends in Revert with exactly the revert
  // data its last nested call handed it (the callee's own revert data, or
  // CallFailed(callee, status) for a trap or refusal) passed that failure on;
  // `calls` then lists the failed nested calls it came through, innermost
  // first: the callee's own `calls`, then the callee. At most
  // kMaxFailedCalls are kept (the innermost); `calls_omitted` counts the
  // outer ones left out. Empty for every other outcome. This call's own
  // frame is not in the list: its status, func, pc and detail are above.
  std::vector<FailedCall> calls;
  uint32_t calls_omitted = 0;
};

enum class StorageChange : uint8_t { Unchanged, Added, Modified, Deleted };

class Host {
 public:
  virtual ~Host() = default;
  virtual U256 sload(const U256& account, const U256& key) = 0;
  virtual StorageChange sstore(const U256& account, const U256& key, const U256& value) = 0;
  virtual U256 balance(const U256& account) = 0;
  // Moves `amount` from one account to another; false (and nothing moves) if
  // `from` holds less.
  virtual bool transfer(const U256& from, const U256& to, const U256& amount) = 0;
  // Whether the account has a record (a balance, a nonce, code, history):
  // value sent to one that has none creates it, and pays for the state it
  // grows as a new storage slot does.
  virtual bool account_exists(const U256& account) { return !balance(account).is_zero(); }
  // The first access to a slot or an account in a block pays for a read
  // from the chain's store (docs/gas.md, "First access"): each marks what
  // it names as accessed and says whether it was not before. The caller and
  // callee of a transaction's top call (a Message without a parent) are
  // accessed already. What a failed frame or transaction accessed stays
  // accessed: its reads were made, and the block keeps what they read. The
  // set is the block's, never a cache of the node, so that every node
  // charges the same; a transaction pays at most what it would alone in its
  // block. A host that keeps none answers false (every access later).
  virtual bool first_access(const U256& account, const U256& key) {
    (void)account, (void)key;
    return false;
  }
  virtual bool first_access(const U256& account) {
    (void)account;
    return false;
  }
  // A read of a slot with its access: first_access(account, key), then
  // sload(account, key), with `first` the former's answer. One call and
  // one lookup for the read that every storage instruction starts with; a
  // host that overrides it must keep exactly that meaning.
  virtual U256 sload_access(const U256& account, const U256& key, bool& first) {
    first = first_access(account, key);
    return sload(account, key);
  }
  // Runs a nested call: value transfer, then the callee's code. On any status
  // but Ok the host undoes every state change the call made.
  virtual ExecResult call(const Message& msg) = 0;
  virtual void emit_log(const U256& account, std::span<const U256> topics,
                        std::span<const uint8_t> data) = 0;
  virtual const BlockContext& block() const = 0;

  // The risk engine's history words of an account (kHistoryWords of them),
  // kept in the account's own record, so that scoring a payment writes no
  // records beyond the two accounts the payment touches anyway. Only the
  // contract the host names as its risk engine may read or write them:
  // `self` is the running contract; false means it may not (a trap).
  virtual bool history_word(const U256& self, const U256& account, unsigned i, U256& out) {
    (void)self, (void)account, (void)i, (void)out;
    return false;
  }
  // As above; `changed` tells whether the word took a new value.
  virtual bool set_history_word(const U256& self, const U256& account, unsigned i,
                                const U256& value, bool& changed) {
    (void)self, (void)account, (void)i, (void)value, (void)changed;
    return false;
  }

  // Running a call twice. The JIT tier tests the gas late (docs/jit.md,
  // "Gas tested late"): when a test finds that a charge ran it out, the call
  // runs again on the interpreter, which says where. For that the host puts
  // back everything the first run changed, and what it accessed first too
  // (first_access), so that the second run pays as the first would have.
  // snapshot() marks the host as it is and returns false if the host cannot
  // do this (the tier then runs the call on the interpreter alone);
  // restore() puts the host back as it was at the mark; release() ends the
  // mark. Marks nest: they end innermost first, and a restore goes back to
  // a mark not yet released.
  struct Snapshot {
    uint64_t journal = 0, logs = 0, accesses = 0;
  };
  virtual bool snapshot(Snapshot& out) {
    (void)out;
    return false;
  }
  virtual void restore(const Snapshot& mark) { (void)mark; }
  virtual void release(const Snapshot& mark) { (void)mark; }
};

inline constexpr unsigned kHistoryWords = 3;

}  // namespace writ::vm
