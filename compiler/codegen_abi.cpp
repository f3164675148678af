// Code generation: the contract's ABI (ContractOutput's entries and
// abi.json) and its debug info (debug.json), from the generated module.
// codegen_internal.hpp has the classes.
#include "codegen_internal.hpp"

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace writ::compiler::codegen_internal {
namespace {

std::string json_str(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += static_cast<char>(c);
    } else if (c < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else {
      o += static_cast<char>(c);
    }
  }
  return o + "\"";
}

std::string hex32(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", v);
  return b;
}

}  // namespace

std::string ModuleGen::loc(Span s) const {
  const SourceFile& f = p_.sources.file(s.file);
  auto [l, c] = f.line_col(s.begin);
  return "\"file\":" + json_str(f.path) + ",\"line\":" + std::to_string(l) +
         ",\"column\":" + std::to_string(c);
}

// A value's ABI description, with a struct's fields and an enum's variant
// names, so that tools print values as the author wrote the types.
AbiParam ModuleGen::abi_param(const std::string& name, const Type* t, int depth) {
  AbiParam a;
  a.name = name;
  a.type = t->abi_name();
  flatten(t, a.flat);
  if (t->kind == Type::Kind::Struct && t->strukt && depth < 32)
    for (const Param& f : t->strukt->fields)
      a.fields.push_back(abi_param(f.name, f.resolved, depth + 1));
  if (t->kind == Type::Kind::Enum && t->enm) a.variants = t->enm->variants;
  return a;
}

std::vector<AbiParam> ModuleGen::abi_params(const std::vector<Param>& ps) {
  std::vector<AbiParam> out;
  for (const Param& p : ps) {
    AbiParam a = abi_param(p.name, p.resolved);
    a.indexed = p.indexed;
    out.push_back(std::move(a));
  }
  return out;
}

void ModuleGen::fill_abi(ContractOutput& out) const {
  for (size_t i = 0; i < order_.size(); ++i) {
    FnDecl* f = order_[i];
    if (!f->contract || !f->is_pub) continue;
    AbiEntry e;
    e.name = mod_.functions[i].name;
    e.selector = vm::selector_of(e.name, mod_.functions[i].params);
    e.inputs = abi_params(f->params);
    for (const Type* t : f->result_types) e.outputs.push_back(abi_param("", t));
    e.view = f->is_view;
    e.payable = f->is_payable;
    e.reentrant = f->is_reentrant;
    e.constructor = f->is_init;
    out.functions.push_back(e);
  }
  for (const auto& [name, ev] : p_.events) {
    AbiEntry e;
    e.name = name;
    e.inputs = abi_params(ev->fields);
    out.events.push_back(e);
  }
  for (size_t i = 0; i < mod_.errors.size(); ++i) {
    for (const auto& [er, idx] : error_index_) {
      if (idx != i) continue;
      AbiEntry e;
      e.name = er->name;
      e.selector = vm::selector_of(mod_.errors[i].name, mod_.errors[i].fields);
      e.inputs = abi_params(er->fields);
      out.errors.push_back(e);
    }
  }
}

// ,"abi":[VM types] and, for a struct, its "fields" (each with its own
// name, type, abi, ...), for an enum its "variants" by index: what tools
// need to print a value by its Writ type from the ABI alone.
std::string ModuleGen::type_json_tail(const Type* t) {
  std::vector<ValType> ts;
  flatten(t, ts);
  std::string o = ",\"abi\":[";
  for (size_t j = 0; j < ts.size(); ++j)
    o += (j ? ",\"" : "\"") + std::string(vm::abi_type_name(ts[j])) + "\"";
  o += "]";
  if (t->kind == Type::Kind::Struct && t->strukt) {
    o += ",\"fields\":[";
    for (size_t i = 0; i < t->elems.size() && i < t->strukt->fields.size(); ++i)
      o += (i ? ",{\"name\":" : "{\"name\":") + json_str(t->strukt->fields[i].name) +
           ",\"type\":" + json_str(t->elems[i]->abi_name()) + type_json_tail(t->elems[i]) + "}";
    o += "]";
  }
  if (t->kind == Type::Kind::Enum && t->enm) {
    o += ",\"variants\":[";
    for (size_t i = 0; i < t->enm->variants.size(); ++i)
      o += (i ? "," : "") + json_str(t->enm->variants[i]);
    o += "]";
  }
  return o;
}

std::string ModuleGen::storage_layout_json(const Type* t) {
  using K = Type::Kind;
  switch (t->kind) {
    case K::Struct: {
      std::string o = "{\"kind\":\"struct\",\"type\":" + json_str(t->abi_name()) + ",\"fields\":[";
      uint64_t offset = 0;
      for (size_t i = 0; i < t->elems.size() && t->strukt && i < t->strukt->fields.size(); ++i) {
        o += (i ? "," : "") + std::string("{\"name\":") + json_str(t->strukt->fields[i].name) +
             ",\"offset\":" + std::to_string(offset) +
             ",\"layout\":" + storage_layout_json(t->elems[i]) + "}";
        offset += storage_slots(t->elems[i]);
      }
      return o + "]}";
    }
    case K::Map:
    case K::IterMap:
      return std::string("{\"kind\":\"") + (t->kind == K::Map ? "map" : "iter_map") +
             "\",\"key\":" + json_str(t->key->abi_name()) +
             ",\"value\":" + storage_layout_json(t->elem) + "}";
    case K::StoreVec:
      return "{\"kind\":\"vec\",\"element\":" + storage_layout_json(t->elem) + "}";
    default: {
      std::string o = "{\"kind\":\"value\",\"type\":" + json_str(t->abi_name());
      if (t->kind == K::Enum && t->enm) {
        o += ",\"variants\":[";
        for (size_t i = 0; i < t->enm->variants.size(); ++i)
          o += (i ? "," : "") + json_str(t->enm->variants[i]);
        o += "]";
      }
      return o + "}";
    }
  }
}

std::string ModuleGen::params_json(const std::vector<Param>& ps) const {
  std::string o = "[";
  for (size_t i = 0; i < ps.size(); ++i) {
    o += (i ? "," : "") + std::string("{\"name\":") + json_str(ps[i].name) +
         ",\"type\":" + json_str(ps[i].resolved->abi_name());
    if (ps[i].indexed) o += ",\"indexed\":true";
    o += type_json_tail(ps[i].resolved) + "}";
  }
  return o + "]";
}

std::string ModuleGen::abi_json() const {
  std::string o = "{\n  \"contract\": " + json_str(c_.name) +
                  ",\n  \"compiler\": " + json_str(kCompilerVersion) + ",\n  \"functions\": [";
  bool first = true;
  for (size_t i = 0; i < order_.size(); ++i) {
    FnDecl* f = order_[i];
    if (!f->contract || !f->is_pub) continue;
    const vm::Function& vf = mod_.functions[i];
    o += first ? "\n    " : ",\n    ";
    first = false;
    o += "{\"name\":" + json_str(f->is_init ? "$init" : f->name) + ",\"selector\":\"" +
         hex32(vm::selector_of(vf.name, vf.params)) +
         "\",\"signature\":" + json_str(vm::signature_of(vf.name, vf.params)) +
         ",\"constructor\":" + (f->is_init ? "true" : "false") +
         ",\"view\":" + (f->is_view ? "true" : "false") +
         ",\"payable\":" + (f->is_payable ? "true" : "false") +
         ",\"reentrant\":" + (f->is_reentrant ? "true" : "false") +
         ",\"inputs\":" + params_json(f->params) + ",\"outputs\":[";
    for (size_t j = 0; j < f->result_types.size(); ++j)
      o += (j ? "," : "") + std::string("{\"type\":") + json_str(f->result_types[j]->abi_name()) +
           type_json_tail(f->result_types[j]) + "}";
    o += "]," + loc(f->name_span) + "}";
  }
  o += "\n  ],\n  \"events\": [";
  first = true;
  for (const auto& [name, e] : p_.events) {
    const vm::Event& ve = mod_.events[event_index_.at(e)];
    o += first ? "\n    " : ",\n    ";
    first = false;
    o += "{\"name\":" + json_str(name) +
         ",\"topic\":" + json_str(vm::to_hex_string(vm::event_topic(ve))) +
         ",\"fields\":" + params_json(e->fields) + "}";
  }
  o += "\n  ],\n  \"errors\": [";
  first = true;
  for (size_t i = 0; i < mod_.errors.size(); ++i) {
    const vm::ErrorDecl& ve = mod_.errors[i];
    const ErrorDecl* src = nullptr;
    for (const auto& [e, idx] : error_index_)
      if (idx == i) src = e;
    o += first ? "\n    " : ",\n    ";
    first = false;
    o += "{\"name\":" + json_str(ve.name) + ",\"selector\":\"" +
         hex32(vm::selector_of(ve.name, ve.fields)) +
         "\",\"fields\":" + (src ? params_json(src->fields) : "[]") + "}";
  }
  o += "\n  ],\n  \"storage\": [";
  first = true;
  for (const StorageField& s : c_.storage) {
    o += first ? "\n    " : ",\n    ";
    first = false;
    o += "{\"name\":" + json_str(s.name) + ",\"slot\":" + std::to_string(s.slot) +
         ",\"slots\":" + std::to_string(storage_slots(s.resolved)) +
         ",\"type\":" + json_str(s.resolved->abi_name()) +
         ",\"layout\":" + storage_layout_json(s.resolved) + "}";
  }
  o += "\n  ]\n}\n";
  return o;
}

std::string ModuleGen::debug_json(const std::vector<std::unique_ptr<FnGen>>& gens) const {
  std::string o = "{\n  \"contract\": " + json_str(c_.name) + ",\n  \"files\": [";
  for (size_t i = 0; i < p_.sources.size(); ++i)
    o += (i ? "," : "") + json_str(p_.sources.file(static_cast<uint32_t>(i)).path);
  o += "],\n  \"functions\": [";
  for (size_t i = 0; i < order_.size(); ++i) {
    const FnDecl* f = order_[i];
    const FnGen& g = *gens[i];
    const SourceFile& sf = p_.sources.file(f->name_span.file);
    auto [l, c] = sf.line_col(f->name_span.begin);
    o += (i ? ",\n    " : "\n    ");
    o += "{\"index\":" + std::to_string(i) + ",\"name\":" + json_str(mod_.functions[i].name) +
         ",\"file\":" + std::to_string(f->name_span.file) + ",\"line\":" + std::to_string(l) +
         ",\"column\":" + std::to_string(c);
    if (f->body) {
      auto [el, ec] = sf.line_col(f->body->span.end > 0 ? f->body->span.end - 1 : 0);
      o += ",\"end_line\":" + std::to_string(el);
      (void)ec;
    }
    o += ",\"code_size\":" + std::to_string(mod_.functions[i].code.size()) + ",\"locals\":[";
    for (size_t k = 0; k < f->locals.size() && k < g.local_regs.size(); ++k) {
      o += (k ? "," : "") + std::string("{\"name\":") + json_str(f->locals[k].name) +
           ",\"type\":" + json_str(f->locals[k].type->name()) + ",\"registers\":[";
      for (size_t r = 0; r < g.local_regs[k].size(); ++r)
        o += (r ? "," : "") + std::to_string(g.local_regs[k][r]);
      o += "]}";
    }
    o += "],\"pcs\":[";
    // [pc, file, line, column, end_line, end_column] per instruction.
    for (size_t k = 0; k < g.pcs.size(); ++k) {
      const auto& ps = g.pcs[k];
      const SourceFile& pf = p_.sources.file(ps.span.file);
      auto [bl, bc] = pf.line_col(ps.span.begin);
      auto [elx, ecx] = pf.line_col(ps.span.end > ps.span.begin ? ps.span.end : ps.span.begin);
      o += (k ? "," : "") + std::string("[") + std::to_string(ps.pc) + "," +
           std::to_string(ps.span.file) + "," + std::to_string(bl) + "," + std::to_string(bc) +
           "," + std::to_string(elx) + "," + std::to_string(ecx) + "]";
    }
    o += "]}";
  }
  // The structs and enums the locals' types name: a struct's fields with
  // their types and register counts, an enum's variants (the debugger shows
  // {x: 5, flag: true}, Open).
  std::map<std::string, const Type*> named;
  std::function<void(const Type*)> collect = [&](const Type* t) {
    if (!t) return;
    if ((t->kind == Type::Kind::Struct && t->strukt) || (t->kind == Type::Kind::Enum && t->enm)) {
      if (!named.emplace(t->name(), t).second) return;
      for (const Type* e : t->elems) collect(e);
    } else if (t->kind == Type::Kind::Tuple) {
      for (const Type* e : t->elems) collect(e);
    }
  };
  for (const FnDecl* f : order_)
    for (const auto& l : f->locals) collect(l.type);
  o += "\n  ],\n  \"types\": {";
  bool first = true;
  for (const auto& [name, t] : named) {
    o += (first ? "\n    " : ",\n    ") + json_str(name) + ":{";
    first = false;
    if (t->kind == Type::Kind::Enum) {
      o += "\"variants\":[";
      for (size_t k = 0; k < t->enm->variants.size(); ++k)
        o += (k ? "," : "") + json_str(t->enm->variants[k]);
      o += "]}";
      continue;
    }
    o += "\"fields\":[";
    for (size_t k = 0; k < t->elems.size() && k < t->strukt->fields.size(); ++k) {
      std::vector<vm::ValType> regs;
      flatten(t->elems[k], regs);
      o += (k ? "," : "") + std::string("{\"name\":") + json_str(t->strukt->fields[k].name) +
           ",\"type\":" + json_str(t->elems[k]->name()) +
           ",\"registers\":" + std::to_string(regs.size()) + "}";
    }
    o += "]}";
  }
  o += "\n  }\n}\n";
  return o;
}

}  // namespace writ::compiler::codegen_internal
