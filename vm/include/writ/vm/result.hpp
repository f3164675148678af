// Errors are values at the VM's boundaries: Result<T> holds a T or an Error
// that says where (a byte offset, or a line and column for text) and why.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace writ::vm {

struct Error {
  // Where the problem is. For binary input, `offset` is a byte offset into the
  // module; for text input, line and column are 1-based and offset is unused.
  uint64_t offset = 0;
  uint32_t line = 0;
  uint32_t column = 0;
  std::string message;
  // The verifier's errors name the function (its index) whose code `offset`
  // is in; kNoFunction elsewhere.
  static constexpr uint32_t kNoFunction = UINT32_MAX;
  uint32_t function = kNoFunction;

  // "byte 0x1c: reason" or "12:5: reason".
  std::string to_string() const;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

inline Error error_at(uint64_t offset, std::string message) {
  Error e;
  e.offset = offset;
  e.message = std::move(message);
  return e;
}
inline Error error_at_line(uint32_t line, uint32_t column, std::string message) {
  Error e;
  e.line = line;
  e.column = column;
  e.message = std::move(message);
  return e;
}

}  // namespace writ::vm
