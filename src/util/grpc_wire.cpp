// Protobuf varints and fields for the health messages, by hand: they are
// one field each (List's answer a map of one such message), and a protobuf
// runtime for them would weigh more than the whole service.
#include "badges_health/util/grpc_wire.hpp"

#include <algorithm>
#include <array>
#include <limits>

namespace badges_health::util::grpc {
namespace {

constexpr std::size_t prefix_bytes = 5;

// Protobuf wire types.
constexpr std::uint8_t wire_varint = 0;
constexpr std::uint8_t wire_fixed64 = 1;
constexpr std::uint8_t wire_length_delimited = 2;
constexpr std::uint8_t wire_fixed32 = 5;

class reader {
 public:
  explicit reader(std::string_view in) noexcept : in_(in) {}
  bool done() const noexcept { return pos_ == in_.size(); }

  std::optional<std::uint64_t> varint() noexcept {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ == in_.size()) return std::nullopt;
      const auto byte = static_cast<std::uint8_t>(in_[pos_++]);
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return v;
    }
    return std::nullopt;  // more than ten bytes
  }

  std::optional<std::string_view> bytes(std::uint64_t n) noexcept {
    if (n > in_.size() - pos_) return std::nullopt;
    const auto out = in_.substr(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return out;
  }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

call_error malformed() { return {status_code::internal, "malformed HealthCheckRequest"}; }

std::uint32_t message_length(std::string_view body) noexcept {
  const auto b = [&body](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<std::uint8_t>(body[i]));
  };
  return b(1) << 24 | b(2) << 16 | b(3) << 8 | b(4);
}

void append_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Skips one field of wire type `wire`; false when the body ends inside it
// or the wire type is one no proto3 message uses.
bool skip_field(reader& r, std::uint8_t wire) noexcept {
  switch (wire) {
    case wire_varint:
      return r.varint().has_value();
    case wire_fixed64:
      return r.bytes(8).has_value();
    case wire_fixed32:
      return r.bytes(4).has_value();
    case wire_length_delimited: {
      const auto n = r.varint();
      return n && r.bytes(*n);
    }
    default:
      return false;  // groups (3, 4)
  }
}

// `message` with gRPC's prefix: uncompressed, its length big-endian.
std::string framed(std::string_view message) {
  const auto n = static_cast<std::uint32_t>(message.size());
  std::string out{'\0', static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                  static_cast<char>(n >> 8), static_cast<char>(n)};
  return out.append(message);
}

// The message of a request body that holds exactly one uncompressed
// length-prefixed message.
boost::system::result<std::string_view, call_error> unframe_request(std::string_view body) {
  if (body.size() < prefix_bytes) return call_error{status_code::internal, "incomplete message"};
  if (body[0] != 0) {
    return call_error{status_code::unimplemented, "compressed messages are not supported"};
  }
  if (message_length(body) != body.size() - prefix_bytes) {
    return call_error{status_code::internal, "expected exactly one request message"};
  }
  return body.substr(prefix_bytes);
}

}  // namespace

boost::system::result<std::string, call_error> decode_check_request(std::string_view body) {
  const auto message = unframe_request(body);
  if (!message) return message.error();
  reader r(*message);
  std::string service;
  while (!r.done()) {
    const auto key = r.varint();
    if (!key || *key >> 3 == 0) return malformed();
    const auto field = *key >> 3;
    const auto wire = static_cast<std::uint8_t>(*key & 7);
    if (field != 1) {
      if (!skip_field(r, wire)) return malformed();
      continue;
    }
    if (wire != wire_length_delimited) return malformed();
    const auto n = r.varint();
    const auto value = n ? r.bytes(*n) : std::nullopt;
    if (!value) return malformed();
    // The last occurrence of a field wins, as in every protobuf parser.
    service.assign(*value);
  }
  return service;
}

std::string encode_check_response(serving_status s) {
  const auto value = static_cast<char>(s);
  // proto3 leaves a field at its default (UNKNOWN, 0) out of the message.
  if (s == serving_status::unknown) return std::string(prefix_bytes, '\0');
  return std::string{'\0', '\0', '\0', '\0', '\2', '\x08', value};
}

boost::system::result<void, call_error> decode_list_request(std::string_view body) {
  const auto message = unframe_request(body);
  if (!message) return message.error();
  reader r(*message);
  while (!r.done()) {
    const auto key = r.varint();
    if (!key || *key >> 3 == 0 || !skip_field(r, static_cast<std::uint8_t>(*key & 7))) {
      return call_error{status_code::internal, "malformed HealthListRequest"};
    }
  }
  return {};
}

std::string encode_list_response(std::vector<named_status> statuses) {
  std::stable_sort(statuses.begin(), statuses.end(),
                   [](const named_status& a, const named_status& b) { return a.name < b.name; });
  statuses.erase(
      std::unique(statuses.begin(), statuses.end(),
                  [](const named_status& a, const named_status& b) { return a.name == b.name; }),
      statuses.end());
  // Each map entry is a message of its own: key (field 1, the name) and
  // value (field 2, a HealthCheckResponse), both written even when empty,
  // as protobuf writes map entries.
  std::string message;
  std::string entry;
  for (const auto& s : statuses) {
    entry.clear();
    entry.push_back('\x0a');  // key: field 1, length-delimited
    append_varint(entry, s.name.size());
    entry.append(s.name);
    entry.push_back('\x12');  // value: field 2, length-delimited
    if (s.status == serving_status::unknown) {
      entry.push_back('\0');  // UNKNOWN is proto3's default: an empty message
    } else {
      entry.append({'\x02', '\x08', static_cast<char>(s.status)});
    }
    message.push_back('\x0a');  // statuses: field 1, length-delimited
    append_varint(message, entry.size());
    message.append(entry);
  }
  return framed(message);
}

std::optional<std::chrono::nanoseconds> parse_timeout(std::string_view value) noexcept {
  using std::chrono::nanoseconds;
  if (value.size() < 2 || value.size() > 9) return std::nullopt;
  std::int64_t n = 0;
  for (const char c : value.substr(0, value.size() - 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  // Eight digits in hours is about 11,000 years; saturate rather than
  // overflow nanoseconds (292 years).
  constexpr std::int64_t max_ns = std::numeric_limits<std::int64_t>::max();
  const auto scaled = [n](std::int64_t unit_ns) {
    return nanoseconds(n > max_ns / unit_ns ? max_ns : n * unit_ns);
  };
  switch (value.back()) {
    case 'H':
      return scaled(3'600'000'000'000);
    case 'M':
      return scaled(60'000'000'000);
    case 'S':
      return scaled(1'000'000'000);
    case 'm':
      return scaled(1'000'000);
    case 'u':
      return scaled(1'000);
    case 'n':
      return nanoseconds(n);
    default:
      return std::nullopt;
  }
}

bool is_grpc_content_type(std::string_view content_type) noexcept {
  constexpr std::string_view grpc = "application/grpc";
  if (content_type.substr(0, grpc.size()) != grpc) return false;
  return content_type.size() == grpc.size() || content_type[grpc.size()] == '+' ||
         content_type[grpc.size()] == ';';
}

std::string_view to_text(status_code c) noexcept {
  switch (c) {
    case status_code::ok:
      return "0";
    case status_code::deadline_exceeded:
      return "4";
    case status_code::not_found:
      return "5";
    case status_code::resource_exhausted:
      return "8";
    case status_code::unimplemented:
      return "12";
    case status_code::internal:
      return "13";
    case status_code::unavailable:
      return "14";
  }
  return "2";  // UNKNOWN
}

std::string encode_check_request(std::string_view service) {
  std::string message;
  if (!service.empty()) {
    message.push_back('\x0a');  // field 1, length-delimited
    append_varint(message, service.size());
    message.append(service);
  }
  return framed(message);
}

boost::system::result<serving_status, std::string> decode_check_response(std::string_view body) {
  if (body.empty()) return std::string("no response message");
  if (body.size() < prefix_bytes) return std::string("incomplete response message");
  if (body[0] != 0) return std::string("compressed response message");
  if (message_length(body) != body.size() - prefix_bytes) {
    return std::string("expected exactly one response message");
  }
  reader r(body.substr(prefix_bytes));
  std::uint64_t status = 0;  // proto3: an absent field is UNKNOWN
  while (!r.done()) {
    const auto key = r.varint();
    if (!key || *key >> 3 == 0) return std::string("malformed HealthCheckResponse");
    const auto wire = static_cast<std::uint8_t>(*key & 7);
    if (*key >> 3 != 1) {
      if (!skip_field(r, wire)) return std::string("malformed HealthCheckResponse");
      continue;
    }
    const auto v = wire == wire_varint ? r.varint() : std::nullopt;
    if (!v) return std::string("malformed HealthCheckResponse");
    status = *v;
  }
  if (status > static_cast<std::uint64_t>(serving_status::service_unknown)) {
    return "unknown serving status " + std::to_string(status);
  }
  return static_cast<serving_status>(status);
}

std::string format_timeout(std::chrono::nanoseconds timeout) {
  constexpr std::int64_t max_digits = 99'999'999;
  struct unit {
    std::int64_t ns;
    char letter;
  };
  constexpr std::array<unit, 6> units{{{1, 'n'},
                                       {1'000, 'u'},
                                       {1'000'000, 'm'},
                                       {1'000'000'000, 'S'},
                                       {60'000'000'000, 'M'},
                                       {3'600'000'000'000, 'H'}}};
  const std::int64_t ns = std::max<std::int64_t>(timeout.count(), 0);
  for (const auto& u : units) {
    const std::int64_t n = ns / u.ns + (ns % u.ns != 0 ? 1 : 0);
    if (n <= max_digits) return std::to_string(n) + u.letter;
  }
  return std::to_string(max_digits) + 'H';
}

std::string status_name(std::uint64_t code) {
  static constexpr std::array<std::string_view, 17> names = {"OK",
                                                             "CANCELLED",
                                                             "UNKNOWN",
                                                             "INVALID_ARGUMENT",
                                                             "DEADLINE_EXCEEDED",
                                                             "NOT_FOUND",
                                                             "ALREADY_EXISTS",
                                                             "PERMISSION_DENIED",
                                                             "RESOURCE_EXHAUSTED",
                                                             "FAILED_PRECONDITION",
                                                             "ABORTED",
                                                             "OUT_OF_RANGE",
                                                             "UNIMPLEMENTED",
                                                             "INTERNAL",
                                                             "UNAVAILABLE",
                                                             "DATA_LOSS",
                                                             "UNAUTHENTICATED"};
  if (code < names.size()) return std::string(names[code]);
  return "code " + std::to_string(code);
}

std::string decode_grpc_message(std::string_view text) {
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int hi = hex(text[i + 1]);
      const int lo = hex(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

}  // namespace badges_health::util::grpc
