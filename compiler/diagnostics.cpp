#include "writ/compiler/diagnostics.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

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

bool Diagnostics::is_muted(Span s) const {
  for (const Span& m : muted_)
    if (m.file == s.file && s.begin >= m.begin && s.begin < m.end) return true;
  return false;
}

void Diagnostics::error(Span s, std::string msg) {
  dropped_last_ = is_muted(s);
  if (dropped_last_) return;
  diags_.push_back(Diagnostic{Severity::Error, s, std::move(msg), {}});
  ++errors_;
}

void Diagnostics::warning(Span s, std::string msg) {
  dropped_last_ = is_muted(s);
  if (dropped_last_) return;
  diags_.push_back(Diagnostic{Severity::Warning, s, std::move(msg), {}});
}

void Diagnostics::note(Span s, std::string msg) {
  if (!dropped_last_ && !diags_.empty()) diags_.back().notes.emplace_back(s, std::move(msg));
}

std::string Diagnostics::location(Span s) const {
  if (s.file >= sm_.size()) return "<unknown>";
  const SourceFile& f = sm_.file(s.file);
  auto [line, col] = f.line_col(s.begin);
  return f.path + ":" + std::to_string(line) + ":" + std::to_string(col);
}

namespace {

// The length of the valid UTF-8 sequence at `s` (2 to 4 bytes), or 0.
size_t utf8_length(std::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = byte(0);
  size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
  if (n == 0 || s.size() < n) return 0;
  for (size_t i = 1; i < n; ++i)
    if ((byte(i) & 0xC0) != 0x80) return 0;
  // No overlong forms, no surrogates, nothing past U+10FFFF.
  if ((c == 0xE0 && byte(1) < 0xA0) || (c == 0xED && byte(1) >= 0xA0) ||
      (c == 0xF0 && byte(1) < 0x90) || (c == 0xF4 && byte(1) >= 0x90))
    return 0;
  return n;
}

// A source line as a terminal should show it: a control byte (a terminal
// would act on it: a NUL ends a C string, an escape starts a sequence) or a
// byte outside valid UTF-8 becomes \xNN; `column[i]` is where byte i starts
// on screen (0-based; a tab counts as one, and is kept so the caret lines up).
std::string displayed(std::string_view text, std::vector<uint32_t>& column) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  column.assign(text.size() + 1, 0);
  uint32_t col = 0;
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    column[i] = col;
    if (c == '\t' || (c >= 0x20 && c < 0x7f)) {
      out += static_cast<char>(c);
      ++col;
      ++i;
    } else if (size_t n = c >= 0x80 ? utf8_length(text.substr(i)) : 0; n != 0) {
      out.append(text.substr(i, n));
      for (size_t k = 1; k < n; ++k) column[i + k] = col;
      ++col;
      i += n;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
      col += 4;
      ++i;
    }
  }
  column[text.size()] = col;
  return out;
}

// A line wider than this is shown as a window around the span, with "..."
// where it is cut (generated or minified source has lines of megabytes).
constexpr uint32_t kExcerptWidth = 160;
constexpr uint32_t kExcerptBefore = 60;  // columns kept before the span's start

std::string excerpt(const SourceFile& f, Span s) {
  auto [line, col] = f.line_col(s.begin);
  std::string_view text = f.line_text(line);
  // The caret under byte col - 1, the underline to the end of the span or
  // of the line, whichever comes first.
  size_t first = std::min<size_t>(col - 1, text.size());
  size_t end = std::min<size_t>(first + std::max<uint32_t>(s.end - std::min(s.end, s.begin), 1),
                                text.size());
  std::vector<uint32_t> column;
  std::string shown = displayed(text, column);
  std::string cut_before, cut_after;
  if (column[text.size()] > kExcerptWidth) {
    // Whole characters only: byte i starts one unless it continues a UTF-8 sequence.
    const auto starts = [&](size_t i) {
      return i == 0 || i == text.size() || column[i] != column[i - 1];
    };
    size_t lo = first;
    while (lo > 0 && column[first] - column[lo - 1] <= kExcerptBefore) --lo;
    while (!starts(lo)) --lo;
    size_t hi = lo;
    while (hi < text.size() && column[hi] - column[lo] < kExcerptWidth) ++hi;
    while (!starts(hi)) ++hi;
    if (lo > 0) cut_before = "...";
    if (hi < text.size()) cut_after = "...";
    text = text.substr(lo, hi - lo);
    first -= lo;
    end = std::min(end, hi) - lo;
    shown = displayed(text, column);
  }
  std::string out = "  " + cut_before + shown + cut_after + "\n  " + cut_before;
  for (size_t i = 0; i < first; ++i) {
    const bool tab = text[i] == '\t';
    out.append(column[i + 1] - column[i], tab ? '\t' : ' ');
  }
  const size_t width = end > first ? column[end] - column[first] : 1;
  out += '^';
  out.append(width - 1, '~');
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
  size_t shown = 0;
  for (const Diagnostic& d : diags_) {
    if (d.severity == Severity::Error && shown == kMaxRenderedErrors) {
      const size_t more = errors_ - shown;
      out += "(" + std::to_string(more) + " more error" + (more == 1 ? "" : "s") +
             " not shown: the first " + std::to_string(shown) + " are above)\n";
      break;
    }
    if (d.severity == Severity::Error) ++shown;
    out += render(d);
  }
  return out;
}

}  // namespace writ::compiler
