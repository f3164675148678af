// The dev node's HTTP/1.1 request-head parsing, apart from its sockets so
// that it can be tested and fuzzed on bytes alone (fuzz/fuzz_rpc.cpp).
//
// What the node accepts: a request line "METHOD TARGET HTTP/1.x", header lines
// "Name: value" (names case-insensitive), lines ended by CRLF or a bare LF, a
// POST with one Content-Length. Everything else gets a status and a reason:
//   400 malformed request line or header, bad or conflicting Content-Length
//   405 a method other than POST        411 no Content-Length
//   413 a body over the limit           501 Transfer-Encoding (chunked bodies)
//   505 an HTTP version other than 1.0 or 1.1
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace writ::runtime {

// Where the header section of `buf` ends ("\r\n\r\n", or "\n\n" from lenient
// clients): the offset of the body, or npos when it has not arrived yet.
size_t http_header_end(std::string_view buf);

struct HttpHead {
  std::string method, target, version;
  std::optional<size_t> content_length;  // set whenever parse_http_head returns 0
  bool expect_continue = false;          // "Expect: 100-continue"
};

// Parses a request head (everything before the body, as http_header_end
// delimits it). Returns 0 with `out` filled, or the HTTP status to answer
// with and `why`, a reason fit to show the client.
[[nodiscard]] int parse_http_head(std::string_view head, size_t max_body, HttpHead& out,
                                  std::string& why);

const char* http_reason_phrase(int status);
std::string ascii_lower(std::string s);

}  // namespace writ::runtime
