// HTTP/1.1 request heads (contract in http.hpp).
#include "http.hpp"

#include <algorithm>
#include <vector>

namespace writ::runtime {

namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

std::string ascii_lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

size_t http_header_end(std::string_view buf) {
  size_t a = buf.find("\r\n\r\n"), b = buf.find("\n\n");
  size_t ea = a == std::string_view::npos ? a : a + 4, eb = b == std::string_view::npos ? b : b + 2;
  return std::min(ea, eb);
}

int parse_http_head(std::string_view head, size_t max_body, HttpHead& out, std::string& why) {
  out = HttpHead();
  // Request line and headers; empty lines (the terminator) are dropped.
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos < head.size();) {
    size_t nl = head.find('\n', pos);
    if (nl == std::string_view::npos) nl = head.size();
    std::string_view line = head.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) lines.push_back(line);
    pos = nl + 1;
  }
  if (lines.empty()) {
    why = "empty request";
    return 400;
  }
  {
    const std::string_view rl = lines[0];
    size_t s1 = rl.find(' '), s2 = s1 == std::string_view::npos ? s1 : rl.find(' ', s1 + 1);
    if (s1 == std::string_view::npos || s2 == std::string_view::npos ||
        rl.find(' ', s2 + 1) != std::string_view::npos) {
      why = "malformed request line";
      return 400;
    }
    out.method = rl.substr(0, s1);
    out.target = rl.substr(s1 + 1, s2 - s1 - 1);
    out.version = rl.substr(s2 + 1);
    if (out.method.empty() || out.target.empty() || out.version.rfind("HTTP/", 0) != 0) {
      why = "malformed request line";
      return 400;
    }
    if (out.version != "HTTP/1.1" && out.version != "HTTP/1.0") {
      why = "unsupported version " + out.version;
      return 505;
    }
  }
  std::optional<size_t> length;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || line[0] == ' ' || line[0] == '\t') {
      why = "malformed header line";
      return 400;
    }
    const std::string name = ascii_lower(std::string(line.substr(0, colon)));
    const std::string value = trim(line.substr(colon + 1));
    if (name == "content-length") {
      // At most 12 digits: no overflow, and far above any body limit.
      if (value.empty() || value.size() > 12 ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        why = "bad Content-Length";
        return 400;
      }
      const size_t n = std::stoull(value);
      if (length && *length != n) {
        why = "conflicting Content-Length headers";
        return 400;
      }
      length = n;
    } else if (name == "transfer-encoding") {
      why = "Transfer-Encoding is not supported: send a Content-Length";
      return 501;
    } else if (name == "expect" && ascii_lower(value) == "100-continue") {
      out.expect_continue = true;
    }
  }
  if (out.method != "POST") {
    why = "method " + out.method + ": JSON-RPC requests are POSTed";
    return 405;
  }
  if (!length) {
    why = "a Content-Length is required";
    return 411;
  }
  if (*length > max_body) {
    why = "body of " + std::to_string(*length) + " bytes exceeds the limit of " +
          std::to_string(max_body);
    return 413;
  }
  out.content_length = length;
  return 0;
}

const char* http_reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

}  // namespace writ::runtime
