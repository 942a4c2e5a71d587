// The OpenBLAS backend (always built; the oracle the other backends are tested against).
#pragma once

#include <memory>

#include "linalg/backend.hpp"

namespace moerecal::linalg {

std::unique_ptr<Backend> make_cpu_backend();

}  // namespace moerecal::linalg
