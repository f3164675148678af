#include "risk_replay.hpp"

#include <deque>
#include <unordered_map>

#include "writ/contracts/system.hpp"
#include "writ/runtime/chain.hpp"
#include "writ/vm/abi.hpp"
#include "writ/vm/memory_host.hpp"

namespace writ::cli::risk {

namespace {

using vm::U256;
using vm::ValType;
using vm::Value;

// Every call gets a block's gas: a call that needs more could never run on chain.
constexpr int64_t kCallGas = static_cast<int64_t>(runtime::kBlockGasLimit);

Value word(const runtime::Address& a) {
  return Value::u256(a.to_u256());
}

// "Name(field, ...)" of revert data, by the engine's declared errors.
std::string describe_revert(const vm::Module& m, const std::vector<uint8_t>& data) {
  if (data.size() >= 4) {
    const uint32_t sel =
        (uint32_t{data[0]} << 24) | (uint32_t{data[1]} << 16) | (uint32_t{data[2]} << 8) | data[3];
    for (const vm::ErrorDecl& e : m.errors) {
      if (vm::selector_of(e.name, e.fields) != sel) continue;
      auto vals = vm::abi_decode(e.fields, std::span<const uint8_t>(data).subspan(4));
      if (!vals.ok()) break;
      std::string s = e.name + "(";
      for (size_t i = 0; i < vals->size(); ++i) s += (i ? ", " : "") + vm::format_value((*vals)[i]);
      return s + ")";
    }
  }
  return data.empty() ? "no data" : "data " + vm::format_value(Value::buf(data));
}

}  // namespace

// The in-memory host, counting storage and history-word writes (the VM
// reaches both through the Host interface, so every write of the engine
// passes here).
class RiskEngineReplay::Host final : public vm::MemoryHost {
 public:
  bool set_history_word(const U256& self, const U256& account, unsigned i, const U256& value,
                        bool& changed_out) override {
    if (!MemoryHost::set_history_word(self, account, i, value, changed_out)) return false;
    if (changed_out) ++words;
    return true;
  }
  vm::StorageChange sstore(const U256& account, const U256& key, const U256& value) override {
    const vm::StorageChange c = MemoryHost::sstore(account, key, value);
    ++sstores;
    if (c != vm::StorageChange::Unchanged) ++changed;
    if (c == vm::StorageChange::Added) ++added;
    return c;
  }
  uint64_t sstores = 0, changed = 0, added = 0, words = 0;
  std::shared_ptr<const vm::VerifiedModule> engine;
};

RiskEngineReplay::RiskEngineReplay() : host_(std::make_unique<Host>()) {}
RiskEngineReplay::~RiskEngineReplay() = default;

std::unique_ptr<RiskEngineReplay> RiskEngineReplay::create(std::string& err) {
  const contracts::SystemContract* sc = contracts::find_system_contract("RiskEngine");
  if (!sc) {
    err = "this build embeds no RiskEngine";
    return nullptr;
  }
  std::unique_ptr<RiskEngineReplay> r(new RiskEngineReplay());
  r->engine_ = sc->address.to_u256();
  r->governance_ =
      runtime::address_of(contracts::dev_key(contracts::DevKey::Governance).pub).to_u256();
  auto deployed = r->host_->deploy(r->engine_, sc->module);
  r->host_->set_risk_engine(r->engine_);
  if (!deployed.ok()) {
    err = "RiskEngine: " + deployed.error().to_string();
    return nullptr;
  }
  r->host_->engine = deployed.value();
  const vm::Module& m = r->host_->engine->module();
  auto selector = [&](const char* name, uint32_t& out) {
    const vm::Export* e = m.find_export(name);
    if (e) out = e->selector;
    return e != nullptr;
  };
  uint32_t sel_init = 0;
  if (!selector("$init", sel_init) || !selector("install_model", r->sel_install_) ||
      !selector("features", r->sel_features_) || !selector("score", r->sel_score_) ||
      !selector("record", r->sel_record_) || !selector("confirm_fraud", r->sel_confirm_)) {
    err = "the embedded RiskEngine lacks a function this tool calls";
    return nullptr;
  }
  r->host_->block_context().chain_id = contracts::kDevChainId;
  r->host_->block_context().timestamp = contracts::kDevGenesisTime;
  // init(governance, hold, refuse) as the default genesis runs it.
  const std::vector<Value> args = {Value::u256(r->governance_), Value::u64(kHoldScore),
                                   Value::u64(kRefuseScore)};
  const std::vector<uint8_t> input = vm::call_input(sel_init, args);
  vm::Message msg;
  msg.caller = r->governance_;
  msg.self = r->engine_;
  msg.input = input;
  msg.gas = kCallGas;
  msg.is_deploy = true;
  const vm::ExecResult res = r->host_->call(msg);
  if (res.status != vm::Status::Ok) {
    err = "RiskEngine init failed: " + std::string(vm::status_name(res.status)) + " " +
          describe_revert(m, res.output);
    return nullptr;
  }
  return r;
}

void RiskEngineReplay::set_time(uint64_t seconds) {
  host_->block_context().timestamp = seconds;
  ++host_->block_context().number;
}

size_t RiskEngineReplay::storage_slots() const {
  return host_->storage_size();
}

bool RiskEngineReplay::call(const char* fn, const U256& caller, bool is_static,
                            const std::vector<uint8_t>& input, std::vector<uint8_t>& output,
                            GasStats* gas, std::string& err) {
  vm::Message msg;
  msg.caller = caller;
  msg.self = engine_;
  msg.input = input;
  msg.gas = kCallGas;
  msg.is_static = is_static;
  vm::ExecResult r = host_->call(msg);
  if (r.status != vm::Status::Ok) {
    err = std::string(fn) + (r.status == vm::Status::Revert ? " reverted: " : " trapped: ") +
          (r.status == vm::Status::Revert ? describe_revert(host_->engine->module(), r.output)
                                          : std::string(vm::status_name(r.status)) +
                                                (r.detail.empty() ? "" : " (" + r.detail + ")"));
    return false;
  }
  if (gas) {
    const uint64_t used = static_cast<uint64_t>(kCallGas - r.gas_left);
    ++gas->calls;
    gas->total += used;
    gas->max = std::max(gas->max, used);
  }
  output = std::move(r.output);
  return true;
}

bool RiskEngineReplay::install_model(const Model& m, std::string& err) {
  std::vector<uint8_t> weights;
  for (const U256& w : m.weights) {
    uint8_t be[32];
    vm::to_be_bytes(w, be);
    weights.insert(weights.end(), be, be + 32);
  }
  const std::vector<Value> args = {Value::u64(m.version), Value::u256(m.intercept),
                                   Value::buf(std::move(weights))};
  std::vector<uint8_t> out;
  return call("install_model", governance_, false, vm::call_input(sel_install_, args), out, nullptr,
              err);
}

bool RiskEngineReplay::features(const runtime::Address& from, const runtime::Address& to,
                                const U256& amount, Features& f, std::string& err) {
  const std::vector<Value> args = {word(from), word(to), Value::u256(amount)};
  std::vector<uint8_t> out;
  if (!call("features", U256::zero(), true, vm::call_input(sel_features_, args), out,
            &features_gas_, err))
    return false;
  const ValType types[] = {ValType::Buf};
  auto dec = vm::abi_decode(types, out);
  // vec<i256>: 32-byte big-endian elements.
  if (!dec.ok() || (*dec)[0].bytes.size() != 32 * kFeatureCount) {
    err = "features returned " + std::to_string(dec.ok() ? (*dec)[0].bytes.size() / 32 : 0) +
          " values, this tool knows " + std::to_string(kFeatureCount);
    return false;
  }
  for (size_t i = 0; i < kFeatureCount; ++i)
    f[i] = vm::from_be_bytes((*dec)[0].bytes.data() + 32 * i);
  return true;
}

bool RiskEngineReplay::score(const runtime::Address& from, const runtime::Address& to,
                             const U256& amount, uint64_t& score, std::vector<uint64_t>& reasons,
                             std::string& err) {
  const std::vector<Value> args = {word(from), word(to), Value::u256(amount)};
  std::vector<uint8_t> out;
  if (!call("score", U256::zero(), true, vm::call_input(sel_score_, args), out, &score_gas_, err))
    return false;
  const ValType types[] = {ValType::U64, ValType::Buf};
  auto dec = vm::abi_decode(types, out);
  if (!dec.ok() || (*dec)[1].bytes.size() % 8 != 0) {
    err = "score returned malformed results";
    return false;
  }
  score = (*dec)[0].word.low64();
  // vec<u64>: 8-byte little-endian elements.
  reasons.clear();
  const std::vector<uint8_t>& b = (*dec)[1].bytes;
  for (size_t i = 0; i + 8 <= b.size(); i += 8) {
    uint64_t v = 0;
    for (size_t k = 0; k < 8; ++k) v |= uint64_t{b[i + k]} << (8 * k);
    reasons.push_back(v);
  }
  return true;
}

bool RiskEngineReplay::record(const runtime::Address& from, const runtime::Address& to,
                              const U256& amount, std::string& err) {
  const std::vector<Value> args = {word(from), word(to), Value::u256(amount)};
  std::vector<uint8_t> out;
  const uint64_t sstores = host_->sstores, changed = host_->changed, added = host_->added,
                 words = host_->words;
  if (!call("record", U256::zero(), false, vm::call_input(sel_record_, args), out, &record_gas_,
            err))
    return false;
  record_sstores_ += host_->sstores - sstores;
  record_slots_changed_ += host_->changed - changed;
  record_slots_added_ += host_->added - added;
  record_words_changed_ += host_->words - words;
  return true;
}

bool RiskEngineReplay::confirm_fraud(const runtime::Address& from, const runtime::Address& to,
                                     const U256& amount, std::string& err) {
  const std::vector<Value> args = {word(from), word(to), Value::u256(amount)};
  std::vector<uint8_t> out;
  return call("confirm_fraud", governance_, false, vm::call_input(sel_confirm_, args), out, nullptr,
              err);
}

bool replay(const Stream& s, const ReplayOptions& options, ReplayOutput& out, std::string& err) {
  out = ReplayOutput{};
  std::unique_ptr<RiskEngineReplay> engine = RiskEngineReplay::create(err);
  if (!engine) return false;
  if (options.model && !engine->install_model(*options.model, err)) {
    err = s.name + ": model version " + std::to_string(options.model->version) + ": " + err;
    return false;
  }
  std::unordered_map<std::string, runtime::Address> addresses;
  auto address = [&](const std::string& id) -> const runtime::Address& {
    auto it = addresses.find(id);
    if (it == addresses.end()) it = addresses.emplace(id, account_address(id)).first;
    return it->second;
  };
  if (options.collect_features) out.features.reserve(s.payments.size());
  if (options.collect_scores) out.scores.reserve(s.payments.size());
  std::deque<const Payment*> awaiting;  // labeled fraud, not yet confirmed, in time order
  for (size_t i = 0; i < s.payments.size(); ++i) {
    const Payment& p = s.payments[i];
    const bool collect = i >= options.first;
    auto fail = [&](const std::string& why) {
      err = s.name + ":" + std::to_string(p.line) + ": " + why;
      return false;
    };
    engine->set_time(p.time);
    while (options.feedback_delay > 0 && !awaiting.empty() &&
           p.time - awaiting.front()->time >= options.feedback_delay) {
      const Payment& f = *awaiting.front();
      std::string why;
      if (!engine->confirm_fraud(address(f.from), address(f.to), f.amount, why))
        return fail("feedback of line " + std::to_string(f.line) + ": " + why);
      awaiting.pop_front();
      ++out.confirmed;
    }
    const runtime::Address& from = address(p.from);
    const runtime::Address& to = address(p.to);
    std::string why;
    if (collect && options.collect_features) {
      Features f;
      if (!engine->features(from, to, p.amount, f, why)) return fail(why);
      out.features.push_back(f);
    }
    if (collect && options.collect_scores) {
      uint64_t score = 0;
      std::vector<uint64_t> reasons;
      if (!engine->score(from, to, p.amount, score, reasons, why)) return fail(why);
      out.scores.push_back(score);
      if (options.collect_reasons) out.reasons.push_back(std::move(reasons));
    }
    if (!engine->record(from, to, p.amount, why)) return fail(why);
    if (p.label == 1) awaiting.push_back(&p);
  }
  out.score_gas = engine->score_gas();
  out.features_gas = engine->features_gas();
  out.record_gas = engine->record_gas();
  out.record_sstores = engine->record_sstores();
  out.record_slots_changed = engine->record_slots_changed();
  out.record_slots_added = engine->record_slots_added();
  out.record_words_changed = engine->record_words_changed();
  out.storage_slots = engine->storage_slots();
  return true;
}

}  // namespace writ::cli::risk
