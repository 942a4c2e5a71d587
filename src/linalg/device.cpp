// Device choice: which backend a --device value gives in this build.
#include "core/error.hpp"
#include "linalg/backend.hpp"
#include "linalg/backend_cpu.hpp"

namespace moerecal::linalg {

std::optional<Device> parse_device(std::string_view s) {
  if (s == "auto") return Device::kAuto;
  if (s == "cpu") return Device::kCpu;
  if (s == "cuda") return Device::kCuda;
  return std::nullopt;
}

// This version builds the CPU backend only: a cuBLAS backend is written only together with the
// tests that run it on a GPU (see README), so kAuto is the CPU and kCuda is refused.
std::unique_ptr<Backend> make_backend(Device device) {
  if (device == Device::kCuda) {
    throw UsageError(
        "this binary has no cuBLAS backend: this version of moe-recal builds the CPU (OpenBLAS) "
        "backend only (CMake option MOE_RECAL_CUDA); run on the CPU (auto or cpu)");
  }
  return make_cpu_backend();
}

std::string cuda_info() { return "not built (CPU backend only)"; }

}  // namespace moerecal::linalg
