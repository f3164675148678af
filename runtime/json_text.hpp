// JSON text to a value, for every reader of outside JSON (JSON-RPC requests,
// genesis files, proofs): a failure says which of two very different things
// went wrong, because a client can fix them only if told which.
//   - the text is not JSON: "not valid JSON: <reason> at byte N";
//   - the text is JSON, but holds a number no JSON library here can hold
//     (1e400, an integer of 5,000 digits): "the number 1e400 is valid JSON but
//     out of range: ...". Amounts in Writ's formats are decimal strings for
//     that reason, and the message says so.
//   - the text nests arrays and objects deeper than kMaxJsonDepth: "not
//     valid JSON here: nested deeper than 256 levels at byte N". Copying or
//     printing a value recurses once per level, so a request of a few
//     hundred KB nested 200,000 deep overflowed a server thread's stack.
//   - an object has a key twice (after escapes: "a" and "\u0061" are one
//     key): "not valid JSON here: the key "a" appears twice in x.y[2] at byte N". A
//     parser would keep one of them, and another reader of the same text
//     might keep the other (RFC 8259 leaves it open; I-JSON, RFC 7493,
//     refuses it).
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "writ/runtime/types.hpp"

namespace writ::runtime {

inline constexpr size_t kMaxJsonDepth = 256;

// On failure the error's offset is the byte where parsing stopped.
Result<nlohmann::json> parse_json_text(std::string_view text);

}  // namespace writ::runtime
