// --help, `probe --help` and docs/configuration.md, written from the flag
// tables. Help text is wrapped to help_width columns; each flag's name has
// a line of its own, so no description can run into it.
#include "badges_health/app/flag_reference.hpp"

#include <sstream>
#include <string_view>
#include <vector>

#include "badges_health/app/config.hpp"
#include "badges_health/app/probe_command.hpp"

namespace badges_health::app {
namespace {

struct exit_code_description {
  int code;
  std::string_view meaning;
};

const std::vector<exit_code_description>& server_exit_codes() {
  static const std::vector<exit_code_description> codes = {
      {exit_code::ok,
       "a clean stop after SIGTERM or SIGINT; --help, --version, --print-config and "
       "--print-flag-reference"},
      {exit_code::cannot_serve,
       "cannot listen on --host and --port, or on --agent-port, or another fatal error; the log "
       "says which"},
      {exit_code::bad_configuration,
       "a bad flag, environment variable, secret file or checks file; one line on stderr names "
       "it"},
  };
  return codes;
}

const std::vector<exit_code_description>& probe_exit_codes() {
  static const std::vector<exit_code_description> codes = {
      {0, "the answer was 200"},
      {1, "any other answer, no answer, or a timeout; one line on stderr says which"},
      {2, "a bad flag or variable"},
  };
  return codes;
}

// Appends `text` wrapped to help_width, every line indented by `indent`
// spaces (the first line's indent already written when `first_written`).
void wrap(std::ostringstream& out, std::string_view text, std::size_t indent,
          bool first_written = false) {
  std::size_t column = first_written ? indent : 0;
  bool line_empty = true;
  while (!text.empty()) {
    const auto space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    if (!line_empty && column + 1 + word.size() > help_width) {
      out << '\n';
      column = 0;
      line_empty = true;
    }
    if (column == 0) {
      out << std::string(indent, ' ');
      column = indent;
    }
    if (!line_empty) {
      out << ' ';
      ++column;
    }
    out << word;
    column += word.size();
    line_empty = false;
  }
  out << '\n';
}

// "env X; default D; range R" as --help shows it under a flag.
std::string facts(const flag_description& f) {
  std::string out;
  if (!f.env.empty()) {
    out = "env " + f.env;
    if (f.secret) out += ", or a file named by " + f.env + "_FILE (read again on SIGHUP)";
    out += "; ";
  }
  out += "default " + f.default_value;
  if (!f.range.empty()) out += "; values " + f.range;
  return out;
}

void flag_entries(std::ostringstream& out, const std::vector<flag_description>& flags) {
  for (const auto& f : flags) {
    out << "  " << f.name;
    if (!f.value_hint.empty()) out << ' ' << f.value_hint;
    out << '\n';
    wrap(out, f.help, 6);
    wrap(out, facts(f), 6);
  }
}

void exit_code_entries(std::ostringstream& out, const std::vector<exit_code_description>& codes) {
  for (const auto& c : codes) {
    out << "  " << c.code << "  ";
    wrap(out, c.meaning, 5, true);
  }
}

// A Markdown table cell: code spans for names, plain text otherwise.
std::string code(std::string_view v) { return "`" + std::string(v) + "`"; }

std::string markdown_flag_row(const flag_description& f) {
  std::string name = code(std::string(f.name) + (f.value_hint.empty() ? "" : " " + f.value_hint));
  std::string env = f.env.empty() ? "" : code(f.env);
  if (f.secret) env += " or " + code(f.env + "_FILE");
  // A default in words ("number of CPUs") is prose, not a value to type.
  const std::string shown_default =
      f.default_value.find(' ') == std::string::npos ? code(f.default_value) : f.default_value;
  return "| " + name + " | " + env + " | " + shown_default + " | " + f.range + " | " + f.help +
         " |\n";
}

}  // namespace

std::string usage() {
  std::ostringstream out;
  out << "Usage: badges-health [FLAGS]\n"
         "       badges-health probe [FLAGS]   (see badges-health probe --help)\n"
         "\n";
  wrap(out,
       "Answers the health probes of the Decentraland Badges API: GET /status, /livez and "
       "/readyz. Each flag also reads the environment variable named under it; a flag on the "
       "command line wins. Durations: 250ms, 5s, 2m, 1h, or a number of seconds.",
       0);
  out << "\nFlags:\n";
  flag_entries(out, server_flags());
  for (const auto& a : action_flags()) {
    out << "  " << a.name << '\n';
    wrap(out, a.help, 6);
  }
  out << "\nEnvironment only:\n";
  for (const auto& v : identity_variables()) {
    out << "  " << v.name << '\n';
    wrap(out, v.help, 6);
  }
  out << "\nExit codes:\n";
  exit_code_entries(out, server_exit_codes());
  return out.str();
}

std::string probe_usage() {
  std::ostringstream out;
  out << "Usage: badges-health probe [FLAGS]\n\n";
  wrap(out,
       "GETs /livez where the server listens and exits 0 when the answer is 200: for Docker "
       "HEALTHCHECK and exec probes in images without curl. The address comes from --url; else "
       "--host and --port; else the file the server wrote with --address-file; else the "
       "variables; else 127.0.0.1:8080.",
       0);
  out << "\nFlags:\n";
  flag_entries(out, probe_flags());
  out << "  --help\n";
  wrap(out, "print this text and exit", 6);
  out << "\nExit codes:\n";
  exit_code_entries(out, probe_exit_codes());
  return out.str();
}

std::string flag_reference_markdown() {
  std::ostringstream out;
  out << "# Configuration reference\n"
         "\n"
         "<!-- Generated from the flag tables (src/app/config.cpp, src/app/probe_command.cpp) by\n"
         "     `badges-health --print-flag-reference > docs/configuration.md`; a unit test fails\n"
         "     when this file and the tables differ. Edit the tables, not this file. -->\n"
         "\n"
         "Every flag also reads an environment variable; a flag given on the command line\n"
         "wins over it. The variables are `BADGES_HEALTH_` and the flag's name, except\n"
         "Decentraland's own `HTTP_SERVER_HOST` and `HTTP_SERVER_PORT`. No other variable\n"
         "is read: a `tcp://…` value that Kubernetes puts into `<SERVICE>_PORT` for every\n"
         "Service of the namespace cannot reach the service unless its name happens to be a\n"
         "flag's variable (set `enableServiceLinks: false` in the pod spec, as\n"
         "`deploy/kubernetes` does). A bad value stops start-up with exit code 2 and one\n"
         "line naming the flag or the variable.\n"
         "\n"
         "Durations are `250ms`, `5s`, `2m`, `1h`, or a number of seconds (`1.5`).\n"
         "\n"
         "## Flags\n"
         "\n"
         "| flag | environment variable | default | range or choices | meaning |\n"
         "|---|---|---|---|---|\n";
  for (const auto& f : server_flags()) out << markdown_flag_row(f);
  out << "\n"
         "## Secrets\n"
         "\n"
         "A flag marked with a `_FILE` variable above takes a secret. Give it as the\n"
         "variable, or as the path of a file holding it in the `_FILE` variable (a mounted\n"
         "Kubernetes or Docker secret: `BADGES_HEALTH_DETAILS_TOKEN_FILE=/run/secrets/details`).\n"
         "The file holds one line; a trailing line break is ignored. It is read at start-up\n"
         "(a missing, empty or unreadable file stops start-up with exit code 2, naming the\n"
         "variable) and again on every SIGHUP: requests see the new value from then on, and\n"
         "a file that cannot be read then is logged and the previous value stays. Setting\n"
         "both the variable and its `_FILE` variable is an error. A secret given as a flag\n"
         "works, but is logged as a warning at start-up: a command line is visible to every\n"
         "user of the machine (`ps`, `/proc/PID/cmdline`).\n"
         "\n"
         "## Printing and exiting\n"
         "\n"
         "| flag | meaning |\n"
         "|---|---|\n";
  for (const auto& a : action_flags()) out << "| " << code(a.name) << " | " << a.help << " |\n";
  out << "\n"
         "## Environment only\n"
         "\n"
         "| variable | meaning |\n"
         "|---|---|\n";
  for (const auto& v : identity_variables()) {
    out << "| " << code(v.name) << " | " << v.help << " |\n";
  }
  out << "\n"
         "## `badges-health probe`\n"
         "\n"
         "GETs `/livez` where the server listens and exits 0 when the answer is 200: the\n"
         "image's `HEALTHCHECK`, and exec probes in images without curl. The address comes\n"
         "from `--url`; else `--host` and `--port`; else the file the server wrote with\n"
         "`--address-file` (the image sets `BADGES_HEALTH_ADDRESS_FILE`, so\n"
         "`docker run IMAGE --port 9090` is healthy); else `HTTP_SERVER_HOST` and\n"
         "`HTTP_SERVER_PORT`; else `127.0.0.1:8080`. A wildcard host (`0.0.0.0`, `::`)\n"
         "means loopback.\n"
         "\n"
         "| flag | environment variable | default | range or choices | meaning |\n"
         "|---|---|---|---|---|\n";
  for (const auto& f : probe_flags()) out << markdown_flag_row(f);
  out << "\n"
         "## Exit codes\n"
         "\n"
         "| `badges-health` | meaning |\n"
         "|---|---|\n";
  for (const auto& c : server_exit_codes()) out << "| " << c.code << " | " << c.meaning << " |\n";
  out << "\n"
         "| `badges-health probe` | meaning |\n"
         "|---|---|\n";
  for (const auto& c : probe_exit_codes()) out << "| " << c.code << " | " << c.meaning << " |\n";
  return out.str();
}

}  // namespace badges_health::app
