// JSON text to a value, for every reader of outside JSON (JSON-RPC requests,
// genesis files, proofs): a failure says which of two very different things
// went wrong, because a client can fix them only if told which.
//   - the text is not JSON: "not valid JSON: <reason> at byte N";
//   - the text is JSON, but holds a number no JSON library here can hold
//     (1e400, an integer of 5,000 digits): "the number 1e400 is valid JSON but
//     out of range: ...". Amounts in Writ's formats are decimal strings for
//     that reason, and the message says so.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "writ/runtime/types.hpp"

namespace writ::runtime {

// On failure the error's offset is the byte where parsing stopped.
Result<nlohmann::json> parse_json_text(std::string_view text);

}  // namespace writ::runtime
