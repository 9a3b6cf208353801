#pragma once
/// The one error hierarchy of nucseg. Messages name the action, the object (path, dataset,
/// config key) and what was expected versus found. Each executable maps these to exit codes
/// at exactly one catch site (tools/main.cpp).
#include <stdexcept>
#include <string>

namespace nucseg {

/// Process exit codes, documented in the README.
enum class ExitCode : int {
  ok = 0,
  failure = 1,   ///< unexpected internal error
  usage = 2,     ///< bad flags or configuration
  input = 3,     ///< bad input data (unreadable, corrupt, mismatched)
  output = 4,    ///< cannot write output
  partial = 5,   ///< finished, but some inputs were skipped or failed
  interrupted = 130,
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
  virtual ExitCode exit_code() const { return ExitCode::failure; }
};

/// A configuration file or flag is invalid (unknown key, wrong type, out of range).
class ConfigError : public Error {
 public:
  using Error::Error;
  ExitCode exit_code() const override { return ExitCode::usage; }
};

/// An input file or its content is unusable.
class InputError : public Error {
 public:
  using Error::Error;
  ExitCode exit_code() const override { return ExitCode::input; }
};

/// An output cannot be written.
class OutputError : public Error {
 public:
  using Error::Error;
  ExitCode exit_code() const override { return ExitCode::output; }
};

/// The user interrupted the run (SIGINT/SIGTERM).
class Interrupted : public Error {
 public:
  using Error::Error;
  ExitCode exit_code() const override { return ExitCode::interrupted; }
};

}  // namespace nucseg
