#include "threadpool.h"

#include <algorithm>

#ifdef TS_THREADS
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>
#endif

namespace tunesmith {

#ifdef TS_THREADS
namespace {
class Pool {
 public:
  ~Pool() { stop(); }
  void set_threads(int n) {
    n = std::max(1, std::min(8, n));
    if (n == threads_) return;
    stop();
    threads_ = n;
  }
  int threads() const { return threads_; }

  void run(int n, int grain, const std::function<void(int, int)>& fn) {
    const int chunks = std::min(threads_, (n + grain - 1) / grain);
    if (chunks <= 1) { fn(0, n); return; }
    start();
    // Contiguous ranges, each a multiple of grain.
    const int per = ((n + chunks - 1) / chunks + grain - 1) / grain * grain;
    {
      std::lock_guard<std::mutex> lk(mu_);
      job_ = &fn; job_n_ = n; job_per_ = per; pending_ = 0;
      for (int c = 1; c < chunks && c * per < n; ++c) ++pending_;
      job_chunks_ = pending_ + 1;
      ++generation_;
    }
    cv_.notify_all();
    fn(0, std::min(n, per));
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait(lk, [&] { return pending_ == 0; });
    job_ = nullptr;
  }

 private:
  void start() {
    if (!workers_.empty()) return;
    quit_ = false;
    // A worker must not mistake the last job (run before it existed) for a new one.
    for (int w = 1; w < threads_; ++w) workers_.emplace_back([this, w, g = generation_] { loop(w, g); });
  }
  void stop() {
    { std::lock_guard<std::mutex> lk(mu_); quit_ = true; }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }
  void loop(int w, unsigned long seen) {
    for (;;) {
      const std::function<void(int, int)>* job;
      int b, e;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return quit_ || generation_ != seen; });
        if (quit_) return;
        seen = generation_;
        if (w >= job_chunks_) continue;  // this job has fewer chunks than workers
        job = job_;
        b = w * job_per_;
        e = std::min(job_n_, b + job_per_);
      }
      (*job)(b, e);
      std::lock_guard<std::mutex> lk(mu_);
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }

  int threads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  bool quit_ = false;
  unsigned long generation_ = 0;
  const std::function<void(int, int)>* job_ = nullptr;
  int job_n_ = 0, job_per_ = 0, job_chunks_ = 0, pending_ = 0;
};
Pool& pool() { static Pool p; return p; }
}  // namespace

void parallel_for(int n, int grain, const std::function<void(int, int)>& fn) { pool().run(n, grain, fn); }
void pool_set_threads(int n) { pool().set_threads(n); }
int pool_threads() { return pool().threads(); }
bool pool_available() { return true; }
#else
void parallel_for(int n, int, const std::function<void(int, int)>& fn) { if (n > 0) fn(0, n); }
void pool_set_threads(int) {}
int pool_threads() { return 1; }
bool pool_available() { return false; }
#endif

}  // namespace tunesmith
