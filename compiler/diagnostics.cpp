#include "writ/compiler/diagnostics.hpp"

#include <algorithm>

namespace writ::compiler {

SourceFile::SourceFile(std::string p, std::string t) : path(std::move(p)), text(std::move(t)) {
  line_starts.push_back(0);
  for (uint32_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') line_starts.push_back(i + 1);
}

std::pair<uint32_t, uint32_t> SourceFile::line_col(uint32_t offset) const {
  auto it = std::upper_bound(line_starts.begin(), line_starts.end(), offset);
  uint32_t line = static_cast<uint32_t>(it - line_starts.begin());  // 1-based
  return {line, offset - line_starts[line - 1] + 1};
}

std::string_view SourceFile::line_text(uint32_t line) const {
  if (line == 0 || line > line_starts.size()) return {};
  uint32_t b = line_starts[line - 1];
  uint32_t e =
      line < line_starts.size() ? line_starts[line] - 1 : static_cast<uint32_t>(text.size());
  std::string_view s(text.data() + b, e - b);
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

uint32_t SourceManager::add(std::string path, std::string text) {
  files_.push_back(std::make_unique<SourceFile>(std::move(path), std::move(text)));
  return static_cast<uint32_t>(files_.size() - 1);
}

void Diagnostics::error(Span s, std::string msg) {
  diags_.push_back(Diagnostic{Severity::Error, s, std::move(msg), {}});
  ++errors_;
}

void Diagnostics::warning(Span s, std::string msg) {
  diags_.push_back(Diagnostic{Severity::Warning, s, std::move(msg), {}});
}

void Diagnostics::note(Span s, std::string msg) {
  if (!diags_.empty()) diags_.back().notes.emplace_back(s, std::move(msg));
}

std::string Diagnostics::location(Span s) const {
  if (s.file >= sm_.size()) return "<unknown>";
  const SourceFile& f = sm_.file(s.file);
  auto [line, col] = f.line_col(s.begin);
  return f.path + ":" + std::to_string(line) + ":" + std::to_string(col);
}

namespace {

std::string excerpt(const SourceFile& f, Span s) {
  auto [line, col] = f.line_col(s.begin);
  std::string_view text = f.line_text(line);
  std::string out = "  " + std::string(text) + "\n  ";
  for (uint32_t i = 1; i < col && i <= text.size(); ++i) out += text[i - 1] == '\t' ? '\t' : ' ';
  uint32_t len = s.end > s.begin ? s.end - s.begin : 1;
  // Underline to the end of the span or of the line, whichever comes first.
  uint32_t room = text.size() >= col ? static_cast<uint32_t>(text.size()) - col + 1 : 1;
  out += '^';
  for (uint32_t i = 1; i < std::min(len, room); ++i) out += '~';
  return out + "\n";
}

}  // namespace

std::string Diagnostics::render(const Diagnostic& d) const {
  const char* sev = d.severity == Severity::Error     ? "error"
                    : d.severity == Severity::Warning ? "warning"
                                                      : "note";
  std::string out = location(d.span) + ": " + sev + ": " + d.message + "\n";
  if (d.span.file < sm_.size()) out += excerpt(sm_.file(d.span.file), d.span);
  for (const auto& [span, msg] : d.notes) {
    out += location(span) + ": note: " + msg + "\n";
    if (span.file < sm_.size()) out += excerpt(sm_.file(span.file), span);
  }
  return out;
}

std::string Diagnostics::render() const {
  std::string out;
  for (const Diagnostic& d : diags_) out += render(d);
  return out;
}

}  // namespace writ::compiler
