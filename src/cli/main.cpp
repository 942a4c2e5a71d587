#include <malloc.h>

#include <csignal>

#include "cli/app.hpp"

int main(int argc, char** argv) {
  // Layer-wise streaming allocates and frees one layer's f32 weights per layer. With glibc's
  // defaults those buffers go back to the kernel on free and every layer pays page faults and
  // zeroing again (measured: 2.5x slower). Keep freed memory for reuse instead; peak RSS stays
  // one layer's working set.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_ARENA_MAX, 4);
  // Past a file size limit (ulimit -f, RLIMIT_FSIZE) the kernel kills the writer with SIGXFSZ,
  // leaving its temporary output behind; ignored, write() fails with EFBIG instead, which ends
  // in a clean exit 3 that removes the temporary output.
  std::signal(SIGXFSZ, SIG_IGN);
  return moerecal::cli::run_main(argc, argv);
}
