// The chain's records: the byte encodings of accounts, receipts, blocks
// and their headers (one encoding each, so that a hash names a record),
// the transactions' Merkle root, the state tree's keys and leaf values, and
// the checks of account and storage proofs (contract in chain.hpp).
#include <cstring>

#include "encoding.hpp"
#include "writ/runtime/chain.hpp"
#include "writ/runtime/state_tree.hpp"

namespace writ::runtime {

std::string Account::encode() const {
  std::string o;
  enc::word(o, balance);
  enc::u64(o, nonce);
  enc::hash(o, code_hash);
  size_t n = history.size();
  while (n > 0 && history[n - 1].is_zero()) --n;
  for (size_t i = 0; i < n; ++i) enc::word(o, history[i]);
  return o;
}

std::optional<Account> Account::decode(std::string_view s) {
  enc::Reader r(s);
  Account a;
  a.balance = r.word("balance");
  a.nonce = r.u64("nonce");
  a.code_hash = r.hash("code_hash");
  size_t n = 0;
  while (n < a.history.size() && r.left() > 0) a.history[n++] = r.word("history");
  // One encoding per account: no trailing zero word.
  if (n > 0 && a.history[n - 1].is_zero()) return std::nullopt;
  if (!r.done()) return std::nullopt;
  return a;
}

bool Account::has_history() const {
  for (const U256& w : history)
    if (!w.is_zero()) return true;
  return false;
}

bool Account::is_empty() const {
  return balance.is_zero() && nonce == 0 && code_hash.is_zero() && !has_history();
}

// Receipt sections (Receipt::encode).
constexpr uint8_t kReceiptCalls = 1;
constexpr uint8_t kReceiptRisk = 2;

std::string Receipt::encode() const {
  std::string o;
  enc::hash(o, tx_hash);
  enc::u64(o, height);
  enc::u32(o, index);
  enc::u8(o, static_cast<uint8_t>(status));
  enc::u64(o, gas_used);
  enc::bytes(o, output);
  enc::u32(o, static_cast<uint32_t>(logs.size()));
  for (const Log& l : logs) {
    enc::hash(o, l.address);
    enc::u8(o, static_cast<uint8_t>(l.topics.size()));
    for (const Hash256& t : l.topics) enc::hash(o, t);
    enc::bytes(o, l.data);
  }
  enc::hash(o, contract);
  enc::u32(o, trap_func);
  enc::u32(o, trap_pc);
  enc::str(o, detail);
  // Optional trailing sections, each a tag byte and its content, in tag
  // order, present only when not empty: a receipt with none encodes (and
  // hashes) exactly as before sections existed. 1: the failure trace; 2: the
  // payment's risk judgment.
  if (!calls.empty()) {
    enc::u8(o, kReceiptCalls);
    enc::u32(o, static_cast<uint32_t>(calls.size()));
    for (const vm::FailedCall& c : calls) {
      enc::word(o, c.callee);
      enc::u32(o, c.selector);
      enc::u8(o, static_cast<uint8_t>(c.status));
      enc::u32(o, c.func);
      enc::u32(o, c.pc);
      enc::str(o, c.detail);
    }
    enc::u32(o, calls_omitted);
  }
  if (risk) {
    enc::u8(o, kReceiptRisk);
    enc::u32(o, risk->score);
    enc::u8(o, static_cast<uint8_t>(risk->reasons.size()));
    for (uint8_t c : risk->reasons) enc::u8(o, c);
    enc::u64(o, risk->model_version);
    enc::u8(o, static_cast<uint8_t>(risk->decision));
    enc::u64(o, risk->hold_id);
  }
  return o;
}

const char* decision_name(PaymentRisk::Decision d) {
  switch (d) {
    case PaymentRisk::Decision::Settled:
      return "settled";
    case PaymentRisk::Decision::Held:
      return "held";
    case PaymentRisk::Decision::Refused:
      return "refused";
  }
  return "?";
}

Result<Receipt> Receipt::decode(std::string_view s) {
  enc::Reader r(s);
  Receipt x;
  x.tx_hash = r.hash("tx_hash");
  x.height = r.u64("height");
  x.index = r.u32("index");
  x.status = static_cast<vm::Status>(r.u8("status"));
  x.gas_used = r.u64("gas_used");
  x.output = r.bytes("output");
  uint32_t n = r.u32("log count");
  for (uint32_t i = 0; i < n && !r.failed(); ++i) {
    Log l;
    l.address = r.hash("log address");
    uint8_t nt = r.u8("topic count");
    for (uint8_t t = 0; t < nt && !r.failed(); ++t) l.topics.push_back(r.hash("topic"));
    l.data = r.bytes("log data");
    x.logs.push_back(std::move(l));
  }
  x.contract = r.hash("contract");
  x.trap_func = r.u32("trap_func");
  x.trap_pc = r.u32("trap_pc");
  x.detail = r.str("detail");
  uint8_t last_tag = 0;
  while (!r.failed() && r.left() > 0) {
    const size_t tag_at = r.pos();
    const uint8_t tag = r.u8("section tag");
    if (r.failed()) break;
    if (tag <= last_tag || tag > kReceiptRisk)
      return vm::error_at(tag_at, "field section tag: " + std::to_string(tag) +
                                      (tag <= last_tag ? " out of order" : " is unknown"));
    last_tag = tag;
    if (tag == kReceiptRisk) {
      PaymentRisk k;
      const size_t score_at = r.pos();
      const uint32_t score = r.u32("risk score");
      if (!r.failed() && score > 999)
        return vm::error_at(score_at,
                            "field risk score: " + std::to_string(score) + " is above 999");
      k.score = static_cast<uint16_t>(score);
      const size_t n_at = r.pos();
      const uint8_t reasons = r.u8("risk reason count");
      if (!r.failed() && reasons > 4)
        return vm::error_at(n_at,
                            "field risk reason count: " + std::to_string(reasons) + " is above 4");
      for (uint8_t i = 0; i < reasons && !r.failed(); ++i) k.reasons.push_back(r.u8("risk reason"));
      k.model_version = r.u64("risk model version");
      const size_t d_at = r.pos();
      const uint8_t d = r.u8("risk decision");
      if (!r.failed() && d > 2)
        return vm::error_at(d_at, "field risk decision: " + std::to_string(d) + " is unknown");
      k.decision = static_cast<PaymentRisk::Decision>(d);
      k.hold_id = r.u64("risk hold id");
      x.risk = std::move(k);
      continue;
    }
    const size_t at = r.pos();
    const uint32_t count = r.u32("call count");
    if (!r.failed() && (count == 0 || count > vm::kMaxFailedCalls))
      return vm::error_at(at, "field call count: " + std::to_string(count) + " is not 1.." +
                                  std::to_string(vm::kMaxFailedCalls));
    for (uint32_t i = 0; i < count && !r.failed(); ++i) {
      vm::FailedCall c;
      c.callee = r.word("call callee");
      c.selector = r.u32("call selector");
      const size_t status_at = r.pos();
      const uint8_t st = r.u8("call status");
      if (!r.failed() && (st == 0 || st > static_cast<uint8_t>(vm::Status::InsufficientBalance)))
        return vm::error_at(
            status_at, "field call status: " + std::to_string(st) + " is not a failure status");
      c.status = static_cast<vm::Status>(st);
      c.func = r.u32("call func");
      c.pc = r.u32("call pc");
      const size_t detail_at = r.pos();
      c.detail = r.str("call detail");
      if (c.detail.size() > vm::kMaxFailedCallDetail)
        return vm::error_at(detail_at, "field call detail: longer than " +
                                           std::to_string(vm::kMaxFailedCallDetail) + " bytes");
      x.calls.push_back(std::move(c));
    }
    x.calls_omitted = r.u32("calls omitted");
  }
  if (!r.done()) return r.error();
  return x;
}

Hash256 Receipt::hash() const {
  return hash_of_encoding(encode());
}

Hash256 Receipt::hash_of_encoding(std::string_view e) {
  return sha256("writ.receipt", {reinterpret_cast<const uint8_t*>(e.data()), e.size()});
}

std::string BlockHeader::encode() const {
  std::string o;
  enc::u64(o, height);
  enc::hash(o, parent_hash);
  enc::u64(o, timestamp);
  enc::hash(o, tx_root);
  enc::hash(o, receipts_root);
  enc::hash(o, state_root);
  enc::u64(o, gas_used);
  return o;
}

Result<BlockHeader> BlockHeader::decode(std::string_view s) {
  enc::Reader r(s);
  BlockHeader h;
  h.height = r.u64("height");
  h.parent_hash = r.hash("parent_hash");
  h.timestamp = r.u64("timestamp");
  h.tx_root = r.hash("tx_root");
  h.receipts_root = r.hash("receipts_root");
  h.state_root = r.hash("state_root");
  h.gas_used = r.u64("gas_used");
  if (!r.done()) return r.error();
  return h;
}

Hash256 BlockHeader::hash() const {
  std::string e = encode();
  return sha256("writ.block", {reinterpret_cast<const uint8_t*>(e.data()), e.size()});
}

Hash256 merkle_root(const std::vector<Hash256>& leaves) {
  if (leaves.empty()) return sha256(std::string_view("writ.empty"), {});
  std::vector<Hash256> level = leaves;
  while (level.size() > 1) {
    std::vector<Hash256> next;
    for (size_t i = 0; i < level.size(); i += 2) {
      const Hash256& l = level[i];
      const Hash256& r =
          i + 1 < level.size() ? level[i + 1] : level[i];  // odd one pairs with itself
      uint8_t buf[65];
      buf[0] = 0x02;
      std::memcpy(buf + 1, l.bytes.data(), 32);
      std::memcpy(buf + 33, r.bytes.data(), 32);
      next.push_back(sha256(std::span<const uint8_t>(buf, 65)));
    }
    level = std::move(next);
  }
  return level[0];
}

Hash256 account_key(const Address& a) {
  return sha256("writ.account", a.bytes);
}

Hash256 storage_key(const Address& a, const U256& slot) {
  uint8_t buf[64];
  std::memcpy(buf, a.bytes.data(), 32);
  vm::to_be_bytes(slot, buf + 32);
  return sha256("writ.slot", std::span<const uint8_t>(buf, 64));
}

Hash256 account_leaf_value(const Account& acct) {
  std::string e = acct.encode();
  return sha256(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(e.data()), e.size()));
}

Hash256 storage_leaf_value(const U256& value) {
  uint8_t b[32];
  vm::to_be_bytes(value, b);
  return sha256(std::span<const uint8_t>(b, 32));
}

bool verify_account_proof(const AccountProof& p) {
  std::optional<Hash256> v;
  if (p.account) v = account_leaf_value(*p.account);
  return verify_proof(p.state_root, account_key(p.address), v, p.proof);
}

bool verify_storage_proof(const StorageProof& p) {
  std::optional<Hash256> v;
  if (p.present) {
    if (p.value.is_zero()) return false;  // zero slots are never stored
    v = storage_leaf_value(p.value);
  } else if (!p.value.is_zero()) {
    return false;
  }
  return verify_proof(p.state_root, storage_key(p.address, p.slot), v, p.proof);
}

}  // namespace writ::runtime
