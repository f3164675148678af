// Helpers shared by the `writ` command's verbs.
#include "commands.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "writ/vm/abi.hpp"

namespace writ::cli {

using namespace writ::vm;

// Inputs (sources, modules, keys, genesis files) are small; the cap turns a
// device that never ends (/dev/zero) into an error instead of a hang, while
// pipes and /dev/stdin still work.
constexpr size_t kMaxInputFile = 64u << 20;

bool read_file(const std::string& path, std::vector<uint8_t>& out, std::string& err) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    err = path + ": is a directory";
    return false;
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    err = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  out.clear();
  char chunk[1 << 16];
  while (f.read(chunk, sizeof chunk) || f.gcount() > 0) {
    out.insert(out.end(), chunk, chunk + f.gcount());
    if (out.size() > kMaxInputFile) {
      err = path + ": larger than " + std::to_string(kMaxInputFile >> 20) + " MiB";
      return false;
    }
  }
  if (f.bad()) {
    err = path + ": read error";
    return false;
  }
  return true;
}

void install_stop_signals(void (*handler)(int)) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

bool ends_with(const std::string& s, const char* suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

std::string json_escape(const std::string& s) {
  std::string o;
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      o += buf;
    } else {
      o += static_cast<char>(c);
    }
  }
  return o;
}

std::string hex(std::span<const uint8_t> b) {
  return format_value(Value::buf({b.begin(), b.end()}));
}

// Decodes revert data against the module's errors: "Name(field, ...)".
std::string describe_revert(const Module& m, const std::vector<uint8_t>& data) {
  if (data.size() >= 4) {
    uint32_t sel =
        (uint32_t{data[0]} << 24) | (uint32_t{data[1]} << 16) | (uint32_t{data[2]} << 8) | data[3];
    for (const ErrorDecl& e : m.errors) {
      if (selector_of(e.name, e.fields) != sel) continue;
      auto vals = abi_decode(e.fields, std::span<const uint8_t>(data).subspan(4));
      if (!vals.ok()) break;
      std::string s = e.name + "(";
      for (size_t i = 0; i < vals->size(); ++i) s += (i ? ", " : "") + format_value((*vals)[i]);
      return s + ")";
    }
  }
  return data.empty() ? std::string() : "data " + hex(data);
}

}  // namespace writ::cli
