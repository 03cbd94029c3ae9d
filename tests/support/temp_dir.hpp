// Test support: a private scratch directory (mkdtemp) for checks files and
// the files that file checks look at; removed with everything in it when
// the test ends.
#pragma once

#include <string>
#include <string_view>

namespace badges_health::test {

class temp_dir {
 public:
  /// Creates a fresh directory under $TMPDIR (or /tmp). Throws on failure.
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const noexcept { return path_; }
  /// The full path of `name` inside the directory (which may not exist).
  std::string file(std::string_view name) const;
  /// Writes `content` to `name` atomically (write then rename, so a reload
  /// never sees half a file) and returns its full path.
  std::string write(std::string_view name, std::string_view content) const;
  /// Removes `name` if it exists.
  void remove(std::string_view name) const;

 private:
  std::string path_;
};

}  // namespace badges_health::test
