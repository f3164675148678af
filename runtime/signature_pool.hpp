// SignaturePool: Ed25519 checks of transactions on background threads, ahead
// of the sequential execution that needs their verdicts. Signature checks are
// the physical limit of throughput (DESIGN.md §7); everything else a payment
// costs runs on one thread, so the pool keeps every core verifying while that
// thread executes, commits and even waits for a sync.
//
// Contract:
//   1. a job's verdict is Transaction::signature_valid() of the transaction
//      it was made from: it does not depend on which thread computes it, nor
//      when;
//   2. wait(job) returns the verdict. While the job is still queued, the
//      caller runs it itself; while another thread runs it, the caller runs
//      other queued jobs instead of idling, and sleeps (no spinning) only
//      when nothing is left to run;
//   3. the destructor stops the threads after the job each is running; jobs
//      still queued are dropped, so every wait() must return before it.
// Thread-safety: submit() and wait() may be called from any thread.
// Internal to writ_runtime.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "writ/runtime/transaction.hpp"

namespace writ::runtime {

class SignaturePool {
 public:
  struct Job {
    Job(Bytes signing_bytes, const PublicKey& k, const Signature& s)
        : signing(std::move(signing_bytes)), key(k), sig(s) {}
    Bytes signing;  // the encoding without its signature: the digest input after the tag
    PublicKey key;
    Signature sig;
    // kQueued -> kRunning (claimed by exactly one thread) -> kGood or kBad.
    std::atomic<uint32_t> state{kQueued};
  };
  using JobPtr = std::shared_ptr<Job>;
  static constexpr uint32_t kQueued = 0, kRunning = 1, kGood = 2, kBad = 3;

  // `threads` background threads, started by the first submit() (0 is
  // allowed: callers of wait() then do all the work).
  explicit SignaturePool(unsigned threads);
  ~SignaturePool();
  SignaturePool(const SignaturePool&) = delete;
  SignaturePool& operator=(const SignaturePool&) = delete;

  // `encoding` is tx.encode(): all but its last 64 bytes (the signature)
  // are the signing bytes.
  static JobPtr make(const Transaction& tx, std::span<const uint8_t> encoding) {
    return std::make_shared<Job>(Bytes(encoding.begin(), encoding.end() - 64), tx.sender_key,
                                 tx.signature);
  }
  void submit(std::vector<JobPtr> jobs);
  [[nodiscard]] bool wait(const JobPtr& job);
  // Runs `job` on the calling thread unless another thread has claimed it;
  // returns its verdict either way (for a single check that cannot wait in
  // line behind a block's worth of queued jobs).
  [[nodiscard]] bool run_now(const JobPtr& job);

 private:
  static bool claim(Job& job);
  static void run(Job& job);  // REQUIRES: claimed by the caller
  // Pops and runs one queued job; false when the queue was empty.
  bool run_one_queued();
  void worker();
  void start_locked();  // REQUIRES: mu_ held

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<JobPtr> queue_;  // guarded by mu_
  bool stop_ = false;         // guarded by mu_
  bool started_ = false;      // guarded by mu_
  const unsigned wanted_;
  std::vector<std::thread> threads_;  // guarded by mu_ until the destructor
};

}  // namespace writ::runtime
