// Parser: tokens to a Unit (one source file). Syntax errors are reported to
// `diags`; the returned tree holds everything that parsed.
#pragma once

#include <memory>

#include "ast.hpp"
#include "lexer.hpp"

namespace writ::compiler {

std::unique_ptr<Unit> parse(const SourceFile& file, uint32_t file_id, Diagnostics& diags);

}  // namespace writ::compiler
