// The line the debugger's prompt reads. On a terminal: editing keys (left,
// right, home, end, backspace, delete, Ctrl-A/E/K/U/W) and the session's
// history (up, down); Ctrl-C drops the line, Ctrl-D on an empty line ends
// input. Elsewhere (a pipe, a script): plain lines, the same commands.
#pragma once

#include <cstdio>
#include <istream>
#include <string>
#include <vector>

namespace writ::cli {

class LineEditor {
 public:
  // `in` is read when standard input is not a terminal; `out` shows the
  // prompt (and, on a terminal, the line as it is edited).
  LineEditor(std::istream& in, FILE* out);
  // Shows `prompt` and reads a line; false at the end of input.
  bool read(const std::string& prompt, std::string& line);
  // Remembers a line for up/down (not an empty one, nor the last again).
  void remember(const std::string& line);
  const std::vector<std::string>& history() const { return history_; }
  bool interactive() const { return tty_; }

 private:
  bool read_terminal(const std::string& prompt, std::string& line);
  std::istream& in_;
  FILE* out_;
  bool tty_;
  std::vector<std::string> history_;
};

}  // namespace writ::cli
