#include "lineage/output_checkpoint.hpp"

#include <exception>
#include <thread>

#include "core/error.hpp"
#include "io/staged_dir.hpp"
#include "lineage/changelog.hpp"
#include "lineage/router_file.hpp"

namespace moerecal::lineage {
namespace fs = std::filesystem;
namespace {

void refuse_overlap(const fs::path& in, const fs::path& out) {
  const fs::path a = fs::weakly_canonical(in), b = fs::weakly_canonical(out);
  const auto [ai, bi] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  if (ai == a.end()) {
    throw UsageError(out.string() + ": output must not be the input checkpoint or inside it (" +
                     in.string() + ")");
  }
}

void patch_routers(const model::MoeModel& m, const fs::path& staged, const RouterPayloads& rep) {
  for (const auto& [name, bytes] : rep) {
    const io::TensorRef r = m.ckpt.get(name);
    MR_ASSERT(bytes.size() == r.info->nbytes());
    const fs::path dest = staged / fs::relative(r.file->path(), m.ckpt.dir());
    io::patch_file(dest, r.file->file_offset(*r.info), bytes);
  }
}

void verify(const fs::path& staged, const std::string& expected_id) {
  const model::MoeModel written = model::MoeModel::open(staged);
  const std::string id = router_id(written);
  if (id != expected_id) {
    throw IoError(staged.string() + ": verification failed: router id " + id + " (expected " +
                  expected_id + ")");
  }
}

}  // namespace

struct OutputWriter::Impl {
  const model::MoeModel& m;
  io::StagedDir staged;
  std::thread copier;
  std::exception_ptr copy_error;

  Impl(const model::MoeModel& src, fs::path out, bool force)
      : m(src), staged((refuse_overlap(src.ckpt.dir(), out), std::move(out)), force) {
    copier = std::thread([this] {
      try {
        io::copy_tree(m.ckpt.dir(), staged.path(), [](const fs::path& rel) {
          const std::string s = rel.string();
          return s == "router-changelog.json" || s == "ROUTER_CHANGELOG.md";
        });
      } catch (...) {
        copy_error = std::current_exception();
      }
    });
  }
  ~Impl() {
    if (copier.joinable()) copier.join();
  }
  void wait_copy() {
    copier.join();
    if (copy_error) std::rethrow_exception(copy_error);
  }
};

OutputWriter::OutputWriter(const model::MoeModel& source, fs::path out, bool force)
    : impl_(std::make_unique<Impl>(source, std::move(out), force)) {}

OutputWriter::~OutputWriter() = default;

OutputResult OutputWriter::finish(const RouterPayloads& new_routers, nlohmann::json entry,
                                  const std::map<std::string, std::string>& extra_files) {
  const model::MoeModel& m = impl_->m;
  const fs::path& dir = impl_->staged.path();
  nlohmann::json entries = read_changelog_entries(m.ckpt.dir());
  const int parent_version = router_version(m.ckpt.dir());
  const std::string parent_id = router_id(m);
  OutputResult res{parent_version + 1, router_id(m, new_routers), {}};
  impl_->wait_copy();
  patch_routers(m, dir, new_routers);
  fs::create_directories(dir / "routers");
  const std::string v0 = "router-v" + std::to_string(parent_version) + ".safetensors";
  if (!fs::exists(dir / "routers" / v0)) {
    write_router_file(m, dir / "routers" / v0, parent_version, parent_id, {});
  }
  res.router_file =
      fs::path("routers") / ("router-v" + std::to_string(res.version) + ".safetensors");
  write_router_file(m, dir / res.router_file, res.version, res.router_id, new_routers);
  entry["version"] = res.version;
  entry["router_id"] = res.router_id;
  entry["parent"] = {{"version", parent_version}, {"router_id", parent_id}};
  entry["router_file"] = res.router_file.string();
  entries.push_back(entry);
  const nlohmann::json log = {{"schema_version", 1}, {"entries", entries}};
  io::write_file(dir / "router-changelog.json", log.dump(2) + "\n");
  io::write_file(dir / "ROUTER_CHANGELOG.md", changelog_markdown(entries));
  for (const auto& [name, text] : extra_files) io::write_file(dir / name, text);
  verify(dir, res.router_id);
  impl_->staged.commit();
  return res;
}

}  // namespace moerecal::lineage
