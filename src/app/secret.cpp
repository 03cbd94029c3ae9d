// Secret files: read whole, one line, never quoted in a message.
#include "badges_health/app/secret.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace badges_health::app {
namespace {

constexpr std::size_t max_secret_bytes = 64 * 1024;

std::shared_ptr<const std::string> make_value(std::string v) {
  return std::make_shared<const std::string>(std::move(v));
}

}  // namespace

void throw_exception_from_error(const secret_error& e, const boost::source_location&) {
  throw std::runtime_error(e.message);
}

boost::system::result<std::string, secret_error> read_secret_file(const std::string& path,
                                                                  std::string_view variable) {
  const std::string where = std::string(variable) + "=" + path;
  if (path.empty()) return secret_error{std::string(variable) + ": must not be empty"};
  std::ifstream in(path, std::ios::binary);
  if (!in) return secret_error{where + ": cannot read: " + std::strerror(errno)};
  std::string content(max_secret_bytes + 1, '\0');
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  if (in.bad()) return secret_error{where + ": cannot read: " + std::strerror(errno)};
  content.resize(static_cast<std::size_t>(in.gcount()));
  if (content.size() > max_secret_bytes) return secret_error{where + ": larger than 64 KiB"};
  // `echo token > file` and most editors end the file with a line break;
  // Kubernetes secrets usually do not. Both mean the same token.
  while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) {
    content.pop_back();
  }
  if (content.empty()) return secret_error{where + ": the file is empty"};
  if (content.find_first_of(std::string_view("\n\r\0", 3)) != std::string::npos) {
    return secret_error{where + ": must hold one line"};
  }
  // Spelled out: secret_error is constructible from a string too.
  return {boost::system::in_place_value, std::move(content)};
}

secret::secret() : secret(std::string()) {}

secret::secret(std::string value) : state_(std::make_shared<state>()) {
  state_->store(make_value(std::move(value)));
}

secret::secret(const char* value) : secret(std::string(value)) {}

boost::system::result<secret, secret_error> secret::from_file(const std::string& path,
                                                              std::string variable) {
  auto content = read_secret_file(path, variable);
  if (!content) return content.error();
  auto s = std::make_shared<state>();
  s->store(make_value(std::move(*content)));
  s->file = path;
  s->variable = std::move(variable);
  return secret(std::move(s));
}

std::shared_ptr<const std::string> secret::value() const { return state_->load(); }

boost::system::result<bool, secret_error> secret::reload() const {
  if (state_->file.empty()) return false;
  auto content = read_secret_file(state_->file, state_->variable);
  if (!content) return content.error();
  if (*content == *value()) return false;
  state_->store(make_value(std::move(*content)));
  return true;
}

}  // namespace badges_health::app
