// Timestamps on every response: the body's ISO 8601 time and the Date
// header. Both cache the per-second part per thread, so the common case is
// a clock read and a few stores; the *_new_second cases move the time on by
// a second per call to measure the recompute the cache saves.
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

#include "badges_health/http/response_writer.hpp"
#include "badges_health/util/timestamp.hpp"

namespace {

namespace util = badges_health::util;
namespace http = badges_health::http;
using std::chrono::system_clock;

// The clock read that every other case includes.
void system_clock_now(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(system_clock::now());
}
BENCHMARK(system_clock_now);

void write_iso8601_now(benchmark::State& state) {
  char out[util::iso8601_length];
  for (auto _ : state) {
    util::write_iso8601(system_clock::now(), out);
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(write_iso8601_now);

void write_iso8601_new_second(benchmark::State& state) {
  char out[util::iso8601_length];
  system_clock::time_point tp = system_clock::now();
  for (auto _ : state) {
    tp += std::chrono::seconds{1};
    util::write_iso8601(tp, out);
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(write_iso8601_new_second);

// The allocating convenience form, for comparison (verbose output uses it).
void format_iso8601_now(benchmark::State& state) {
  for (auto _ : state) {
    std::string s = util::format_iso8601(system_clock::now());
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(format_iso8601_now);

void http_date_now(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(util::http_date(system_clock::now()));
}
BENCHMARK(http_date_now);

void http_date_new_second(benchmark::State& state) {
  system_clock::time_point tp = system_clock::now();
  for (auto _ : state) {
    tp += std::chrono::seconds{1};
    benchmark::DoNotOptimize(util::http_date(tp));
  }
}
BENCHMARK(http_date_new_second);

}  // namespace
