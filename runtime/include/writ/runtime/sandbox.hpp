// A sandbox: the state a genesis makes, in memory, and sessions over it in
// which calls run directly, for tests (`writ test`) and tools. A session
// runs calls without signatures, fees, nonces or blocks, under an
// environment its owner sets (block time and number, balances), and hooks
// may see and change every call (a test's helpers: the next call's caller,
// an expected revert, calls answered without code).
//
//   auto box = Sandbox::create(contracts::default_genesis());
//   auto s = box.value()->session();
//   auto token = s->deploy(alice, code, init, 10'000'000, result);
//   auto r = s->call(alice, token.value(), input, 1'000'000);
//
// Guarantees:
//   1. Every session starts from the genesis state, and nothing a session
//      does is seen by another one or by the sandbox.
//   2. A call that fails changes nothing (as in a transaction: the VM's
//      journal); one that succeeds stays for the rest of the session.
//   3. Calls execute exactly as in a block, on the same host (nested calls,
//      reentrancy refusal, gas, logs): only what the hooks change differs.
// Not consensus: nothing here produces or imports a block.
// Thread-safety: a Sandbox may hand out sessions on any thread; a session is
// driven by one thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "writ/runtime/chain.hpp"
#include "writ/vm/host.hpp"
#include "writ/vm/interpreter.hpp"

namespace writ::runtime {

// What a session's owner may do to calls (Session::set_hooks). Both are
// called for every call, the session's own and nested ones.
class CallHooks {
 public:
  virtual ~CallHooks() = default;
  // Before the call runs: may change the message (its caller). A result
  // answers the call instead of the callee's code.
  virtual std::optional<vm::ExecResult> before(vm::Message& msg) = 0;
  // After the callee's code ran (and, if it failed, its effects were undone):
  // may change the result.
  virtual void after(const vm::Message& msg, vm::ExecResult& result) = 0;
};

// A tracer of everything a session runs (Session::set_tracer): the VM's
// steps (vm::Tracer) and where each contract call's code begins and ends, so
// that a step can be placed in its contract. Traced calls run on the
// interpreter.
class CallTracer : public vm::Tracer {
 public:
  // Before the callee's code runs.
  virtual void enter(const vm::Message& msg) = 0;
  // After it returned or trapped.
  virtual void leave(const vm::Message& msg, const vm::ExecResult& result) = 0;
};

class Sandbox {
 public:
  ~Sandbox();
  // Executes `genesis` (its accounts, contracts, constructor runs and calls)
  // into a memory store. Errors are the genesis's.
  static Result<std::unique_ptr<Sandbox>> create(const Genesis& genesis);
  const Genesis& genesis() const;

  class Session;
  std::unique_ptr<Session> session() const;

  struct Impl;

 private:
  explicit Sandbox(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class Sandbox::Session {
 public:
  ~Session();
  // Deploys module bytes as `from` at the address a deploy transaction of
  // `from` would create (its nonce advances), running the constructor with
  // `init` (selector + ABI arguments, or empty) and `gas`. `result` is the
  // constructor's (or a refusal's). On failure nothing stays and the
  // address is the error's. May be called by a hook during a call (a test
  // deploying what it tests): the deploy is then part of that call, undone
  // if it fails.
  Result<Address> deploy(const Address& from, const Bytes& code, const Bytes& init, uint64_t gas,
                         vm::ExecResult& result);
  // Calls `to` as `from`. The logs it emitted are in `logs` (none when it failed).
  vm::ExecResult call(const Address& from, const Address& to, const Bytes& input, uint64_t gas,
                      const U256& value = {}, std::vector<Log>* logs = nullptr);

  // The environment: the block the calls see (the genesis's time, number 1,
  // its chain id, until changed), balances.
  const vm::BlockContext& block() const;
  void set_timestamp(uint64_t t);
  void set_block_number(uint64_t n);
  void set_balance(const Address& a, const U256& amount);
  U256 balance(const Address& a);
  U256 storage(const Address& a, const U256& slot);
  uint64_t nonce(const Address& a);
  // The logs of the call running now (for hooks), from the `from`th on.
  size_t log_count() const;
  std::vector<Log> logs_from(size_t from) const;

  // Hooks for every call from now on (nullptr: none). Not owned.
  void set_hooks(CallHooks* hooks);
  // A tracer of every call from now on (nullptr: none). Not owned.
  void set_tracer(CallTracer* tracer);

  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace writ::runtime
