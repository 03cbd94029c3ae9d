// Scratch directories for integration tests.
#include "support/temp_dir.hpp"

#include <stdlib.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace badges_health::test {

temp_dir::temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/badges-health-test-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  path_ = buf.data();
}

temp_dir::~temp_dir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string temp_dir::file(std::string_view name) const { return path_ + "/" + std::string(name); }

std::string temp_dir::write(std::string_view name, std::string_view content) const {
  const std::string target = file(name);
  const std::string staging = target + ".tmp";
  {
    std::ofstream out(staging, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) throw std::runtime_error("cannot write " + staging);
  }
  std::filesystem::rename(staging, target);
  return target;
}

void temp_dir::remove(std::string_view name) const {
  std::error_code ignored;
  std::filesystem::remove(file(name), ignored);
}

}  // namespace badges_health::test
