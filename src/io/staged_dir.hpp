// Writing a directory atomically: everything goes into a hidden temporary sibling of the target,
// which is renamed into place only by commit(). Destroying an uncommitted StagedDir removes the
// temporary tree, so an exception leaves nothing behind; a SIGKILL leaves at most the hidden
// ".<name>.moe-recal-tmp-*" sibling and ".<name>.moe-recal-lock" (both removed by the next run),
// never a partial target. The lock (flock, held from construction to destruction) makes a second
// writer of the same target fail at once instead of racing the first.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>

namespace moerecal::io {

// An exclusive flock on `path` (created if needed) for this object's lifetime; the file is removed
// on release. Throws UsageError naming `target` when another process holds it, IoError when the
// file cannot be created (read-only or missing directory).
class TargetLock {
 public:
  TargetLock(std::filesystem::path path, const std::filesystem::path& target);
  TargetLock(const TargetLock&) = delete;
  TargetLock& operator=(const TargetLock&) = delete;
  ~TargetLock();

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

class StagedDir {
 public:
  // Throws UsageError when `target` exists and !overwrite or another run is writing it; IoError
  // when the lock or the temp dir cannot be created. Stale temporaries of earlier killed runs for
  // the same target are removed first (under the lock, so never a live run's).
  StagedDir(std::filesystem::path target, bool overwrite);
  StagedDir(const StagedDir&) = delete;
  StagedDir& operator=(const StagedDir&) = delete;
  ~StagedDir();

  const std::filesystem::path& path() const { return tmp_; }
  const std::filesystem::path& target() const { return target_; }

  // fsyncs every file and directory in the temporary tree, then renames it over the target
  // (an existing target is moved aside first and removed after). Throws IoError.
  void commit();

 private:
  std::filesystem::path target_;
  TargetLock lock_;
  std::filesystem::path tmp_;
  bool overwrite_;
  bool committed_ = false;
};

// Copies the regular file `from` to `to` (created, must not exist): FICLONE reflink when the
// filesystem allows, else copy_file_range, else read/write. Throws IoError naming the files.
void copy_file_fast(const std::filesystem::path& from, const std::filesystem::path& to);

// Copies the tree under `from` into the existing directory `to`, skipping relative paths for
// which skip(rel) is true. Symlinks are copied as the files they point to.
template <class Skip>
void copy_tree(const std::filesystem::path& from, const std::filesystem::path& to, Skip skip);

// Overwrites `data.size()` bytes at `offset` of an existing file. Throws IoError.
void patch_file(const std::filesystem::path& file, std::uint64_t offset,
                std::span<const std::byte> data);

// Writes a whole small file (created or truncated). Throws IoError.
void write_file(const std::filesystem::path& file, std::string_view content);

template <class Skip>
void copy_tree(const std::filesystem::path& from, const std::filesystem::path& to, Skip skip) {
  namespace fs = std::filesystem;
  for (auto it = fs::recursive_directory_iterator(from); it != fs::recursive_directory_iterator();
       ++it) {
    const fs::path rel = fs::relative(it->path(), from);
    if (skip(rel)) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory()) {
      fs::create_directories(to / rel);
    } else if (it->is_regular_file()) {
      copy_file_fast(it->path(), to / rel);
    }
  }
}

}  // namespace moerecal::io
