#include "writ/runtime/sandbox.hpp"

#include <cstring>

#include "world_state.hpp"

namespace writ::runtime {

struct Sandbox::Impl {
  Genesis genesis;
  const Store* store = nullptr;  // owned by `chain`, written once (the genesis)
  std::unique_ptr<Chain> chain;
  // Modules by code hash: shared by the sessions (ModuleCache is thread-safe).
  mutable vm::ModuleCache modules;
};

struct Sandbox::Session::Impl {
  Impl(const Store& store, vm::ModuleCache& module_cache, const vm::BlockContext& context)
      : ws(store, module_cache, context), ctx(context), modules(module_cache) {}
  WorldState ws;
  vm::BlockContext ctx;
  vm::ModuleCache& modules;
  int depth = 0;  // calls running (a hook may deploy during one)
};

Sandbox::Sandbox(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Sandbox::~Sandbox() = default;

Result<std::unique_ptr<Sandbox>> Sandbox::create(const Genesis& genesis) {
  auto impl = std::make_unique<Impl>();
  impl->genesis = genesis;
  std::unique_ptr<Store> store = open_memory_store();
  impl->store = store.get();
  auto chain = Chain::open(std::move(store), genesis);
  if (!chain.ok()) return chain.error();
  impl->chain = std::move(chain.value());
  return std::unique_ptr<Sandbox>(new Sandbox(std::move(impl)));
}

const Genesis& Sandbox::genesis() const {
  return impl_->genesis;
}

std::unique_ptr<Sandbox::Session> Sandbox::session() const {
  vm::BlockContext ctx;
  ctx.number = 1;
  ctx.timestamp = impl_->genesis.timestamp;
  ctx.chain_id = impl_->genesis.chain_id;
  auto s = std::make_unique<Session::Impl>(*impl_->store, impl_->modules, ctx);
  s->ws.set_risk_engine(impl_->genesis.risk_engine);
  return std::make_unique<Session>(std::move(s));
}

Sandbox::Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Sandbox::Session::~Session() = default;

Result<Address> Sandbox::Session::deploy(const Address& from, const Bytes& code, const Bytes& init,
                                         uint64_t gas, vm::ExecResult& result) {
  WorldState& ws = impl_->ws;
  result = vm::ExecResult{};
  result.gas_left = static_cast<int64_t>(gas);
  Account sender = ws.get_account(from);
  const Address addr = contract_address(from, sender.nonce);
  ++sender.nonce;
  ws.put_account(from, sender);
  const bool nested = impl_->depth > 0;
  if (!nested) ws.forget_journal();  // the nonce advances whatever the constructor does
  auto module = impl_->modules.get(code);
  if (!module.ok()) {
    result.status = vm::Status::InvalidCode;
    result.detail = "module: " + module.error().to_string();
    return vm::error_at(0, result.detail);
  }
  const Account existing = ws.get_account(addr);
  if (!existing.code_hash.is_zero() || existing.nonce != 0) {
    result.status = vm::Status::InvalidCode;
    result.detail = "an account already exists at " + addr.hex();
    return vm::error_at(0, result.detail);
  }
  const WorldState::Checkpoint cp = ws.checkpoint();
  Hash256 ch;
  const vm::CodeHash vh = vm::code_hash(code);
  std::memcpy(ch.bytes.data(), vh.bytes, 32);
  ws.put_code(ch, code);
  Account ca = existing;
  ca.code_hash = ch;
  ws.put_account(addr, ca);
  if (module.value()->module().find_export(vm::kConstructorName)) {
    vm::Message msg;
    msg.caller = to_vm(from);
    msg.self = to_vm(addr);
    msg.input = init;
    msg.gas = static_cast<int64_t>(gas);
    msg.is_deploy = true;
    result = ws.call(msg);
  } else if (!init.empty()) {
    result.status = vm::Status::InvalidInput;
    result.detail = "the module has no constructor to take the deploy's data";
  }
  if (result.status != vm::Status::Ok) {
    ws.revert_to(cp);
    if (!nested) ws.take_logs();
    return vm::error_at(0, std::string("constructor: ") +
                               std::string(vm::status_name(result.status)) +
                               (result.detail.empty() ? "" : " " + result.detail));
  }
  if (!nested) {
    ws.take_logs();
    ws.forget_journal();
  }
  return addr;
}

vm::ExecResult Sandbox::Session::call(const Address& from, const Address& to, const Bytes& input,
                                      uint64_t gas, const U256& value, std::vector<Log>* logs) {
  WorldState& ws = impl_->ws;
  vm::Message msg;
  msg.caller = to_vm(from);
  msg.self = to_vm(to);
  msg.value = value;
  msg.input = input;
  msg.gas = static_cast<int64_t>(gas);
  impl_->ctx.origin = to_vm(from);
  ws.set_context(impl_->ctx);
  const WorldState::Checkpoint cp = ws.checkpoint();
  ++impl_->depth;
  vm::ExecResult r = ws.call(msg);
  --impl_->depth;
  if (r.status != vm::Status::Ok) ws.revert_to(cp);
  std::vector<Log> emitted = ws.take_logs();
  if (logs) *logs = r.status == vm::Status::Ok ? std::move(emitted) : std::vector<Log>{};
  ws.forget_journal();
  return r;
}

const vm::BlockContext& Sandbox::Session::block() const {
  return impl_->ctx;
}

void Sandbox::Session::set_timestamp(uint64_t t) {
  impl_->ctx.timestamp = t;
  impl_->ws.set_context(impl_->ctx);
}

void Sandbox::Session::set_block_number(uint64_t n) {
  impl_->ctx.number = n;
  impl_->ws.set_context(impl_->ctx);
}

void Sandbox::Session::set_balance(const Address& a, const U256& amount) {
  Account acct = impl_->ws.get_account(a);
  acct.balance = amount;
  impl_->ws.put_account(a, acct);
}

U256 Sandbox::Session::balance(const Address& a) {
  return impl_->ws.get_account(a).balance;
}

U256 Sandbox::Session::storage(const Address& a, const U256& slot) {
  return impl_->ws.get_storage(a, slot);
}

uint64_t Sandbox::Session::nonce(const Address& a) {
  return impl_->ws.get_account(a).nonce;
}

size_t Sandbox::Session::log_count() const {
  return impl_->ws.logs().size();
}

std::vector<Log> Sandbox::Session::logs_from(size_t from) const {
  const std::vector<Log>& all = impl_->ws.logs();
  return from < all.size() ? std::vector<Log>(all.begin() + static_cast<long>(from), all.end())
                           : std::vector<Log>{};
}

void Sandbox::Session::set_tracer(CallTracer* tracer) {
  impl_->ws.set_tracer(tracer);
}

void Sandbox::Session::set_hooks(CallHooks* hooks) {
  impl_->ws.set_hooks(hooks);
}

}  // namespace writ::runtime
