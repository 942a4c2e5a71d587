// Error types shared by every module. The library throws; only src/cli catches and maps an error
// to an exit code (see exit_code_for). MR_ASSERT is for internal invariants, never for user input.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace moerecal {

// Base of every error moe-recal throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Malformed or unsupported input (checkpoint, index, config, data file). Exit code 2.
class FormatError : public Error {
 public:
  using Error::Error;
};

// A tensor whose shape contradicts the config or another tensor. Exit code 2.
class ShapeError : public FormatError {
 public:
  using FormatError::FormatError;
};

// Bad invocation: unknown option value, conflicting options, refused overwrite. Exit code 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

// Runtime failure outside the user's input: I/O error, disk full. Exit code 3.
class IoError : public Error {
 public:
  using Error::Error;
};

// Compute backend failure (BLAS/LAPACK info codes, CUDA status). Exit code 3.
class BackendError : public Error {
 public:
  using Error::Error;
};

// Exit codes of the command-line tool (DESIGN.md §2).
inline constexpr int kExitOk = 0;
inline constexpr int kExitGateFailed = 1;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitRuntime = 3;

// Joins collected problems one per line (at most `limit`, then a count of the rest).
std::string join_problems(const std::vector<std::string>& problems, std::size_t limit = 20);

// Maps an exception to the documented exit code. Never throws.
int exit_code_for(const std::exception& e) noexcept;

[[noreturn]] void assert_fail(const char* expr, const char* file, int line);

}  // namespace moerecal

#define MR_ASSERT(cond) \
  ((cond) ? static_cast<void>(0) : ::moerecal::assert_fail(#cond, __FILE__, __LINE__))
