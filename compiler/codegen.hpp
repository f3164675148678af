// Code generation: one VM module per contract from the analysed program.
#pragma once

#include "sema.hpp"
#include "writ/compiler/compiler.hpp"

namespace writ::compiler {

// REQUIRES: analyze(p) succeeded. Errors that only codegen can see (limits
// such as register counts) go to `diags`.
std::vector<ContractOutput> generate(Program& p, Diagnostics& diags);

}  // namespace writ::compiler
