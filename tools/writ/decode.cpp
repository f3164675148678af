// Decoding by ABI and debug info (contract in decode.hpp).
#include "decode.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>

#include "commands.hpp"
#include "writ/compiler/abi_format.hpp"
#include "writ/contracts/system.hpp"
#include "writ/vm/abi.hpp"

namespace writ::cli {

namespace fs = std::filesystem;
using compiler::AbiEntry;
using compiler::AbiParam;
using compiler::ContractOutput;
using json = nlohmann::json;
using vm::U256;

// ---- debug info ---------------------------------------------------------------------------

LineTable::LineTable(const ContractOutput& c) {
  const json d = json::parse(c.debug_json, nullptr, false);
  if (!d.is_object() || !d.contains("files") || !d.contains("functions")) return;
  for (const auto& f : d["files"]) files_.push_back(f.is_string() ? f.get<std::string>() : "?");
  for (const auto& f : d["functions"]) {
    if (!f.is_object() || !f.contains("pcs") || !f["pcs"].is_array()) continue;
    const size_t index = f.value("index", size_t{0});
    if (index > 65535) continue;
    if (funcs_.size() <= index) funcs_.resize(index + 1);
    funcs_[index].name = f.value("name", std::string());
    for (const auto& p : f["pcs"])
      if (p.is_array() && p.size() >= 3 && p[0].is_number_unsigned() && p[1].is_number_unsigned() &&
          p[2].is_number_unsigned())
        funcs_[index].spans.push_back(
            {p[0].get<uint32_t>(), p[1].get<uint32_t>(), p[2].get<uint32_t>()});
    if (f.contains("locals") && f["locals"].is_array())
      for (const auto& l : f["locals"]) {
        if (!l.is_object() || !l.contains("registers") || !l["registers"].is_array()) continue;
        Local loc;
        loc.name = l.value("name", std::string());
        loc.type = l.value("type", std::string());
        for (const auto& r : l["registers"])
          if (r.is_number_unsigned()) loc.registers.push_back(r.get<uint32_t>());
        funcs_[index].locals.push_back(std::move(loc));
      }
  }
  if (d.contains("types") && d["types"].is_object())
    for (const auto& [name, t] : d["types"].items()) {
      if (!t.is_object()) continue;
      Named n;
      if (t.contains("variants") && t["variants"].is_array())
        for (const auto& v : t["variants"])
          n.variants.push_back(v.is_string() ? v.get<std::string>() : "?");
      if (t.contains("fields") && t["fields"].is_array())
        for (const auto& f : t["fields"]) {
          if (!f.is_object()) continue;
          n.fields.push_back({f.value("name", std::string()), f.value("type", std::string()),
                              f.value("registers", size_t{1})});
        }
      types_[name] = std::move(n);
    }
}

std::string LineTable::format(const std::string& type, const std::vector<vm::Value>& vals,
                              size_t& k, size_t count) const {
  auto it = types_.find(type);
  if (it != types_.end() && !it->second.variants.empty() && count == 1 && k < vals.size()) {
    const vm::Value& v = vals[k++];
    const U256& w = v.word;
    return w.fits_u64() && w.low64() < it->second.variants.size()
               ? type + "::" + it->second.variants[w.low64()]
               : type + "(" + vm::to_dec_string(w) + ")";
  }
  if (it != types_.end() && !it->second.fields.empty()) {
    size_t total = 0;
    for (const Field& f : it->second.fields) total += f.registers;
    if (total == count && k + count <= vals.size()) {
      std::string s = "{";
      for (size_t i = 0; i < it->second.fields.size(); ++i) {
        const Field& f = it->second.fields[i];
        s += (i ? ", " : "") + f.name + ": " + format(f.type, vals, k, f.registers);
      }
      return s + "}";
    }
  }
  return compiler::format_typed(type, vals, k, count);
}

std::pair<std::string, uint32_t> LineTable::at(uint32_t func, uint32_t pc) const {
  if (func >= funcs_.size()) return {"", 0};
  const auto& sp = funcs_[func].spans;
  auto it = std::upper_bound(sp.begin(), sp.end(), pc,
                             [](uint32_t v, const Span& s) { return v < s.pc; });
  if (it == sp.begin()) return {"", 0};
  --it;
  return {it->file < files_.size() ? files_[it->file] : "?", it->line};
}

std::string LineTable::function_name(uint32_t func) const {
  return func < funcs_.size() && !funcs_[func].name.empty() ? funcs_[func].name
                                                            : "function " + std::to_string(func);
}

const std::vector<LineTable::Local>& LineTable::locals(uint32_t func) const {
  static const std::vector<Local> kNone;
  return func < funcs_.size() ? funcs_[func].locals : kNone;
}

SourceSpot source_spot(const ContractOutput& c, uint32_t func, uint32_t pc,
                       const std::string& search_dir) {
  SourceSpot spot;
  const json d = json::parse(c.debug_json, nullptr, false);
  if (!d.is_object() || !d.contains("functions") || !d["functions"].is_array() ||
      !d.contains("files") || !d["files"].is_array())
    return spot;
  for (const auto& f : d["functions"]) {
    if (!f.is_object() || f.value("index", -1) != static_cast<int64_t>(func)) continue;
    auto pcs = f.find("pcs");
    if (pcs == f.end() || !pcs->is_array()) return spot;
    const json* best = nullptr;
    for (const auto& p : *pcs)
      if (p.is_array() && p.size() >= 4 && p[0].is_number_unsigned() && p[1].is_number_unsigned() &&
          p[2].is_number_unsigned() && p[3].is_number_unsigned() && p[0].get<uint64_t>() <= pc)
        best = &p;
    if (!best) return spot;
    const size_t file = (*best)[1].get<size_t>();
    const uint64_t line = (*best)[2].get<uint64_t>(), col = (*best)[3].get<uint64_t>();
    if (file >= d["files"].size() || !d["files"][file].is_string()) return spot;
    const std::string path = d["files"][file].get<std::string>();
    spot.where = path + ":" + std::to_string(line) + ":" + std::to_string(col);
    std::ifstream in(path);
    if (!in && !search_dir.empty()) in.open(fs::path(search_dir) / fs::path(path).filename());
    std::string text;
    for (uint64_t n = 1; in && std::getline(in, text); ++n)
      if (n == line) {
        size_t start = text.find_first_not_of(" \t");
        spot.line_text = start == std::string::npos ? "" : text.substr(start);
        break;
      }
    return spot;
  }
  return spot;
}

std::string function_name(const ContractOutput& c, uint32_t func) {
  if (func < c.module.functions.size()) return c.module.functions[func].name;
  const json d = json::parse(c.debug_json, nullptr, false);
  if (d.is_object() && d.contains("functions") && d["functions"].is_array())
    for (const auto& f : d["functions"])
      if (f.is_object() && f.value("index", -1) == static_cast<int64_t>(func) &&
          f.contains("name") && f["name"].is_string())
        return f["name"].get<std::string>();
  return "function " + std::to_string(func);
}

// ---- ABI JSON -----------------------------------------------------------------------------

namespace {

bool parse_selector(const std::string& s, uint32_t& out) {
  if (s.size() != 10 || s[0] != '0' || s[1] != 'x') return false;
  uint32_t x = 0;
  for (size_t i = 2; i < 10; ++i) {
    const char c = s[i];
    const int d = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
    if (d < 0) return false;
    x = (x << 4) | static_cast<uint32_t>(d);
  }
  out = x;
  return true;
}

bool read_param(const json& j, const std::string& where, AbiParam& p, std::string& err,
                int depth = 0) {
  if (!j.is_object()) return (err = where + ": expected an object"), false;
  if (depth > 32) return (err = where + ": nested too deeply"), false;
  if (j.contains("name")) {
    if (!j["name"].is_string()) return (err = where + ".name: expected a string"), false;
    p.name = j["name"].get<std::string>();
  }
  if (!j.contains("type") || !j["type"].is_string())
    return (err = where + ".type: expected a string"), false;
  p.type = j["type"].get<std::string>();
  if (!j.contains("abi") || !j["abi"].is_array())
    return (err = where + ".abi: expected an array of \"u64\", \"u256\", \"bytes\""), false;
  for (size_t i = 0; i < j["abi"].size(); ++i) {
    const json& t = j["abi"][i];
    if (t == "u64")
      p.flat.push_back(vm::ValType::U64);
    else if (t == "u256")
      p.flat.push_back(vm::ValType::U256);
    else if (t == "bytes")
      p.flat.push_back(vm::ValType::Buf);
    else
      return (err = where + ".abi[" + std::to_string(i) + "]: " + t.dump() +
                    " is not u64, u256 or bytes"),
             false;
  }
  if (j.contains("indexed")) {
    if (!j["indexed"].is_boolean())
      return (err = where + ".indexed: expected true or false"), false;
    p.indexed = j["indexed"].get<bool>();
  }
  if (j.contains("fields")) {
    if (!j["fields"].is_array()) return (err = where + ".fields: expected an array"), false;
    size_t flat = 0;
    for (size_t i = 0; i < j["fields"].size(); ++i) {
      AbiParam f;
      if (!read_param(j["fields"][i], where + ".fields[" + std::to_string(i) + "]", f, err,
                      depth + 1))
        return false;
      flat += f.flat.size();
      p.fields.push_back(std::move(f));
    }
    if (flat != p.flat.size())
      return (err = where + ".fields: " + std::to_string(flat) + " values, but abi lists " +
                    std::to_string(p.flat.size())),
             false;
  }
  if (j.contains("variants")) {
    if (!j["variants"].is_array()) return (err = where + ".variants: expected an array"), false;
    for (size_t i = 0; i < j["variants"].size(); ++i) {
      if (!j["variants"][i].is_string())
        return (err = where + ".variants[" + std::to_string(i) + "]: expected a string"), false;
      p.variants.push_back(j["variants"][i].get<std::string>());
    }
  }
  return true;
}

bool read_params(const json& j, const std::string& where, std::vector<AbiParam>& out,
                 std::string& err) {
  if (!j.is_array()) return (err = where + ": expected an array"), false;
  for (size_t i = 0; i < j.size(); ++i) {
    AbiParam p;
    if (!read_param(j[i], where + "[" + std::to_string(i) + "]", p, err)) return false;
    out.push_back(std::move(p));
  }
  return true;
}

// The topic of an event as the VM computes it (decode_log matches the same way).
U256 topic_of(const AbiEntry& e) {
  vm::Event ve;
  ve.name = e.name;
  for (const AbiParam& p : e.inputs)
    for (vm::ValType t : p.flat) ve.fields.push_back({t, p.indexed});
  return vm::event_topic(ve);
}

uint32_t selector_of_data(std::span<const uint8_t> d) {
  return d.size() < 4
             ? 0
             : (uint32_t{d[0]} << 24) | (uint32_t{d[1]} << 16) | (uint32_t{d[2]} << 8) | d[3];
}

}  // namespace

bool read_abi_json(const std::string& path, const std::string& text, ContractOutput& out,
                   std::string& err) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    err = path + ": not JSON (expected the NAME.abi.json that writ build writes)";
    return false;
  }
  if (!j.contains("contract") || !j["contract"].is_string()) {
    err = path + ": contract: expected the contract's name";
    return false;
  }
  out.name = j["contract"].get<std::string>();
  const char* kinds[] = {"functions", "events", "errors"};
  for (const char* kind : kinds) {
    if (!j.contains(kind)) continue;
    const json& list = j[kind];
    if (!list.is_array()) {
      err = path + ": " + kind + ": expected an array";
      return false;
    }
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string where = path + ": " + kind + "[" + std::to_string(i) + "]";
      const json& e = list[i];
      if (!e.is_object() || !e.contains("name") || !e["name"].is_string()) {
        err = where + ".name: expected a string";
        return false;
      }
      AbiEntry a;
      a.name = e["name"].get<std::string>();
      const std::string kind_s = kind;
      if (kind_s != "events" && !(e.contains("selector") && e["selector"].is_string() &&
                                  parse_selector(e["selector"].get<std::string>(), a.selector))) {
        err = where + ".selector: expected 0x and 8 hex digits";
        return false;
      }
      const char* in_key = kind_s == "functions" ? "inputs" : "fields";
      if (!read_params(e.value(in_key, json::array()), where + "." + in_key, a.inputs, err))
        return false;
      if (kind_s == "functions") {
        if (!read_params(e.value("outputs", json::array()), where + ".outputs", a.outputs, err))
          return false;
        a.view = e.value("view", false) == true;
        a.payable = e.value("payable", false) == true;
        a.reentrant = e.value("reentrant", false) == true;
        a.constructor = e.value("constructor", false) == true;
        out.functions.push_back(std::move(a));
      } else if (kind_s == "events") {
        out.events.push_back(std::move(a));
      } else {
        out.errors.push_back(std::move(a));
      }
    }
  }
  return true;
}

// ---- the book -------------------------------------------------------------------------------

void ContractBook::add_compiled(const compiler::CompileOutput& out) {
  for (const ContractOutput& c : out.contracts) {
    Entry e;
    e.contract = c;
    e.code_hash = vm::code_hash(c.bytecode);
    e.origin = "source";
    entries_.push_back(std::move(e));
  }
}

void ContractBook::add_system_contracts() {
  for (const contracts::SystemContract& sc : contracts::system_contracts()) {
    Entry e;
    std::string err;
    if (!read_abi_json(std::string(sc.name) + ".abi.json", std::string(sc.abi_json), e.contract,
                       err))
      continue;  // the build's own ABI: cannot be malformed
    e.code_hash = vm::code_hash(sc.module);
    e.contract.debug_json = std::string(sc.debug_json);
    e.origin = std::string(sc.source);
    e.system = true;
    // Source lines come from this checkout's contracts/ (the debug info's
    // paths are where the build compiled them).
    e.source_dir = (fs::path(WRIT_SOURCE_DIR) / std::string(sc.source)).parent_path().string();
    entries_.push_back(std::move(e));
    bind(sc.address.to_u256(), &entries_.back().contract);
  }
}

bool ContractBook::add_abi_file(const std::string& path, std::string& err) {
  std::vector<uint8_t> raw;
  if (!read_file(path, raw, err)) return false;
  Entry e;
  if (!read_abi_json(path, std::string(raw.begin(), raw.end()), e.contract, err)) return false;
  e.contract.abi_json.assign(raw.begin(), raw.end());  // the storage layout, for the debugger
  e.origin = path;
  // NAME.abi.json -> NAME.debug.json, NAME.wbc beside it.
  std::string stem = path;
  if (ends_with(stem, ".abi.json"))
    stem.resize(stem.size() - 9);
  else if (ends_with(stem, ".json"))
    stem.resize(stem.size() - 5);
  std::error_code ec;
  if (fs::exists(stem + ".debug.json", ec)) {
    std::vector<uint8_t> d;
    if (!read_file(stem + ".debug.json", d, err)) return false;
    e.contract.debug_json.assign(d.begin(), d.end());
    if (json::parse(e.contract.debug_json, nullptr, false).is_discarded()) {
      err = stem + ".debug.json: not JSON";
      return false;
    }
  }
  if (fs::exists(stem + ".wbc", ec)) {
    std::vector<uint8_t> code;
    if (!read_file(stem + ".wbc", code, err)) return false;
    e.code_hash = vm::code_hash(code);
    // The module too (its functions' registers and code: the debugger's
    // locals); a module that does not decode is left out, not an error.
    if (auto m = vm::decode_module(code); m.ok()) {
      e.contract.module = std::move(m.value());
      e.contract.bytecode = std::move(code);
    }
  }
  e.source_dir = fs::path(path).parent_path().string();
  entries_.push_back(std::move(e));
  return true;
}

bool ContractBook::add_build_dir(const std::string& dir, std::string& err) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    err = dir + ": not a directory (give the -o directory of writ build)";
    return false;
  }
  std::vector<std::string> files;
  for (const auto& de : fs::directory_iterator(dir, ec))
    if (ends_with(de.path().filename().string(), ".abi.json")) files.push_back(de.path().string());
  if (ec) {
    err = dir + ": " + ec.message();
    return false;
  }
  if (files.empty()) {
    err = dir + ": no NAME.abi.json files (the outputs of writ build)";
    return false;
  }
  std::sort(files.begin(), files.end());  // a stable order, whatever the directory's
  for (const std::string& f : files)
    if (!add_abi_file(f, err)) return false;
  return true;
}

const ContractOutput* ContractBook::find_name(const std::string& name) const {
  for (const Entry& e : entries_)
    if (e.contract.name == name) return &e.contract;
  return nullptr;
}

const ContractBook::Entry* ContractBook::entry_of(const ContractOutput* c) const {
  for (const Entry& e : entries_)
    if (&e.contract == c) return &e;
  return nullptr;
}

void ContractBook::bind(const U256& address, const ContractOutput* c) {
  for (size_t i = 0; i < entries_.size(); ++i)
    if (&entries_[i].contract == c) bound_[address] = i;
}

const ContractOutput* ContractBook::bind_code(const U256& address, const vm::CodeHash& hash) {
  for (size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].code_hash && *entries_[i].code_hash == hash) {
      bound_[address] = i;
      return &entries_[i].contract;
    }
  return nullptr;
}

bool ContractBook::has_code_hashes() const {
  for (const Entry& e : entries_)
    if (e.code_hash) return true;
  return false;
}

const ContractOutput* ContractBook::at(const U256& address) const {
  auto it = bound_.find(address);
  return it == bound_.end() ? nullptr : &entries_[it->second].contract;
}

const AbiEntry* ContractBook::function_of(const ContractOutput& c, uint32_t selector) const {
  for (const AbiEntry& f : c.functions)
    if (f.selector == selector) return &f;
  return nullptr;
}

const ContractOutput* ContractBook::for_call(const U256& address, uint32_t selector) const {
  if (const ContractOutput* c = at(address)) return c;
  const ContractOutput* found = nullptr;
  for (const Entry& e : entries_) {
    if (!function_of(e.contract, selector)) continue;
    if (found) return nullptr;  // ambiguous
    found = &e.contract;
  }
  return found;
}

std::string ContractBook::revert(const ContractOutput* c, const std::vector<uint8_t>& data) const {
  const uint32_t sel = selector_of_data(data);
  auto declares = [&](const ContractOutput& k) {
    if (data.size() < 4) return false;
    for (const AbiEntry& e : k.errors)
      if (e.selector == sel) return true;
    return false;
  };
  if (c && declares(*c)) return compiler::decode_revert(*c, data);
  for (const Entry& e : entries_)
    if (declares(e.contract)) return compiler::decode_revert(e.contract, data);
  return data.empty() ? "" : "data " + hex(data);
}

std::optional<std::string> ContractBook::event(const ContractOutput* c,
                                               std::span<const U256> topics,
                                               std::span<const uint8_t> data) const {
  if (topics.empty()) return std::nullopt;
  auto declares = [&](const ContractOutput& k) {
    for (const AbiEntry& e : k.events)
      if (topic_of(e) == topics[0]) return true;
    return false;
  };
  if (c && declares(*c)) return compiler::decode_log(*c, topics, data);
  for (const Entry& e : entries_)
    if (!e.system && declares(e.contract)) return compiler::decode_log(e.contract, topics, data);
  return std::nullopt;
}

// ---- the failure chain --------------------------------------------------------------------

namespace {

struct FrameText {
  std::string title;     // "Mid.mid (0x..)"
  std::string contract;  // "" if unknown
  std::string function;  // called function, "" if unknown
  std::string outcome;   // "Revert: Error(...)", "Overflow", "Reentrancy (refused: ...)"
  std::string revert;    // decoded revert data, for Revert
  std::string at;        // function of the location
  SourceSpot spot;
};

FrameText describe(const ContractBook& book, const Frame& f,
                   const std::vector<uint8_t>& revert_data) {
  FrameText t;
  const ContractOutput* c =
      f.selector_known ? book.for_call(f.address, f.selector) : book.at(f.address);
  if (c) {
    t.contract = c->name;
    if (f.selector_known)
      if (const AbiEntry* fn = book.function_of(*c, f.selector)) t.function = fn->name;
  }
  char sel[16];
  std::snprintf(sel, sizeof sel, "0x%08x", f.selector);
  const std::string addr = vm::to_hex_string(f.address);
  if (!c)
    t.title = addr + " (unknown contract" +
              (f.selector_known ? ", selector " + std::string(sel) : std::string()) + ")";
  else
    t.title = c->name + "." + (!t.function.empty() ? t.function : "selector " + std::string(sel)) +
              " at " + addr;
  const std::string status(vm::status_name(f.status));
  if (f.status == vm::Status::Revert) {
    t.revert = book.revert(c, revert_data);
    t.outcome = "Revert" + (t.revert.empty() ? "" : ": " + t.revert);
  } else if (vm::is_refusal(f.status)) {
    t.outcome =
        status + " (refused before it ran" + (f.detail.empty() ? "" : ": " + f.detail) + ")";
  } else {
    t.outcome = status + (f.detail.empty() ? "" : ": " + f.detail);
  }
  if (!vm::is_refusal(f.status)) {
    t.at = c ? function_name(*c, f.func) : "function " + std::to_string(f.func);
    if (c) {
      const ContractBook::Entry* e = book.entry_of(c);
      t.spot = source_spot(*c, f.func, f.pc, e ? e->source_dir : "");
    }
  }
  return t;
}

Frame frame_of(const vm::FailedCall& fc) {
  Frame f;
  f.address = fc.callee;
  f.selector = fc.selector;
  f.selector_known = true;
  f.status = fc.status;
  f.func = fc.func;
  f.pc = fc.pc;
  f.detail = fc.detail;
  return f;
}

}  // namespace

std::string format_chain(const ContractBook& book, const Frame& top,
                         const std::vector<vm::FailedCall>& calls, uint32_t omitted,
                         const std::vector<uint8_t>& revert_data) {
  std::vector<Frame> frames;
  frames.push_back(top);
  for (size_t i = calls.size(); i-- > 0;) frames.push_back(frame_of(calls[i]));
  std::string o = "call chain (outermost first):\n";
  for (size_t i = 0; i < frames.size(); ++i) {
    if (i == 1 && omitted)
      o += "  ... " + std::to_string(omitted) + " more call" + (omitted == 1 ? "" : "s") +
           " not recorded\n";
    FrameText t = describe(book, frames[i], revert_data);
    o += "  " + std::to_string(i) + ": " + t.title + ": " + t.outcome + "\n";
    if (!t.at.empty()) {
      o += "     at " + t.at + " pc " + std::to_string(frames[i].pc);
      if (!t.spot.where.empty())
        o += ", " + t.spot.where + (t.spot.line_text.empty() ? "" : ": " + t.spot.line_text);
      o += "\n";
    }
  }
  return o;
}

std::string chain_json(const ContractBook& book, const std::vector<vm::FailedCall>& calls,
                       const std::vector<uint8_t>& revert_data) {
  using ojson = nlohmann::ordered_json;
  ojson a = ojson::array();
  for (const vm::FailedCall& fc : calls) {
    const Frame f = frame_of(fc);
    FrameText t = describe(book, f, revert_data);
    char sel[16];
    std::snprintf(sel, sizeof sel, "0x%08x", f.selector);
    ojson j = {{"address", vm::to_hex_string(f.address)},
               {"contract", t.contract},
               {"function", t.function},
               {"selector", sel},
               {"status", std::string(vm::status_name(f.status))}};
    if (f.status == vm::Status::Revert) j["revert"] = t.revert;
    j["at"] = t.at;
    j["pc"] = f.pc;
    j["source"] = t.spot.where;
    j["line"] = t.spot.line_text;
    j["detail"] = f.detail;
    a.push_back(std::move(j));
  }
  return a.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

}  // namespace writ::cli
