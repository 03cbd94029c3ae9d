// Protobuf varints and fields for the two health messages, by hand: they
// are one field each, and a protobuf runtime for them would weigh more
// than the whole service.
#include "badges_health/util/grpc_wire.hpp"

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

}  // namespace

boost::system::result<std::string, call_error> decode_check_request(std::string_view body) {
  if (body.size() < prefix_bytes) return call_error{status_code::internal, "incomplete message"};
  if (body[0] != 0) {
    return call_error{status_code::unimplemented, "compressed messages are not supported"};
  }
  const auto b = [&body](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<std::uint8_t>(body[i]));
  };
  const std::uint32_t length = b(1) << 24 | b(2) << 16 | b(3) << 8 | b(4);
  if (length != body.size() - prefix_bytes) {
    return call_error{status_code::internal, "expected exactly one request message"};
  }
  reader r(body.substr(prefix_bytes));
  std::string service;
  while (!r.done()) {
    const auto key = r.varint();
    if (!key || *key >> 3 == 0) return malformed();
    const auto field = *key >> 3;
    const auto wire = static_cast<std::uint8_t>(*key & 7);
    std::optional<std::string_view> skipped;
    switch (wire) {
      case wire_varint:
        if (!r.varint()) return malformed();
        break;
      case wire_fixed64:
        skipped = r.bytes(8);
        if (!skipped) return malformed();
        break;
      case wire_fixed32:
        skipped = r.bytes(4);
        if (!skipped) return malformed();
        break;
      case wire_length_delimited: {
        const auto n = r.varint();
        const auto value = n ? r.bytes(*n) : std::nullopt;
        if (!value) return malformed();
        // The last occurrence of a field wins, as in every protobuf parser.
        if (field == 1) service.assign(*value);
        break;
      }
      default:
        return malformed();  // groups (3, 4) are not in this message
    }
    if (field == 1 && wire != wire_length_delimited) return malformed();
  }
  return service;
}

std::string encode_check_response(serving_status s) {
  const auto value = static_cast<char>(s);
  // proto3 leaves a field at its default (UNKNOWN, 0) out of the message.
  if (s == serving_status::unknown) return std::string(prefix_bytes, '\0');
  return std::string{'\0', '\0', '\0', '\0', '\2', '\x08', value};
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

}  // namespace badges_health::util::grpc
