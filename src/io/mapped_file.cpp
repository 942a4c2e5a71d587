#include "io/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "core/error.hpp"

namespace moerecal::io {
namespace {

[[noreturn]] void fail(const std::filesystem::path& p, const char* what) {
  throw FormatError(p.string() + ": " + what + ": " + std::strerror(errno));
}

// Reads `size` bytes of fd into `out`; closes fd and throws on failure.
void read_all(int fd, const std::filesystem::path& path, std::byte* out, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, out + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      fail(path, "read failed");
    }
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

MappedFile MappedFile::open(const std::filesystem::path& path, bool allow_mmap) {
  MappedFile f;
  f.path_ = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, "cannot open");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    fail(path, "cannot stat");
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw FormatError(path.string() + ": not a regular file");
  }
  f.size_ = static_cast<std::size_t>(st.st_size);
  if (f.size_ == 0) {
    ::close(fd);
    return f;
  }
  if (allow_mmap) {
    void* p = ::mmap(nullptr, f.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED) {
      f.data_ = static_cast<const std::byte*>(p);
      f.mapped_ = true;
      ::close(fd);
      return f;
    }
  }
  f.heap_ = std::make_unique<std::byte[]>(f.size_);
  read_all(fd, path, f.heap_.get(), f.size_);
  ::close(fd);
  f.data_ = f.heap_.get();
  return f;
}

MappedFile::MappedFile(MappedFile&& o) noexcept { *this = std::move(o); }

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    release();
    path_ = std::move(o.path_);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    mapped_ = std::exchange(o.mapped_, false);
    heap_ = std::move(o.heap_);
  }
  return *this;
}

MappedFile::~MappedFile() { release(); }

void MappedFile::release() noexcept {
  if (mapped_ && data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
  data_ = nullptr;
  mapped_ = false;
  heap_.reset();
}

void MappedFile::drop(std::size_t offset, std::size_t len) const noexcept {
  if (!mapped_ || len == 0) return;
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  // Outward to whole pages plus the kernel's fault-around window (it maps up to 64 KiB of
  // neighbouring cached pages on a read fault); the mapping is read-only and private, so a page
  // dropped needlessly just faults in again.
  constexpr std::size_t kFaultAround = 256 * 1024;
  const std::size_t lo = offset > kFaultAround ? offset - kFaultAround : 0;
  const std::size_t begin = lo / page * page;
  const std::size_t end = std::min(size_, offset + len + kFaultAround + page - 1) / page * page;
  if (end > begin) {
    ::madvise(const_cast<std::byte*>(data_) + begin, end - begin, MADV_DONTNEED);
  }
}

}  // namespace moerecal::io
