// Source files, spans and diagnostics for the Writ compiler.
//
// Every diagnostic names a span in a source file; rendering gives
// "file:line:col: error: message" followed by the source line and a caret
// under the span. The compiler collects diagnostics and keeps going, so one
// run reports every independent error.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace writ::compiler {

struct SourceFile {
  std::string path;  // as given by the user (shown in diagnostics)
  std::string text;
  std::vector<uint32_t> line_starts;  // byte offset of each line's first char

  SourceFile(std::string p, std::string t);
  // 1-based line and column (columns count bytes) of a byte offset.
  std::pair<uint32_t, uint32_t> line_col(uint32_t offset) const;
  std::string_view line_text(uint32_t line) const;
};

struct Span {
  uint32_t file = 0;   // index into SourceManager
  uint32_t begin = 0;  // byte offsets, [begin, end)
  uint32_t end = 0;
};

class SourceManager {
 public:
  uint32_t add(std::string path, std::string text);
  const SourceFile& file(uint32_t id) const { return *files_[id]; }
  size_t size() const { return files_.size(); }

 private:
  std::vector<std::unique_ptr<SourceFile>> files_;
};

enum class Severity : uint8_t { Error, Warning, Note };

struct Diagnostic {
  Severity severity = Severity::Error;
  Span span;
  std::string message;
  std::vector<std::pair<Span, std::string>> notes;  // related locations
};

class Diagnostics {
 public:
  explicit Diagnostics(const SourceManager& sm) : sm_(sm) {}
  void error(Span s, std::string msg);
  void warning(Span s, std::string msg);
  void note(Span s, std::string msg);  // attaches to the last diagnostic
  bool has_errors() const { return errors_ > 0; }
  size_t error_count() const { return errors_; }
  const std::vector<Diagnostic>& all() const { return diags_; }
  // "file:line:col: error: msg\n  <line>\n  <caret>\n" for every diagnostic,
  // in the order they were reported, up to the kMaxRenderedErrors-th error
  // (a line then says how many more there are). The line is shown with its
  // control bytes and bytes outside UTF-8 as \xNN.
  std::string render() const;
  static constexpr size_t kMaxRenderedErrors = 50;
  std::string render(const Diagnostic& d) const;
  std::string location(Span s) const;  // "file:line:col"
  // From now on, drops what is reported inside `s` (and the notes of what
  // it drops): the type errors of a function whose syntax errors were said,
  // which would only echo them.
  void mute(Span s) { muted_.push_back(s); }

 private:
  bool is_muted(Span s) const;
  const SourceManager& sm_;
  std::vector<Diagnostic> diags_;
  size_t errors_ = 0;
  std::vector<Span> muted_;
  bool dropped_last_ = false;
};

}  // namespace writ::compiler
