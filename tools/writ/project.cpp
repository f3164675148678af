#include "project.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "writ/compiler/compiler.hpp"
#include "writ/runtime/types.hpp"

namespace writ::cli {

namespace fs = std::filesystem;

std::optional<Project> find_project(const fs::path& start, std::string& err) {
  err.clear();
  std::error_code ec;
  fs::path dir = fs::absolute(start, ec);
  if (ec) return std::nullopt;
  for (;;) {
    const fs::path manifest = dir / "writ.json";
    if (fs::is_regular_file(manifest, ec)) {
      std::ifstream in(manifest);
      std::stringstream ss;
      ss << in.rdbuf();
      nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, false);
      const std::string where = manifest.string();
      if (j.is_discarded() || !j.is_object()) {
        err = where + ": not a JSON object";
        return std::nullopt;
      }
      Project p;
      p.root = dir;
      auto text = [&](const char* field, const char* fallback, std::string& out) {
        if (!j.contains(field)) {
          out = fallback;
          return true;
        }
        if (!j[field].is_string() || j[field].get<std::string>().empty()) {
          err = where + ": " + field + ": expected a non-empty string";
          return false;
        }
        out = j[field].get<std::string>();
        return true;
      };
      std::string compiler, src, test, out, genesis;
      if (!text("name", dir.filename().c_str(), p.name) ||
          !text("compiler", compiler::kCompilerVersion, compiler) || !text("src", "src", src) ||
          !text("test", "test", test) || !text("out", "out", out) ||
          !text("genesis", "default", genesis))
        return std::nullopt;
      if (compiler != compiler::kCompilerVersion) {
        err = where + ": compiler: the project asks for \"" + compiler + "\"; this is \"" +
              compiler::kCompilerVersion + "\"";
        return std::nullopt;
      }
      if (j.contains("imports")) {
        if (!j["imports"].is_array()) {
          err = where + ": imports: expected an array of directories";
          return std::nullopt;
        }
        for (size_t i = 0; i < j["imports"].size(); ++i) {
          if (!j["imports"][i].is_string()) {
            err = where + ": imports[" + std::to_string(i) + "]: expected a directory name";
            return std::nullopt;
          }
          p.import_dirs.push_back(dir / j["imports"][i].get<std::string>());
        }
      }
      p.import_dirs.insert(p.import_dirs.begin(), dir / src);
      p.src_dir = dir / src;
      p.test_dir = dir / test;
      p.out_dir = dir / out;
      if (genesis != "default") p.genesis = dir / genesis;
      return p;
    }
    if (!dir.has_parent_path() || dir.parent_path() == dir) return std::nullopt;
    dir = dir.parent_path();
  }
}

bool collect_writ_files(const std::string& path, std::vector<std::string>& out, std::string& err) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    out.push_back(path);
    return true;
  }
  if (!fs::is_directory(path, ec)) {
    err = path + ": no such file or directory";
    return false;
  }
  std::vector<std::string> found;
  for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file() && it->path().extension() == ".writ")
      found.push_back(it->path().string());
  if (ec) {
    err = path + ": " + ec.message();
    return false;
  }
  std::sort(found.begin(), found.end());
  out.insert(out.end(), found.begin(), found.end());
  return true;
}

std::string default_stdlib_dir() {
  if (const char* env = std::getenv("WRIT_STDLIB")) return env;
#ifdef WRIT_STDLIB_DIR
  return WRIT_STDLIB_DIR;
#else
  return "stdlib";
#endif
}

}  // namespace writ::cli

// ---- writ build in a project ----------------------------------------------------

namespace writ::cli {

namespace {

bool read_text_file(const fs::path& p, std::string& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

// The names of `import "name";` declarations in `text` (a word "import",
// spaces, a quoted name, spaces, a semicolon). A match inside a comment only
// adds a dependency, which costs a rebuild at most.
std::vector<std::string> imported_names(const std::string& text) {
  std::vector<std::string> out;
  auto space = [&](size_t i) {
    while (i < text.size() &&
           (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
      ++i;
    return i;
  };
  for (size_t at = text.find("import"); at != std::string::npos; at = text.find("import", at + 6)) {
    if (at > 0 && (std::isalnum(static_cast<unsigned char>(text[at - 1])) || text[at - 1] == '_'))
      continue;
    size_t i = space(at + 6);
    if (i == at + 6 || i >= text.size() || text[i] != '"') continue;
    const size_t close = text.find('"', i + 1);
    if (close == std::string::npos) break;
    const size_t semi = space(close + 1);
    if (semi < text.size() && text[semi] == ';' && close > i + 1)
      out.push_back(text.substr(i + 1, close - i - 1));
  }
  return out;
}

// Adds `file` and what it imports (found as the compiler finds it: its own
// directory, the import directories, the standard library) to `seen`, by
// canonical path, with their text.
void gather(const fs::path& file, const compiler::CompileOptions& opts,
            std::map<std::string, std::string>& seen) {
  std::error_code ec;
  const std::string key = fs::weakly_canonical(file, ec).string();
  if (seen.count(key)) return;
  std::string text;
  if (!read_text_file(file, text)) {
    seen[key] = "";  // a missing import: the compiler will say so
    return;
  }
  seen[key] = text;
  for (const std::string& imported : imported_names(text)) {
    std::string name = imported;
    if (name.size() <= 5 || name.substr(name.size() - 5) != ".writ") name += ".writ";
    std::vector<fs::path> candidates{file.parent_path() / name};
    for (const std::string& d : opts.import_dirs) candidates.push_back(fs::path(d) / name);
    if (!opts.stdlib_dir.empty()) candidates.push_back(fs::path(opts.stdlib_dir) / name);
    for (const fs::path& c : candidates)
      if (fs::is_regular_file(c, ec)) {
        gather(c, opts, seen);
        break;
      }
  }
}

std::string build_key(const fs::path& file, const compiler::CompileOptions& opts) {
  std::map<std::string, std::string> seen;
  gather(file, opts, seen);
  std::string all = std::string(compiler::kCompilerVersion) + '\0';
  for (const auto& [path, text] : seen) all += path + '\0' + text + '\0';
  return runtime::sha256(
             std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(all.data()), all.size()))
      .hex();
}

}  // namespace

int build_project(const Project& p, compiler::CompileOptions opts, bool force) {
  for (const fs::path& d : p.import_dirs) opts.import_dirs.push_back(d.string());
  std::vector<std::string> files;
  std::string err;
  if (!collect_writ_files(p.src_dir.string(), files, err)) {
    std::fprintf(stderr, "writ build: %s\n", err.c_str());
    return kExitInput;
  }
  std::error_code ec;
  fs::create_directories(p.out_dir, ec);
  if (ec) {
    std::fprintf(stderr, "writ build: %s: %s\n", p.out_dir.string().c_str(), ec.message().c_str());
    return kExitInput;
  }
  const fs::path cache_path = p.out_dir / ".build-cache.json";
  nlohmann::json cache = nlohmann::json::object();
  {
    std::string text;
    if (read_text_file(cache_path, text)) {
      auto j = nlohmann::json::parse(text, nullptr, false);
      if (!j.is_discarded() && j.is_object() &&
          j.value("compiler", "") == compiler::kCompilerVersion && j.contains("files") &&
          j["files"].is_object())
        cache = j["files"];
    }
  }
  nlohmann::json next = nlohmann::json::object();
  size_t built = 0, fresh = 0, errors = 0;
  for (const std::string& f : files) {
    const std::string rel = fs::relative(f, p.root, ec).string();
    const std::string key = build_key(f, opts);
    if (!force && cache.contains(rel) && cache[rel].is_object() &&
        cache[rel].value("key", "") == key && cache[rel].contains("contracts") &&
        cache[rel]["contracts"].is_array()) {
      bool present = true;
      for (const auto& name : cache[rel]["contracts"])
        for (const char* ext : {".wbc", ".abi.json", ".debug.json"})
          present = present && name.is_string() &&
                    fs::is_regular_file(p.out_dir / (name.get<std::string>() + ext), ec);
      if (present) {
        ++fresh;
        next[rel] = cache[rel];
        std::printf("%s: up to date\n", rel.c_str());
        continue;
      }
    }
    compiler::CompileOutput out = compiler::compile_file(f, opts);
    std::fputs(out.diagnostics.c_str(), stderr);
    if (!out.ok) {
      errors += std::max<size_t>(out.error_count, 1);
      continue;
    }
    nlohmann::json names = nlohmann::json::array();
    for (const compiler::ContractOutput& c : out.contracts) {
      if (!emit_contract(c, p.out_dir, err)) {
        std::fprintf(stderr, "writ build: %s\n", err.c_str());
        return kExitInput;
      }
      names.push_back(c.name);
    }
    if (out.contracts.empty()) std::printf("%s: no contracts (checked only)\n", rel.c_str());
    next[rel] = {{"key", key}, {"contracts", names}};
    ++built;
  }
  const nlohmann::json record = {{"compiler", compiler::kCompilerVersion}, {"files", next}};
  std::ofstream o(cache_path, std::ios::binary | std::ios::trunc);
  o << record.dump(2) << "\n";
  o.close();
  if (errors) {
    std::fprintf(stderr, "writ build: %zu error%s\n", errors, errors == 1 ? "" : "s");
    return kExitInput;
  }
  std::printf("built %zu file%s, %zu up to date -> %s\n", built, built == 1 ? "" : "s", fresh,
              p.out_dir.string().c_str());
  return kExitOk;
}

}  // namespace writ::cli

// ---- writ init ------------------------------------------------------------------

namespace writ::cli {

const char* kInitHelp =
    "usage: writ init NAME\n"
    "Makes a project in the new directory NAME: writ.json (the manifest: name,\n"
    "compiler, source, test and output directories, the genesis tests run on),\n"
    "a contract in src/ with its interface, and its tests in test/. Then:\n"
    "  cd NAME && writ test      run the tests\n"
    "  writ build                build src/ into out/\n";

namespace {

// clang-format off
const char* kCounterApi = R"writ(// What Counter offers other contracts, and its tests: its interface, events
// and errors. The contract imports it too, so the two cannot drift apart.
interface ICounter {
  fn increment() -> u64;
  fn add(n: u64) -> u64;
  fn reset();
  view fn value() -> u64;
  view fn owner() -> address;
}

event Incremented(by: address indexed, value: u64);
error NotOwner(caller: address);
)writ";

const char* kCounter = R"writ(// A counter that only its owner may reset.
import "counter_api";

contract Counter {
  storage owner: address;
  storage count: u64;

  init() { owner = caller(); }

  pub fn increment() -> u64 {
    count += 1;
    emit Incremented(caller(), count);
    return count;
  }

  pub fn add(n: u64) -> u64 {
    count += n;
    return count;
  }

  pub fn reset() {
    require(caller() == owner, NotOwner(caller()));
    count = 0;
  }

  pub view fn value() -> u64 { return count; }
  pub view fn owner() -> address { return owner; }
}
)writ";

const char* kCounterTest = R"writ(// Tests of Counter, run by `writ test`: every public test_* function runs in
// a fresh chain, after setup(). t() is the test helpers (stdlib/test.writ).
import "test";
import "counter_api";  // from src/: a project imports from its sources

contract CounterTest {
  storage counter: address;

  pub fn setup() { counter = t().deploy("Counter", call_data("$init()")); }

  pub fn test_increment_counts_up() {
    ICounter(counter).increment();
    assert(ICounter(counter).increment() == 2);
    assert(ICounter(counter).value() == 2);
  }

  pub fn test_increment_emits_an_event() {
    t().expect_emit("Incremented");
    ICounter(counter).increment();
  }

  // A property test: it runs on many generated values of n.
  pub fn test_add_adds(n: u32) {
    ICounter(counter).increment();
    assert(ICounter(counter).add(n as u64) == 1 + n as u64);
  }

  // An invariant: checked after every call of random call sequences to the
  // contracts setup() deployed (increment, add, reset, from several callers).
  pub fn invariant_the_owner_never_changes() {
    assert(ICounter(counter).owner() == self_address());
  }

  pub fn test_only_the_owner_resets() {
    ICounter(counter).increment();
    t().prank(address(0xbad));
    t().expect_revert("NotOwner");
    ICounter(counter).reset();
    assert(ICounter(counter).value() == 1);
    ICounter(counter).reset();  // the test contract deployed it: it is the owner
    assert(ICounter(counter).value() == 0);
  }
}
)writ";
// clang-format on

}  // namespace

int cmd_init(const std::vector<std::string>& args) {
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    std::fputs(kInitHelp, stdout);
    return kExitOk;
  }
  if (args.size() != 1 || args[0].empty() || args[0][0] == '-') {
    std::fputs(kInitHelp, stderr);
    return kExitUsage;
  }
  const fs::path dir = args[0];
  std::error_code ec;
  if (fs::exists(dir, ec) && !(fs::is_directory(dir, ec) && fs::is_empty(dir, ec))) {
    std::fprintf(stderr, "writ init: %s already exists and is not an empty directory\n",
                 dir.string().c_str());
    return kExitUsage;
  }
  const std::string name = fs::absolute(dir, ec).filename().string();
  fs::create_directories(dir / "src", ec);
  if (!ec) fs::create_directories(dir / "test", ec);
  if (ec) {
    std::fprintf(stderr, "writ init: %s: %s\n", dir.string().c_str(), ec.message().c_str());
    return kExitInput;
  }
  nlohmann::json manifest = {{"name", name},        {"compiler", compiler::kCompilerVersion},
                             {"src", "src"},        {"test", "test"},
                             {"out", "out"},        {"imports", nlohmann::json::array()},
                             {"genesis", "default"}};
  std::string err;
  if (!write_file_text(dir / "writ.json", manifest.dump(2) + "\n", err) ||
      !write_file_text(dir / "src" / "counter_api.writ", kCounterApi, err) ||
      !write_file_text(dir / "src" / "counter.writ", kCounter, err) ||
      !write_file_text(dir / "test" / "counter_test.writ", kCounterTest, err) ||
      !write_file_text(dir / ".gitignore", "out/\n", err)) {
    std::fprintf(stderr, "writ init: %s\n", err.c_str());
    return kExitInput;
  }
  std::printf(
      "made project %s in %s\n  writ.json\n  src/counter.writ, src/counter_api.writ\n"
      "  test/counter_test.writ\nnext: cd %s && writ test\n",
      name.c_str(), dir.string().c_str(), dir.string().c_str());
  return kExitOk;
}

}  // namespace writ::cli
