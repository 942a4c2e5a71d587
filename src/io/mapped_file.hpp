// A whole file held read-only in memory: mmap(PROT_READ, MAP_PRIVATE) when the kernel allows it,
// otherwise read() into a heap buffer. The file is never opened for writing.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>

namespace moerecal::io {

class MappedFile {
 public:
  // Opens `path` read-only. Throws FormatError naming the path when it cannot be opened or read.
  // `allow_mmap=false` forces the read() fallback (tests use it).
  static MappedFile open(const std::filesystem::path& path, bool allow_mmap = true);

  MappedFile(MappedFile&&) noexcept;
  MappedFile& operator=(MappedFile&&) noexcept;
  ~MappedFile();

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  std::size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }
  bool is_mapped() const { return mapped_; }
  // Releases the resident pages of [offset, offset+len) from this process (they stay in the page
  // cache), so streaming through a large file keeps RSS flat. No-op for the read() fallback.
  void drop(std::size_t offset, std::size_t len) const noexcept;

 private:
  MappedFile() = default;
  void release() noexcept;

  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  bool mapped_ = false;
  std::unique_ptr<std::byte[]> heap_;
};

}  // namespace moerecal::io
