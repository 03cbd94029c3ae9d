// Finding the passwords in a libpq connection string, to hide them. The
// scan follows libpq's own grammar (URI user info and query parameters,
// key=value pairs with quoting) and errs on the side of hiding more.
#include "badges_health/health/postgres_conninfo.hpp"

#include "libpq_loader.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace badges_health::health {
namespace {

constexpr std::string_view mask = "****";

/// [begin, end) byte ranges of a connection string that hold a password.
using spans = std::vector<std::pair<std::size_t, std::size_t>>;

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::optional<std::size_t> uri_prefix(std::string_view s) {
  for (std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (s.substr(0, scheme.size()) == scheme) return scheme.size();
  }
  return std::nullopt;
}

spans uri_password_spans(std::string_view s, std::size_t begin) {
  spans out;
  const std::size_t query = std::min(s.find('?', begin), s.size());
  // libpq ends the user info at the first '@'; the last one before the
  // query hides more when a password holds an unencoded '@' or '/'.
  const std::size_t at = s.rfind('@', query == 0 ? 0 : query - 1);
  if (at != std::string_view::npos && at >= begin) {
    const std::size_t colon = s.find(':', begin);
    if (colon < at) out.emplace_back(colon + 1, at);
  }
  std::size_t p = query;
  while (p < s.size()) {
    const std::size_t start = p + 1;
    const std::size_t end = std::min(s.find('&', start), s.size());
    const std::string_view param = s.substr(start, end - start);
    if (param.substr(0, 9) == "password=") out.emplace_back(start + 9, end);
    p = end;
  }
  return out;
}

spans keyword_password_spans(std::string_view s) {
  spans out;
  std::size_t p = 0;
  const auto skip_spaces = [&] {
    while (p < s.size() && is_space(s[p])) ++p;
  };
  const auto give_up = [&] {
    // Unparseable from here: hide the rest if it mentions a password.
    if (const auto pw = s.find("password", p); pw != std::string_view::npos) {
      out.emplace_back(pw, s.size());
    }
  };
  for (;;) {
    skip_spaces();
    if (p >= s.size()) return out;
    const std::size_t key_begin = p;
    while (p < s.size() && s[p] != '=' && !is_space(s[p])) ++p;
    const std::string_view key = s.substr(key_begin, p - key_begin);
    skip_spaces();
    if (p >= s.size() || s[p] != '=') {
      p = key_begin;
      give_up();
      return out;
    }
    ++p;
    skip_spaces();
    const std::size_t value_begin = p;
    if (p < s.size() && s[p] == '\'') {
      ++p;
      while (p < s.size() && s[p] != '\'') p += s[p] == '\\' ? 2 : 1;
      if (p >= s.size()) {
        if (key == "password") {
          out.emplace_back(value_begin, s.size());
        } else {
          p = value_begin;
          give_up();
        }
        return out;
      }
      ++p;
    } else {
      while (p < s.size() && !is_space(s[p])) p += s[p] == '\\' ? 2 : 1;
      p = std::min(p, s.size());
    }
    if (key == "password") out.emplace_back(value_begin, p);
  }
}

spans password_spans(std::string_view s) {
  if (const auto begin = uri_prefix(s)) return uri_password_spans(s, *begin);
  return keyword_password_spans(s);
}

void replace_all(std::string& text, std::string_view secret) {
  if (secret.empty()) return;
  for (auto p = text.find(secret); p != std::string::npos; p = text.find(secret, p + mask.size())) {
    text.replace(p, secret.size(), mask);
  }
}

/// The password as libpq decodes it (percent-decoded, unquoted), if any.
std::optional<std::string> decoded_password(const std::string& conninfo) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> options(
      PQconninfoParse(conninfo.c_str(), &error), &PQconninfoFree);
  PQfreemem(error);
  if (!options) return std::nullopt;
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "password" && o->val != nullptr) return o->val;
  }
  return std::nullopt;
}

}  // namespace

std::string redact_conninfo(std::string_view conninfo) {
  std::string out(conninfo);
  spans found = password_spans(conninfo);
  // Right to left, so earlier offsets stay valid.
  std::sort(found.begin(), found.end());
  for (auto it = found.rbegin(); it != found.rend(); ++it) {
    out.replace(it->first, it->second - it->first, mask);
  }
  return out;
}

std::string redact_passwords(std::string_view text, std::string_view conninfo) {
  std::string out(text);
  std::vector<std::string> secrets;
  for (const auto& [begin, end] : password_spans(conninfo)) {
    secrets.emplace_back(conninfo.substr(begin, end - begin));
  }
  if (auto decoded = decoded_password(std::string(conninfo))) secrets.push_back(*decoded);
  // Longest first, so a password that contains another is hidden whole.
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& secret : secrets) replace_all(out, secret);
  return out;
}

boost::system::result<void, std::string> check_conninfo(const std::string& conninfo) {
  // A postgres check is configured: this is where libpq is first needed.
  if (auto loaded = load_libpq(); !loaded) return loaded.error();
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options != nullptr) {
    PQconninfoFree(options);
    return {};
  }
  std::string message = error != nullptr ? error : "out of memory";
  PQfreemem(error);
  while (!message.empty() && is_space(message.back())) message.pop_back();
  return redact_passwords(message, conninfo);
}

}  // namespace badges_health::health
