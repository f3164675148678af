// The compiler driver: load the root file and its imports, analyse, generate
// and verify one module per contract.
#include "writ/compiler/compiler.hpp"

#include <pthread.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "codegen.hpp"
#include "parser.hpp"
#include "sema.hpp"
#include "writ/vm/verifier.hpp"

namespace writ::compiler {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxSourceSize = 4 << 20;
constexpr size_t kMaxImports = 256;

// Reads at most kMaxSourceSize + 1 bytes: enough to tell a source that is
// too large, and never a hang on a file that does not end (/dev/zero). A
// directory is not a source.
bool read_text(const std::string& path, std::string& out) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return false;
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out.assign(kMaxSourceSize + 1, '\0');
  f.read(out.data(), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<size_t>(f.gcount()));
  return !f.bad();
}

class Driver {
 public:
  Driver(const CompileOptions& o) : opts_(o), diags_(program_.sources) {}

  CompileOutput run(const std::string& path, const std::string* text) {
    CompileOutput out;
    std::string src;
    if (text) {
      src = *text;
    } else if (!read_text(path, src)) {
      std::error_code ec;
      out.diagnostics = path + (fs::is_directory(path, ec) ? ": error: is a directory\n"
                                                           : ": error: cannot read the file\n");
      out.error_count = 1;
      return out;
    }
    if (src.size() > kMaxSourceSize) {
      out.diagnostics = path + ": error: source larger than 4 MiB\n";
      out.error_count = 1;
      return out;
    }
    uint32_t id = program_.sources.add(path, std::move(src));
    program_.units.push_back(parse(program_.sources.file(id), id, diags_));
    loaded_.insert(canonical(path));
    load_imports(0, path);
    if (!diags_.has_errors() || syntax_errors_in_bodies_only()) {
      analyze(program_, diags_);
    }
    if (!diags_.has_errors()) {
      if (program_.contracts.empty() && !program_.units.empty()) {
        // A library file (no contract) compiles to nothing but is still checked.
      }
      auto contracts = generate(program_, diags_);
      for (auto& c : contracts) {
        if (diags_.has_errors()) break;  // a limit passed (said where): nothing to verify
        c.bytecode = vm::encode_module(c.module);
        if (c.bytecode.size() > vm::kMaxModuleSize) {
          diags_.error(contract_span(c.name), "contract " + c.name + " compiles to a module of " +
                                                  std::to_string(c.bytecode.size()) +
                                                  " bytes, past the VM's limit of " +
                                                  std::to_string(vm::kMaxModuleSize) +
                                                  "; move some functions to another contract");
          continue;
        }
        auto v = vm::load_module(c.bytecode);
        if (!v.ok()) {
          diags_.error(Span{0, 0, 0}, "internal compiler error: contract " + c.name +
                                          " does not verify: " + v.error().message);
          continue;
        }
        out.contracts.push_back(std::move(c));
      }
    }
    out.ok = !diags_.has_errors();
    if (!out.ok) out.contracts.clear();
    out.diagnostics = diags_.render();
    out.error_count = diags_.error_count();
    return out;
  }

 private:
  // Whether every error said so far (the lexer's and the parser's) lies in
  // a function's body; if so, those bodies are muted, so that the types of
  // the rest are checked in the same run without echoing the syntax errors.
  // An error outside every body (a declaration, a contract's member list)
  // can leave names undeclared that others use: then nothing is checked.
  bool syntax_errors_in_bodies_only() {
    std::vector<const FnDecl*> fns;
    for (const auto& u : program_.units) {
      for (const auto& f : u->fns) fns.push_back(f.get());
      for (const auto& c : u->contracts)
        for (const auto& f : c->fns) fns.push_back(f.get());
    }
    std::vector<Span> broken;  // the whole function, header and body
    for (const Diagnostic& d : diags_.all()) {
      if (d.severity != Severity::Error) continue;
      const FnDecl* in = nullptr;
      for (const FnDecl* f : fns) {
        const Span& b = f->body ? f->body->span : Span{};
        if (f->body && b.file == d.span.file && d.span.begin > b.begin && d.span.begin < b.end)
          in = f;
      }
      if (!in) return false;
      broken.push_back(Span{in->body->span.file, std::min(in->span.begin, in->body->span.begin),
                            in->body->span.end});
    }
    for (const Span& b : broken) diags_.mute(b);
    return true;
  }

  Span contract_span(const std::string& name) const {
    for (const ContractDecl* c : program_.contracts)
      if (c->name == name) return c->span;
    return Span{0, 0, 0};
  }
  static std::string canonical(const std::string& p) {
    std::error_code ec;
    auto c = fs::weakly_canonical(fs::path(p), ec);
    return ec ? p : c.string();
  }

  void load_imports(size_t unit_index, const std::string& path) {
    // Copy: loading appends to units_.
    std::vector<ImportDecl> imports = program_.units[unit_index]->imports;
    for (const ImportDecl& imp : imports) {
      if (program_.units.size() >= kMaxImports) {
        diags_.error(imp.span, "too many imported files (more than 256)");
        return;
      }
      std::string name = imp.path;
      if (name.empty() || name.find("..") != std::string::npos) {
        diags_.error(imp.span, "invalid import path \"" + name + "\"");
        continue;
      }
      std::string file =
          name.size() > 5 && name.substr(name.size() - 5) == ".writ" ? name : name + ".writ";
      std::vector<std::string> candidates;
      fs::path dir = fs::path(path).parent_path();
      candidates.push_back((dir / file).string());
      for (const std::string& d : opts_.import_dirs)
        candidates.push_back((fs::path(d) / file).string());
      if (!opts_.stdlib_dir.empty())
        candidates.push_back((fs::path(opts_.stdlib_dir) / file).string());
      std::string found;
      std::string text;
      for (const auto& c : candidates) {
        if (read_text(c, text)) {
          found = c;
          break;
        }
      }
      if (found.empty()) {
        std::string where;
        for (const auto& c : candidates) where += (where.empty() ? "" : ", ") + c;
        diags_.error(imp.span, "cannot find module \"" + name + "\" (looked for " + where + ")");
        continue;
      }
      std::string key = canonical(found);
      if (loaded_.count(key)) continue;  // imported already (or an import cycle): once is enough
      loaded_.insert(key);
      if (text.size() > kMaxSourceSize) {
        diags_.error(imp.span, "imported file " + found + " is larger than 4 MiB");
        continue;
      }
      uint32_t id = program_.sources.add(found, std::move(text));
      program_.units.push_back(parse(program_.sources.file(id), id, diags_));
      size_t idx = program_.units.size() - 1;
      if (!program_.units[idx]->contracts.empty())
        diags_.error(
            program_.units[idx]->contracts[0]->span,
            "an imported module cannot declare contracts (compose by calling interfaces instead)");
      load_imports(idx, found);
    }
  }

  const CompileOptions& opts_;
  Program program_;
  Diagnostics diags_;
  std::set<std::string> loaded_;
};

}  // namespace

namespace {

// The phases recurse over the syntax tree, whose depth the parser bounds
// (5,000 levels: parser.cpp). That is more than a default 8 MiB stack holds
// in every build (a sanitizer's frames are several times larger), so the
// compiler runs on a thread of its own with a stack sized for the bound;
// its pages are touched only as deep as the input goes. If no such thread
// can be made, it runs on the caller's.
constexpr size_t kCompilerStack = size_t{256} << 20;

CompileOutput run_with_stack(const CompileOptions& opts, const std::string& path,
                             const std::string* text) {
  struct Job {
    const CompileOptions* opts;
    const std::string* path;
    const std::string* text;
    CompileOutput out;
  } job{&opts, &path, text, {}};
  pthread_attr_t attr;
  pthread_t thread;
  bool started = false;
  if (pthread_attr_init(&attr) == 0) {
    started = pthread_attr_setstacksize(&attr, kCompilerStack) == 0 &&
              pthread_create(
                  &thread, &attr,
                  [](void* p) -> void* {
                    auto* j = static_cast<Job*>(p);
                    // Nothing may leave a thread's function: an exception
                    // (out of memory) becomes a diagnostic.
                    try {
                      j->out = Driver(*j->opts).run(*j->path, j->text);
                    } catch (const std::exception& e) {
                      j->out = CompileOutput{};
                      j->out.diagnostics =
                          *j->path + ": error: internal compiler error: " + e.what() + "\n";
                      j->out.error_count = 1;
                    }
                    return nullptr;
                  },
                  &job) == 0;
    pthread_attr_destroy(&attr);
  }
  if (!started) return Driver(opts).run(path, text);
  pthread_join(thread, nullptr);
  return std::move(job.out);
}

}  // namespace

CompileOutput compile_file(const std::string& path, const CompileOptions& opts) {
  return run_with_stack(opts, path, nullptr);
}

CompileOutput compile_source(const std::string& path, const std::string& text,
                             const CompileOptions& opts) {
  return run_with_stack(opts, path, &text);
}

}  // namespace writ::compiler
