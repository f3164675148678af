// The canonical transaction encoding (layout in transaction.hpp), its signing
// digest, and the strict decoder.
//
// Byte offsets of the fixed head (they are what decode errors report):
//
//     0 version   1 kind   2 chain_id   10 nonce   18 gas_limit   26 gas_price
//    58 value    90 to   122 code length   126 code ...
//
// then data length, data, sender key (32) and signature (64); the smallest
// transaction (a call with no data) is 226 bytes.
//
// The signature is over the 32-byte digest SHA-256(signing_bytes()), where
// signing_bytes() = "writ.tx.v1" || every encoded byte before the signature
// (the sender key included, so a signature cannot be replayed under another
// key's address).
//
// Invariant the decoder keeps: it accepts a byte string only if encode() of
// the result gives back exactly that string (every field has one encoding,
// lengths are exact, nothing trails), so a transaction's hash is a function
// of its content. fuzz/fuzz_transaction.cpp checks this.
#include "writ/runtime/transaction.hpp"

#include <algorithm>
#include <optional>
#include <string>

namespace writ::runtime {
namespace {

constexpr std::string_view kSigningTag = "writ.tx.v1";
constexpr uint8_t kVersion = 1;

void put_u32(Bytes& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}
void put_u64(Bytes& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}
void put_u256(Bytes& out, const U256& v) {
  uint8_t be[32];
  vm::to_be_bytes(v, be);
  out.insert(out.end(), be, be + 32);
}
template <size_t N>
void put_fixed(Bytes& out, const std::array<uint8_t, N>& a) {
  out.insert(out.end(), a.begin(), a.end());
}

// REQUIRES: code and data are each shorter than 2^32 bytes (any transaction
// that could be decoded is; longer ones are far beyond kMaxTxSize anyway).
void put_unsigned(const Transaction& tx, Bytes& out) {
  out.push_back(kVersion);
  out.push_back(static_cast<uint8_t>(tx.kind));
  put_u64(out, tx.chain_id);
  put_u64(out, tx.nonce);
  put_u64(out, tx.gas_limit);
  put_u256(out, tx.gas_price);
  put_u256(out, tx.value);
  put_fixed(out, tx.to.bytes);
  put_u32(out, static_cast<uint32_t>(tx.code.size()));
  out.insert(out.end(), tx.code.begin(), tx.code.end());
  put_u32(out, static_cast<uint32_t>(tx.data.size()));
  out.insert(out.end(), tx.data.begin(), tx.data.end());
  put_fixed(out, tx.sender_key.bytes);
}

size_t unsigned_size(const Transaction& tx) {
  return 1 + 1 + 8 + 8 + 8 + 32 + 32 + 32 + 4 + tx.code.size() + 4 + tx.data.size() + 32;
}

std::string plural_bytes(size_t n) {
  return std::to_string(n) + (n == 1 ? " byte" : " bytes");
}

// Reads fields front to back. take() checks the length against what is left
// before handing out anything, so no length field can make the decoder
// allocate or read more than the input holds.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}

  size_t pos() const { return pos_; }
  size_t left() const { return in_.size() - pos_; }

  // The next n bytes of `field`, or nullptr (and error() set) if fewer remain.
  const uint8_t* take(const char* field, size_t n) {
    if (n > left()) {
      error_ = vm::error_at(pos_, std::string("field ") + field + ": truncated (needs " +
                                      plural_bytes(n) + ", " + std::to_string(left()) + " left)");
      return nullptr;
    }
    const uint8_t* p = in_.data() + pos_;
    pos_ += n;
    return p;
  }
  std::optional<uint64_t> take_uint(const char* field, size_t width) {
    const uint8_t* p = take(field, width);
    if (!p) return std::nullopt;
    uint64_t v = 0;
    for (size_t i = 0; i < width; ++i) v = v << 8 | p[i];
    return v;
  }
  template <size_t N>
  bool take_fixed(const char* field, std::array<uint8_t, N>& out) {
    const uint8_t* p = take(field, N);
    if (p) std::copy(p, p + N, out.begin());
    return p != nullptr;
  }
  bool take_bytes(const char* field, size_t n, Bytes& out) {
    const uint8_t* p = take(field, n);
    if (p) out.assign(p, p + n);
    return p != nullptr;
  }

  Error error() const { return error_; }

 private:
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  Error error_;
};

Error field_error(size_t offset, const char* field, const std::string& why) {
  return vm::error_at(offset, std::string("field ") + field + ": " + why);
}

}  // namespace

Bytes Transaction::encode() const {
  Bytes out;
  out.reserve(unsigned_size(*this) + signature.bytes.size());
  put_unsigned(*this, out);
  put_fixed(out, signature.bytes);
  return out;
}

Bytes Transaction::signing_bytes() const {
  Bytes out(kSigningTag.begin(), kSigningTag.end());
  out.reserve(kSigningTag.size() + unsigned_size(*this));
  put_unsigned(*this, out);
  return out;
}

Hash256 Transaction::hash() const {
  return sha256(encode());
}

void Transaction::sign_with(const Keypair& key) {
  sender_key = key.pub;
  signature = sign(key.priv, sha256(signing_bytes()).bytes);
}

bool Transaction::signature_valid() const {
  return verify(sender_key, sha256(signing_bytes()).bytes, signature);
}

Result<Transaction> decode_transaction(std::span<const uint8_t> bytes) {
  if (bytes.size() > kMaxTxSize)
    return vm::error_at(kMaxTxSize, "transaction: " + plural_bytes(bytes.size()) +
                                        " exceeds the maximum of " + std::to_string(kMaxTxSize));
  Reader r(bytes);
  Transaction tx;

  std::optional<uint64_t> v = r.take_uint("version", 1);
  if (!v) return r.error();
  if (*v != kVersion)
    return field_error(0, "version", "unsupported version " + std::to_string(*v) + " (expected 1)");

  const size_t kind_at = r.pos();
  if (!(v = r.take_uint("kind", 1))) return r.error();
  if (*v > 1)
    return field_error(kind_at, "kind",
                       "unknown kind " + std::to_string(*v) + " (expected 0 call or 1 deploy)");
  tx.kind = static_cast<Transaction::Kind>(*v);
  const bool deploy = tx.kind == Transaction::Kind::Deploy;

  if (!(v = r.take_uint("chain_id", 8))) return r.error();
  tx.chain_id = *v;
  if (!(v = r.take_uint("nonce", 8))) return r.error();
  tx.nonce = *v;
  if (!(v = r.take_uint("gas_limit", 8))) return r.error();
  tx.gas_limit = *v;

  const uint8_t* p = r.take("gas_price", 32);
  if (!p) return r.error();
  tx.gas_price = vm::from_be_bytes(p);
  if (!(p = r.take("value", 32))) return r.error();
  tx.value = vm::from_be_bytes(p);

  const size_t to_at = r.pos();
  if (!r.take_fixed("to", tx.to.bytes)) return r.error();
  if (deploy && !tx.to.is_zero()) return field_error(to_at, "to", "must be all zero for a deploy");

  const size_t code_length_at = r.pos();
  if (!(v = r.take_uint("code_length", 4))) return r.error();
  if (!deploy && *v != 0)
    return field_error(code_length_at, "code_length",
                       "a call carries no code (length is " + std::to_string(*v) + ")");
  if (deploy && *v == 0) return field_error(code_length_at, "code_length", "a deploy needs code");
  if (!r.take_bytes("code", *v, tx.code)) return r.error();

  if (!(v = r.take_uint("data_length", 4))) return r.error();
  if (!r.take_bytes("data", *v, tx.data)) return r.error();

  // The encoding rules of the signature check (crypto.hpp) are checked here
  // too, so that a key or signature that no message could be valid under
  // never gets past decoding.
  const size_t sender_key_at = r.pos();
  if (!r.take_fixed("sender_key", tx.sender_key.bytes)) return r.error();
  if (const char* why = public_key_defect(tx.sender_key))
    return field_error(sender_key_at, "sender_key", why);
  const size_t signature_at = r.pos();
  if (!r.take_fixed("signature", tx.signature.bytes)) return r.error();
  if (const char* why = signature_defect(tx.signature))
    return field_error(signature_at, "signature", why);

  if (r.left() != 0)
    return vm::error_at(r.pos(), plural_bytes(r.left()) + " trailing after field signature");
  return tx;
}

Address contract_address(const Address& sender, uint64_t nonce) {
  std::array<uint8_t, 40> input{};
  std::copy(sender.bytes.begin(), sender.bytes.end(), input.begin());
  for (int i = 0; i < 8; ++i) input[32 + i] = static_cast<uint8_t>(nonce >> (56 - 8 * i));
  return sha256("writ.contract", input);
}

}  // namespace writ::runtime
