#include "io/staged_dir.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <string>

#include "core/error.hpp"

namespace moerecal::io {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void io_fail(const fs::path& p, const std::string& what) {
  const int err = errno;
  const char* hint = err == EFBIG ? " (the file size limit, ulimit -f, was reached)"
                     : err == ENOSPC || err == EDQUOT ? " (the disk or quota is full)"
                     : err == EACCES || err == EROFS  ? " (the output's directory must be writable)"
                                                      : "";
  throw IoError(p.string() + ": " + what + ": " + std::strerror(err) + hint);
}

fs::path parent_of(const fs::path& target) {
  return target.parent_path().empty() ? fs::path(".") : target.parent_path();
}

fs::path lock_path(const fs::path& target) {
  std::string s = target.filename().string();
  s.insert(s.begin(), '.');
  return parent_of(target) / s.append(".moe-recal-lock");
}

std::string tmp_prefix(const fs::path& target) {
  std::string s = target.filename().string();
  s.insert(s.begin(), '.');  // (operator+ on a literal trips GCC 12's -Wrestrict false positive)
  return s.append(".moe-recal-tmp-");
}

void remove_stale(const fs::path& target) {
  std::error_code ec;
  const fs::path parent = parent_of(target);
  for (const auto& e : fs::directory_iterator(parent, ec)) {
    if (e.path().filename().string().rfind(tmp_prefix(target), 0) == 0)
      fs::remove_all(e.path(), ec);
  }
}

void fsync_path(const fs::path& p, bool dir) {
  const int fd = ::open(p.c_str(), (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) io_fail(p, "cannot open to sync");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) io_fail(p, "fsync failed");
}

bool copy_range(int in, int out, std::uint64_t size) {
  std::uint64_t done = 0;
  while (done < size) {
    const ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, size - done, 0);
    if (n < 0) return done == 0 ? false : (errno = EIO, false);
    if (n == 0) break;
    done += static_cast<std::uint64_t>(n);
  }
  return done == size;
}

void copy_read_write(int in, int out, const fs::path& from, const fs::path& to) {
  std::string buf(1 << 20, '\0');
  ::lseek(in, 0, SEEK_SET);
  ::lseek(out, 0, SEEK_SET);
  for (;;) {
    const ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0) io_fail(from, "read failed");
    if (n == 0) return;
    for (ssize_t off = 0; off < n;) {
      const ssize_t w = ::write(out, buf.data() + off, static_cast<std::size_t>(n - off));
      if (w < 0) io_fail(to, "write failed");
      off += w;
    }
  }
}

}  // namespace

TargetLock::TargetLock(fs::path path, const fs::path& target) : path_(std::move(path)) {
  std::error_code ec;
  fs::create_directories(path_.parent_path(), ec);
  for (;;) {  // a lock file unlinked by its holder between our open and flock is retried
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) io_fail(path_.parent_path(), "cannot create the lock file for " + target.string());
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd_);
      fd_ = -1;
      if (err != EWOULDBLOCK) io_fail(path_, "cannot lock");
      throw UsageError(target.string() + ": another moe-recal run is writing this output (" +
                       path_.string() + " is locked); wait for it or choose another -o");
    }
    struct stat held = {}, named = {};
    if (::fstat(fd_, &held) == 0 && ::stat(path_.c_str(), &named) == 0 &&
        held.st_ino == named.st_ino && held.st_dev == named.st_dev) {
      return;
    }
    ::close(fd_);
  }
}

TargetLock::~TargetLock() {
  if (fd_ < 0) return;
  ::unlink(path_.c_str());  // while still held, so a waiting opener sees a new inode
  ::close(fd_);
}

StagedDir::StagedDir(fs::path target, bool overwrite)
    : target_(std::move(target)), lock_(lock_path(target_), target_), overwrite_(overwrite) {
  if (fs::exists(target_) && !overwrite_) {
    throw UsageError(target_.string() + ": output already exists (use --force to replace it)");
  }
  remove_stale(target_);
  std::random_device rd;
  tmp_ = target_.parent_path() /
         (tmp_prefix(target_) + std::to_string(::getpid()) + "-" + std::to_string(rd() & 0xffffff));
  if (::mkdir(tmp_.c_str(), 0755) != 0) io_fail(tmp_, "cannot create temporary output directory");
}

StagedDir::~StagedDir() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(tmp_, ec);
}

void StagedDir::commit() {
  for (const auto& e : fs::recursive_directory_iterator(tmp_)) {
    if (e.is_regular_file()) fsync_path(e.path(), false);
  }
  for (const auto& e : fs::recursive_directory_iterator(tmp_)) {
    if (e.is_directory()) fsync_path(e.path(), true);
  }
  fsync_path(tmp_, true);
  fs::path aside;
  if (fs::exists(target_)) {
    if (!overwrite_) throw UsageError(target_.string() + ": output appeared while writing");
    aside = tmp_.string() + "-old";
    if (::rename(target_.c_str(), aside.c_str()) != 0) io_fail(target_, "cannot move aside");
  }
  if (::rename(tmp_.c_str(), target_.c_str()) != 0) io_fail(target_, "cannot rename into place");
  committed_ = true;
  fsync_path(parent_of(target_), true);
  std::error_code ec;
  if (!aside.empty()) fs::remove_all(aside, ec);
}

void copy_file_fast(const fs::path& from, const fs::path& to) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) io_fail(from, "cannot open for reading");
  struct stat st {};
  ::fstat(in, &st);
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out < 0) {
    ::close(in);
    io_fail(to, "cannot create");
  }
  bool ok = ::ioctl(out, FICLONE, in) == 0;
  if (!ok) ok = copy_range(in, out, static_cast<std::uint64_t>(st.st_size));
  if (!ok) {
    if (::ftruncate(out, 0) != 0) io_fail(to, "truncate failed");
    copy_read_write(in, out, from, to);
  }
  ::close(in);
  if (::close(out) != 0) io_fail(to, "close failed");
}

void patch_file(const fs::path& file, std::uint64_t offset, std::span<const std::byte> data) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) io_fail(file, "cannot open for writing");
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n =
        ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n <= 0) {
      ::close(fd);
      io_fail(file, "write failed");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) io_fail(file, "close failed");
}

void write_file(const fs::path& file, std::string_view content) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) io_fail(file, "cannot create");
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n <= 0) {
      ::close(fd);
      io_fail(file, "write failed");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) io_fail(file, "close failed");
}

}  // namespace moerecal::io
