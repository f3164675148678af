// SignaturePool (contract in signature_pool.hpp).
#include "signature_pool.hpp"

namespace writ::runtime {

SignaturePool::SignaturePool(unsigned threads) : wanted_(threads) {}

void SignaturePool::start_locked() {
  started_ = true;
  threads_.reserve(wanted_);
  for (unsigned i = 0; i < wanted_; ++i) {
    try {
      threads_.emplace_back([this] { worker(); });
    } catch (...) {  // std::system_error: no more threads; waiters do the work
      break;
    }
  }
}

SignaturePool::~SignaturePool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void SignaturePool::submit(std::vector<JobPtr> jobs) {
  if (jobs.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_) start_locked();
    for (JobPtr& j : jobs) queue_.push_back(std::move(j));
  }
  cv_.notify_all();
}

bool SignaturePool::claim(Job& job) {
  uint32_t expected = kQueued;
  return job.state.compare_exchange_strong(expected, kRunning, std::memory_order_acq_rel);
}

void SignaturePool::run(Job& job) {
  const Hash256 digest = sha256("writ.tx.v1", job.signing);
  const bool ok = verify(job.key, digest.bytes, job.sig);
  // Only the verdict is kept: a job remembered for a block (Chain's
  // verify_ahead and validate) held a copy of its transaction until then.
  Bytes().swap(job.signing);
  job.state.store(ok ? kGood : kBad, std::memory_order_release);
  job.state.notify_all();
}

bool SignaturePool::run_one_queued() {
  for (;;) {
    JobPtr job;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.empty()) return false;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    // A waiter may have claimed it already (then it is no work of ours).
    if (claim(*job)) {
      run(*job);
      return true;
    }
  }
}

void SignaturePool::worker() {
  for (;;) {
    JobPtr job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    if (claim(*job)) run(*job);
  }
}

bool SignaturePool::wait(const JobPtr& job) {
  if (claim(*job)) run(*job);
  uint32_t s;
  while ((s = job->state.load(std::memory_order_acquire)) == kRunning) {
    // Another thread has it: do other queued work meanwhile, sleep only
    // when there is none.
    if (!run_one_queued()) job->state.wait(kRunning, std::memory_order_acquire);
  }
  return s == kGood;
}

bool SignaturePool::run_now(const JobPtr& job) {
  if (claim(*job)) run(*job);
  uint32_t s;
  while ((s = job->state.load(std::memory_order_acquire)) == kRunning)
    job->state.wait(kRunning, std::memory_order_acquire);
  return s == kGood;
}

}  // namespace writ::runtime
