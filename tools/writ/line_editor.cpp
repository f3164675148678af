#include "line_editor.hpp"

#include <termios.h>
#include <unistd.h>
#include <cerrno>

namespace writ::cli {

namespace {

// The terminal in raw mode (no echo, byte at a time, no signals from keys)
// for as long as it lives; restored as it was. Both switches keep what was
// typed ahead (TCSADRAIN, not TCSAFLUSH, which discards it): a command typed
// while the last one ran, or before the first prompt, is read, not lost.
class RawMode {
 public:
  RawMode() {
    if (tcgetattr(0, &saved_) != 0) return;
    termios raw = saved_;
    raw.c_lflag &= ~static_cast<tcflag_t>(ECHO | ICANON | ISIG | IEXTEN);
    raw.c_iflag &= ~static_cast<tcflag_t>(IXON | ICRNL);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    ok_ = tcsetattr(0, TCSADRAIN, &raw) == 0;
  }
  ~RawMode() {
    if (ok_) tcsetattr(0, TCSADRAIN, &saved_);
  }
  RawMode(const RawMode&) = delete;
  RawMode& operator=(const RawMode&) = delete;
  bool ok() const { return ok_; }

 private:
  termios saved_{};
  bool ok_ = false;
};

bool read_byte(unsigned char& c) {
  for (;;) {
    const ssize_t n = ::read(0, &c, 1);
    if (n == 1) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

}  // namespace

LineEditor::LineEditor(std::istream& in, FILE* out) : in_(in), out_(out), tty_(isatty(0) != 0) {}

void LineEditor::remember(const std::string& line) {
  if (line.empty() || (!history_.empty() && history_.back() == line)) return;
  history_.push_back(line);
}

bool LineEditor::read(const std::string& prompt, std::string& line) {
  if (tty_) {
    RawMode raw;
    if (raw.ok()) return read_terminal(prompt, line);
  }
  std::fputs(prompt.c_str(), out_);
  std::fflush(out_);
  return static_cast<bool>(std::getline(in_, line));
}

bool LineEditor::read_terminal(const std::string& prompt, std::string& line) {
  std::string buf;
  size_t cursor = 0;
  size_t hist = history_.size();  // history_.size(): the line being written
  std::string pending;            // that line, while browsing the history
  auto redraw = [&] {
    std::string s = "\r" + prompt + buf + "\x1b[K\r";
    if (prompt.size() + cursor > 0) s += "\x1b[" + std::to_string(prompt.size() + cursor) + "C";
    std::fputs(s.c_str(), out_);
    std::fflush(out_);
  };
  auto browse = [&](size_t to) {
    if (hist == history_.size()) pending = buf;
    hist = to;
    buf = hist == history_.size() ? pending : history_[hist];
    cursor = buf.size();
  };
  redraw();
  for (;;) {
    unsigned char c;
    if (!read_byte(c)) {
      std::fputs("\r\n", out_);
      return false;
    }
    switch (c) {
      case '\r':
      case '\n':
        std::fputs("\r\n", out_);
        std::fflush(out_);
        line = buf;
        return true;
      case 4:  // Ctrl-D: the end of input on an empty line, else delete
        if (buf.empty()) {
          std::fputs("\r\n", out_);
          return false;
        }
        if (cursor < buf.size()) buf.erase(cursor, 1);
        break;
      case 3:  // Ctrl-C: drop the line
        std::fputs("^C\r\n", out_);
        buf.clear();
        cursor = 0;
        hist = history_.size();
        break;
      case 127:
      case 8:  // backspace
        if (cursor > 0) buf.erase(--cursor, 1);
        break;
      case 1:  // Ctrl-A
        cursor = 0;
        break;
      case 5:  // Ctrl-E
        cursor = buf.size();
        break;
      case 11:  // Ctrl-K
        buf.erase(cursor);
        break;
      case 21:  // Ctrl-U
        buf.erase(0, cursor);
        cursor = 0;
        break;
      case 23: {  // Ctrl-W: the word before the cursor
        size_t from = cursor;
        while (from > 0 && buf[from - 1] == ' ') --from;
        while (from > 0 && buf[from - 1] != ' ') --from;
        buf.erase(from, cursor - from);
        cursor = from;
        break;
      }
      case 16:  // Ctrl-P
        if (hist > 0) browse(hist - 1);
        break;
      case 14:  // Ctrl-N
        if (hist < history_.size()) browse(hist + 1);
        break;
      case 27: {  // an escape sequence: ESC [ X, ESC O X, ESC [ N ~
        unsigned char a, b;
        if (!read_byte(a) || !read_byte(b)) break;
        if (a != '[' && a != 'O') break;
        if (b >= '0' && b <= '9') {
          unsigned char t;
          if (!read_byte(t) || t != '~') break;
          if (b == '3' && cursor < buf.size()) buf.erase(cursor, 1);  // delete
          if (b == '1' || b == '7') cursor = 0;                       // home
          if (b == '4' || b == '8') cursor = buf.size();              // end
          break;
        }
        if (b == 'A' && hist > 0) browse(hist - 1);
        if (b == 'B' && hist < history_.size()) browse(hist + 1);
        if (b == 'C' && cursor < buf.size()) ++cursor;
        if (b == 'D' && cursor > 0) --cursor;
        if (b == 'H') cursor = 0;
        if (b == 'F') cursor = buf.size();
        break;
      }
      default:
        if (c >= 32) buf.insert(cursor++, 1, static_cast<char>(c));
        break;
    }
    redraw();
  }
}

}  // namespace writ::cli
