// What `writ test` and `writ debug --test` share (cmd_test.cpp): a project's
// contracts and test files compiled, a book of them, the sandbox made from
// its genesis, and sessions with a test contract deployed and set up.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "decode.hpp"
#include "project.hpp"
#include "writ/compiler/compiler.hpp"
#include "writ/runtime/sandbox.hpp"

namespace writ::cli {

struct TestWorld {
  std::optional<Project> project;
  std::deque<compiler::CompileOutput> outputs;
  // Each test file and its compile, in order.
  std::vector<std::pair<std::string, const compiler::CompileOutput*>> tests_by_file;
  ContractBook book;
  // Each compile's contracts as the book holds them, in order (a name may be
  // in more than one test file).
  std::map<const compiler::CompileOutput*, std::vector<const compiler::ContractOutput*>> booked;
  // What t().deploy("Name") finds from a test file's compile: the project's
  // sources, and the file's own contracts over them (never another test
  // file's).
  std::map<const compiler::CompileOutput*, std::map<std::string, const compiler::ContractOutput*>>
      deployable;
  std::unique_ptr<runtime::Sandbox> box;
};

// Finds the project, compiles its sources and the test files of `paths`
// (default: the project's test directory) and makes the sandbox. kExitOk, or
// the exit code after printing "writ VERB: why" (and the diagnostics).
int load_test_world(const char* verb, std::vector<std::string> paths, compiler::CompileOptions opts,
                    TestWorld& w);

// A fresh session with test contract `c` deployed and its setup() run, the
// test helpers (stdlib/test.writ) answering; `error` says why not.
struct TestSession {
  std::unique_ptr<runtime::Sandbox::Session> s;
  std::unique_ptr<runtime::CallHooks> hooks;
  runtime::Address self;
  std::string error;
};
TestSession open_test_session(TestWorld& w, const compiler::CompileOutput& file,
                              const compiler::ContractOutput& c, uint64_t gas);

}  // namespace writ::cli
