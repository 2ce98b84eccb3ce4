// A small fork-join pool for the kernels: parallel_for splits [0, n) into contiguous ranges, runs
// the first on the calling thread and the rest on workers, and returns when all are done.
// Without TS_THREADS (the single-thread wasm build) it simply runs the function inline.
#pragma once
#include <functional>

namespace tunesmith {

// fn(begin, end) over disjoint ranges covering [0, n); `grain` is the smallest range worth a
// thread (ranges are multiples of it except the last).
void parallel_for(int n, int grain, const std::function<void(int, int)>& fn);
void pool_set_threads(int n);  // 1..8; workers start lazily
int pool_threads();
bool pool_available();

}  // namespace tunesmith
