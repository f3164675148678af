#include "storage_view.hpp"

#include <nlohmann/json.hpp>

#include "writ/compiler/abi_format.hpp"
#include "writ/runtime/crypto.hpp"

namespace writ::cli {

using nlohmann::json;
using vm::U256;

U256 storage_hash2(const U256& a, const U256& b) {
  uint8_t in[64];
  vm::to_be_bytes(a, in);
  vm::to_be_bytes(b, in + 32);
  return runtime::sha256(std::span<const uint8_t>(in, 64)).to_u256();
}

namespace {

std::string text_of(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

std::string format_word(const std::string& type, const U256& w) {
  std::vector<vm::Value> vals{vm::Value::u256(w)};
  size_t i = 0;
  return compiler::format_typed(type, vals, i, 1);
}

class Decoder {
 public:
  Decoder(const SlotRead& read, const Preimages& pre, std::vector<StorageVar>& out)
      : read_(read), pre_(pre), out_(out) {}

  void walk(const json& layout, const U256& slot, const std::string& label, const std::string& path,
            unsigned depth) {
    const std::string kind = text_of(layout, "kind");
    StorageVar v{label, path, type_name(layout), "", depth, kind != "value"};
    if (kind == "value") {
      const U256 w = read_(slot);
      v.value = format_word(v.type, w);
      if (layout.contains("variants") && layout["variants"].is_array() && w.fits_u64() &&
          w.low64() < layout["variants"].size() && layout["variants"][w.low64()].is_string())
        v.value = layout["variants"][w.low64()].get<std::string>();
      out_.push_back(std::move(v));
    } else if (kind == "struct") {
      out_.push_back(std::move(v));
      if (!layout.contains("fields") || !layout["fields"].is_array()) return;
      for (const json& f : layout["fields"]) {
        const std::string name = text_of(f, "name");
        const uint64_t offset = f.value("offset", uint64_t{0});
        walk(f.value("layout", json::object()), vm::add(slot, U256::from_u64(offset)), name,
             path + "." + name, depth + 1);
      }
    } else if (kind == "map" || kind == "iter_map") {
      const std::string key_type = text_of(layout, "key");
      std::vector<U256> keys;
      if (kind == "iter_map") {
        // Its keys are stored: the count at `slot`, key i at hash2(i, slot+1).
        const U256 n = read_(slot);
        v.type += " (" + vm::to_dec_string(n) + (n == U256::from_u64(1) ? " key)" : " keys)");
        const uint64_t count = n.fits_u64() ? n.low64() : UINT64_MAX;
        const U256 list = vm::add(slot, U256::from_u64(1));
        for (uint64_t k = 0; k < count && k <= kMaxStorageEntries; ++k)
          keys.push_back(read_(storage_hash2(U256::from_u64(k), list)));
      } else {
        for (const auto& [hash, pre] : pre_)
          if (pre.second == slot && keys.size() <= kMaxStorageEntries) keys.push_back(pre.first);
      }
      out_.push_back(std::move(v));
      if (keys.empty()) {
        out_.push_back({"(no entry reached by this call)", path, "", "", depth + 1, true});
        return;
      }
      const json value = layout.value("value", json::object());
      for (size_t k = 0; k < keys.size(); ++k) {
        if (k == kMaxStorageEntries) {
          out_.push_back({"(more entries not shown)", path, "", "", depth + 1, true});
          break;
        }
        const std::string key = "[" + format_word(key_type, keys[k]) + "]";
        walk(value, storage_hash2(keys[k], slot), key, path + key, depth + 1);
      }
    } else if (kind == "vec") {
      // The length at `slot`, element i from hash2(i, slot).
      const U256 n = read_(slot);
      v.type += " (length " + vm::to_dec_string(n) + ")";
      out_.push_back(std::move(v));
      const uint64_t count = n.fits_u64() ? n.low64() : UINT64_MAX;
      const json elem = layout.value("element", json::object());
      for (uint64_t k = 0; k < count; ++k) {
        if (k == kMaxStorageEntries) {
          out_.push_back({"(more elements not shown)", path, "", "", depth + 1, true});
          break;
        }
        const std::string key = "[" + std::to_string(k) + "]";
        walk(elem, storage_hash2(U256::from_u64(k), slot), key, path + key, depth + 1);
      }
    } else {
      v.value = "(a layout this debugger does not know)";
      v.container = false;
      out_.push_back(std::move(v));
    }
  }

 private:
  static std::string type_name(const json& layout) {
    const std::string kind = text_of(layout, "kind");
    if (kind == "map" || kind == "iter_map")
      return kind == "map" ? "map<" + text_of(layout, "key") + ", " +
                                 type_name(layout.value("value", json::object())) + ">"
                           : "iter_map<" + text_of(layout, "key") + ", " +
                                 type_name(layout.value("value", json::object())) + ">";
    if (kind == "vec") return "vec<" + type_name(layout.value("element", json::object())) + ">";
    return text_of(layout, "type");
  }
  const SlotRead& read_;
  const Preimages& pre_;
  std::vector<StorageVar>& out_;
};

}  // namespace

std::vector<StorageVar> decode_storage(const std::string& abi_json, const SlotRead& read,
                                       const Preimages& preimages) {
  std::vector<StorageVar> out;
  const json abi = json::parse(abi_json, nullptr, false);
  if (!abi.is_object() || !abi.contains("storage") || !abi["storage"].is_array()) return out;
  Decoder d(read, preimages, out);
  for (const json& f : abi["storage"]) {
    if (!f.is_object()) continue;
    const std::string name = text_of(f, "name");
    const U256 slot = U256::from_u64(f.value("slot", uint64_t{0}));
    if (f.contains("layout") && f["layout"].is_object()) {
      d.walk(f["layout"], slot, name, name, 0);
    } else {  // an ABI from before layouts: the field's first slot as its type
      const std::string type = text_of(f, "type");
      out.push_back({name, name, type, format_word(type, read(slot)), 0, false});
    }
  }
  return out;
}

std::string format_storage(const std::vector<StorageVar>& vars) {
  std::string o;
  for (const StorageVar& v : vars) {
    o += std::string(2 * (v.depth + 1), ' ') + v.label;
    if (v.container)
      o += v.type.empty() ? "" : ": " + v.type;
    else if (v.depth == 0)
      o += ": " + v.type + " = " + v.value;
    else
      o += " = " + v.value;
    o += "\n";
  }
  return o;
}

}  // namespace writ::cli
