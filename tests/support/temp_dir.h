// A temporary directory for one test, removed with its contents on destruction.
//
// Directories are created under /tmp as "<prefix>.XXXXXX". Set
// SHORTCUT_KEEP_TMP=1 to keep them for debugging. Not thread-safe.
#pragma once

#include <string>

namespace shortcut::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "shortcut-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Writes `contents` to `path`, replacing it. Aborts the test binary on failure.
void WriteFile(const std::string& path, const std::string& contents);
std::string ReadFile(const std::string& path);

}  // namespace shortcut::testing
