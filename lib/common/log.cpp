#include "common/log.hpp"

#include <spdlog/spdlog.h>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <vector>

#include "common/error.hpp"

namespace nucseg::log {

namespace {

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::debug: return spdlog::level::debug;
    case Level::info: return spdlog::level::info;
    case Level::warn: return spdlog::level::warn;
    case Level::error: return spdlog::level::err;
  }
  return spdlog::level::err;
}

}  // namespace

bool enabled(Level level) { return spdlog::default_logger_raw()->should_log(to_spdlog(level)); }

void write(Level level, const std::string& message) {
  spdlog::default_logger_raw()->log(to_spdlog(level), message);
}

void flush() { spdlog::default_logger_raw()->flush(); }

void setup_logging(const LogSetup& setup) {
  const auto level = spdlog::level::from_str(setup.level);
  if (level == spdlog::level::off && setup.level != "off") {
    throw ConfigError("invalid log level '" + setup.level +
                      "': expected one of trace, debug, info, warn, error, off");
  }
  const std::string rank_tag =
      setup.world_size > 1 ? " [rank " + std::to_string(setup.rank) + "]" : "";
  std::vector<spdlog::sink_ptr> sinks;
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  console->set_pattern("[%H:%M:%S] [%^%l%$]" + rank_tag + " %v");
  console->set_level(setup.rank == 0 ? level : std::max(level, spdlog::level::warn));
  sinks.push_back(console);
  if (!setup.file.empty()) {
    std::string path = setup.file;
    const auto pos = path.find("{rank}");
    if (pos != std::string::npos) path.replace(pos, 6, std::to_string(setup.rank));
    else if (setup.world_size > 1) path += "." + std::to_string(setup.rank);
    try {
      auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, false);
      file->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l]" + rank_tag + " %v");
      file->set_level(level);
      sinks.push_back(file);
    } catch (const spdlog::spdlog_ex& e) {
      throw OutputError("cannot open log file '" + path + "': " + e.what());
    }
  }
  auto logger = std::make_shared<spdlog::logger>("nucseg", sinks.begin(), sinks.end());
  logger->set_level(level);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

Progress::Progress(std::string what, std::size_t total, std::string unit)
    : what_(std::move(what)),
      total_(total),
      unit_(std::move(unit)),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(std::size_t done) {
  done_ = done;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::seconds(2)) return;
  last_ = now;
  const double secs = elapsed_seconds();
  const double rate = secs > 0 ? static_cast<double>(done) / secs : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - std::min(done, total_)) / rate : 0.0;
  info("{}: {}/{} {} ({:.1f}/s, eta {:.0f} s)", what_, done, total_, unit_, rate, eta);
}

void Progress::finish() {
  const double secs = elapsed_seconds();
  const double rate = secs > 0 ? static_cast<double>(done_) / secs : 0.0;
  info("{}: {}/{} {} in {:.1f} s ({:.1f}/s)", what_, done_, total_, unit_, secs, rate);
}

}  // namespace nucseg::log
