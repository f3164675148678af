// A Writ project: a directory with a writ.json manifest (`writ init` makes
// one), its contracts in `src/`, their tests in `test/`, builds in `out/`.
//
//   {"name": "demo", "compiler": "writc 0.1.0", "src": "src", "test": "test",
//    "out": "out", "imports": [], "genesis": "default"}
//
// `compiler` must name this compiler; `import "name";` looks in `src` and
// then in the `imports` directories (after the importing file's own
// directory, before the standard library); `genesis` is "default" (the system
// contracts of this build, contracts::default_genesis) or a genesis JSON file
// (docs/runtime.md) relative to the manifest. Paths are relative to it too.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "writ/compiler/compiler.hpp"

namespace writ::cli {

struct Project {
  std::filesystem::path root;  // the directory of writ.json
  std::string name;
  std::filesystem::path src_dir, test_dir, out_dir;
  std::vector<std::filesystem::path> import_dirs;  // src_dir, then writ.json's "imports"
  std::filesystem::path genesis;                   // empty: the default genesis
};

// The project whose writ.json is in `dir` or the nearest directory above it;
// nothing (and `err` empty) when there is none. A manifest that does not
// parse, or names another compiler, is an error naming the file and field.
std::optional<Project> find_project(const std::filesystem::path& dir, std::string& err);

// Appends `path` if it is a .writ file, or the .writ files under it (sorted)
// if it is a directory.
bool collect_writ_files(const std::string& path, std::vector<std::string>& out, std::string& err);

// `writ build` in a project: every .writ file of src_dir into out_dir,
// skipping a file whose outputs exist and whose key (this compiler, its text
// and the text of every file it imports, transitively) is the one recorded
// in out_dir/.build-cache.json; all of them when `force`.
int build_project(const Project& p, compiler::CompileOptions opts, bool force);

// Where `import "name";` looks after the importing file's directory: $WRIT_STDLIB,
// else the stdlib of the source tree this binary was built from.
std::string default_stdlib_dir();

}  // namespace writ::cli
