// libpq connection strings (URI `postgresql://user:pw@host/db` or
// key=value `host=h password=pw`): validation, and the one way a
// connection string or a libpq message about it may be shown, with every
// password replaced by ****.
#pragma once

#include <boost/system/result.hpp>
#include <string>
#include <string_view>

namespace badges_health::health {

/// `conninfo` with the password of the URI's user info, a `password=`
/// query parameter or a `password=` keyword replaced by ****. A string
/// that cannot be parsed is cut off at the first "password" it contains.
std::string redact_conninfo(std::string_view conninfo);

/// `text` (a libpq message, say) with every password written in
/// `conninfo`, as written and as libpq decodes it, replaced by ****.
std::string redact_passwords(std::string_view text, std::string_view conninfo);

/// Whether libpq accepts `conninfo`; the error is libpq's reason,
/// redacted (or why libpq cannot be loaded).
boost::system::result<void, std::string> check_conninfo(const std::string& conninfo);

}  // namespace badges_health::health
