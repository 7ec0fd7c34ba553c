// Errors as values across module seams (engine ↔ provider above all): a Result<T> holds
// either a T or an Error; a Status, success or an Error. An Error has a message written for
// the operator and a code a caller may act on (retry what was unreachable, stop on what
// changed since the plan). No exceptions cross, and neither may be dropped unread.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace reconcile {

enum class ErrorCode {
  kOther = 0,
  kNotFound,      // what was asked for is not there
  kChanged,       // the world changed since it was read (the plan is stale)
  kNotSupported,  // the server or this build cannot do it
  kUnreachable,   // no answer: refused, timed out, name unknown
  kRefused,       // an answer, saying no: credentials, permissions, a lock held
  kInvalid,       // the input is wrong
};

struct Error {
  std::string message;
  ErrorCode code = ErrorCode::kOther;
  bool located = false;  // the message already names its place (file:line:col): add none
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success, or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), failed_(true) {}
  static Status Ok() { return Status(); }

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string& message() const { return error_.message; }
  ErrorCode code() const { return error_.code; }
  // The failure as an Error, to pass on as a Result's (a failed Status only).
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool failed_ = false;
};

}  // namespace reconcile
