// A payment stream replayed through exactly the on-chain scoring path: the
// RiskEngine module this build embedded (contracts::find_system_contract),
// deployed at its fixed address 0x102 in an in-memory host and initialized
// as the default genesis does (governance = the dev governance key, hold
// 700, refuse 950). Every number it gives comes out of the VM.
//
// For each payment, in time order (replay()):
//   1. confirmed outcomes whose delay has passed are fed back: a payment
//      labeled fraud at time t is confirmed (confirm_fraud, as governance)
//      before the first payment at or after t + feedback_delay is scored;
//   2. the block timestamp becomes the payment's time;
//   3. features(from, to, amount) and/or score(from, to, amount) run as
//      views (static calls);
//   4. record(from, to, amount) runs as the zero address, the caller the
//      runtime's payment path uses.
// Amounts are base units (whole units x 10^18); identifiers map to addresses
// by account_address().
//
// Not thread-safe; deterministic (the VM and the embedded module only).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "risk_model.hpp"
#include "risk_stream.hpp"

namespace writ::cli::risk {

// Gas of the calls to one function of the engine.
struct GasStats {
  uint64_t calls = 0;
  uint64_t total = 0;
  uint64_t max = 0;
  double mean() const {
    return calls ? static_cast<double>(total) / static_cast<double>(calls) : 0;
  }
};

class RiskEngineReplay {
 public:
  // Deploys and initializes the engine. Fails only if the build embedded no
  // RiskEngine or its init reverts (`err` says which).
  static std::unique_ptr<RiskEngineReplay> create(std::string& err);
  ~RiskEngineReplay();

  void set_time(uint64_t seconds);
  // Each returns false with `err` set ("record reverted: NotRecorder(...)").
  bool install_model(const Model& m, std::string& err);
  bool features(const runtime::Address& from, const runtime::Address& to, const vm::U256& amount,
                Features& out, std::string& err);
  bool score(const runtime::Address& from, const runtime::Address& to, const vm::U256& amount,
             uint64_t& score, std::vector<uint64_t>& reasons, std::string& err);
  bool record(const runtime::Address& from, const runtime::Address& to, const vm::U256& amount,
              std::string& err);
  bool confirm_fraud(const runtime::Address& from, const runtime::Address& to,
                     const vm::U256& amount, std::string& err);

  const GasStats& score_gas() const { return score_gas_; }
  const GasStats& features_gas() const { return features_gas_; }
  const GasStats& record_gas() const { return record_gas_; }
  // Storage writes of every record() so far: SSTOREs run, those that
  // changed a slot (added, modified or cleared it), and those that added one
  // (the state's growth).
  uint64_t record_sstores() const { return record_sstores_; }
  uint64_t record_slots_changed() const { return record_slots_changed_; }
  uint64_t record_slots_added() const { return record_slots_added_; }
  // History words (kept in account records) that record() changed.
  uint64_t record_words_changed() const { return record_words_changed_; }
  // Non-zero storage slots of the engine (and nothing else is deployed).
  size_t storage_slots() const;

 private:
  class Host;
  RiskEngineReplay();
  bool call(const char* fn, const vm::U256& caller, bool is_static,
            const std::vector<uint8_t>& input, std::vector<uint8_t>& output, GasStats* gas,
            std::string& err);

  std::unique_ptr<Host> host_;
  vm::U256 engine_{}, governance_{};
  uint32_t sel_install_ = 0, sel_features_ = 0, sel_score_ = 0, sel_record_ = 0, sel_confirm_ = 0;
  GasStats score_gas_, features_gas_, record_gas_;
  uint64_t record_sstores_ = 0, record_slots_changed_ = 0, record_slots_added_ = 0;
  uint64_t record_words_changed_ = 0;
};

// The chain's thresholds as the default genesis sets them (init): a payment
// scored at or above kHoldScore is held, at or above kRefuseScore refused.
inline constexpr uint64_t kHoldScore = 700, kRefuseScore = 950;
inline constexpr uint64_t kDefaultFeedbackDelay = 7 * 86'400;  // seconds

struct ReplayOptions {
  const Model* model = nullptr;  // installed (as governance) before the first payment
  uint64_t feedback_delay = kDefaultFeedbackDelay;  // 0: labels are never fed back
  bool collect_features = false;
  bool collect_scores = false;
  bool collect_reasons = false;  // with collect_scores
  // Payments before this index are a warm-up: recorded (and their fraud fed
  // back) but neither scored nor collected.
  size_t first = 0;
};

struct ReplayOutput {
  // Per payment from options.first on, when collected.
  std::vector<Features> features;
  std::vector<uint64_t> scores;  // 0..999
  std::vector<std::vector<uint64_t>> reasons;
  size_t confirmed = 0;  // confirm_fraud calls made
  GasStats score_gas, features_gas, record_gas;
  uint64_t record_sstores = 0, record_slots_changed = 0, record_slots_added = 0;
  uint64_t record_words_changed = 0;
  size_t storage_slots = 0;  // the engine's non-zero slots at the end
};

// Replays `s` (contract above). False with `err` naming the stream's file
// and the payment's line when any call fails.
bool replay(const Stream& s, const ReplayOptions& options, ReplayOutput& out, std::string& err);

}  // namespace writ::cli::risk
