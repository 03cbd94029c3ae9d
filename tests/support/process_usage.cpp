// Reading a process's memory, CPU time and descriptors from /proc.
#include "support/process_usage.hpp"

#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace badges_health::test {

namespace {

std::string proc_path(pid_t pid, const char* entry) {
  return "/proc/" + std::to_string(pid) + "/" + entry;
}

}  // namespace

std::size_t resident_kib(pid_t pid) {
  std::ifstream in(proc_path(pid, "status"));
  std::string line;
  while (std::getline(in, line)) {
    // "VmRSS:	    5124 kB"
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6));
  }
  throw std::runtime_error("no VmRSS in " + proc_path(pid, "status"));
}

std::chrono::duration<double> cpu_time(pid_t pid) {
  std::ifstream in(proc_path(pid, "stat"));
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) is in parentheses and may hold spaces; the
  // fields after it start with the state (field 3). utime and stime are
  // fields 14 and 15.
  const auto name_end = stat.rfind(')');
  if (name_end == std::string::npos) {
    throw std::runtime_error("cannot parse " + proc_path(pid, "stat"));
  }
  std::istringstream fields(stat.substr(name_end + 1));
  std::vector<std::string> after_name;
  for (std::string f; after_name.size() < 13 && fields >> f;) after_name.push_back(f);
  if (after_name.size() < 13) throw std::runtime_error("short " + proc_path(pid, "stat"));
  const double ticks = std::stod(after_name[11]) + std::stod(after_name[12]);
  return std::chrono::duration<double>(ticks / static_cast<double>(::sysconf(_SC_CLK_TCK)));
}

std::size_t open_descriptors(pid_t pid) {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator(proc_path(pid, "fd"))) {
    ++count;
  }
  return count;
}

int lowest_free_descriptor(pid_t pid) {
  std::set<int> used;
  for (const auto& entry : std::filesystem::directory_iterator(proc_path(pid, "fd"))) {
    used.insert(std::stoi(entry.path().filename().string()));
  }
  int lowest = 0;
  while (used.count(lowest) != 0) ++lowest;
  return lowest;
}

void limit_descriptors(pid_t pid, rlim_t limit) {
  const rlimit wanted{limit, limit};
  if (::prlimit(pid, RLIMIT_NOFILE, &wanted, nullptr) != 0) {
    throw std::system_error(errno, std::generic_category(), "prlimit RLIMIT_NOFILE");
  }
}

rlimit descriptor_limit(pid_t pid) {
  rlimit current{};
  if (::prlimit(pid, RLIMIT_NOFILE, nullptr, &current) != 0) {
    throw std::system_error(errno, std::generic_category(), "prlimit RLIMIT_NOFILE");
  }
  return current;
}

}  // namespace badges_health::test
