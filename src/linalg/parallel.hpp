// Many small, independent products (one per expert) run faster side by side on single-threaded
// BLAS than one after another on multi-threaded BLAS, whose threading overhead dominates skinny
// GEMMs. parallel_for runs fn(i, backend) for i in [0, n) on worker threads, each with its own
// CPU backend, with the BLAS limited to one thread meanwhile (restored afterwards).
#pragma once

#include <functional>

#include "linalg/backend.hpp"

namespace moerecal::linalg {

// Worker count: the --threads value when set (set_cpu_threads), else the hardware concurrency.
int worker_threads();

// fn must be safe to call concurrently for distinct i. The first exception thrown by any call is
// rethrown after all workers stop; remaining items are skipped.
void parallel_for(int n, const std::function<void(int, Backend&)>& fn);

}  // namespace moerecal::linalg
