// Signed transactions: the canonical binary encoding, signing and decoding.
//
// Encoding (all integers big-endian):
//   u8  version (= 1)
//   u8  kind (0 call, 1 deploy)
//   u64 chain_id
//   u64 nonce
//   u64 gas_limit
//   32  gas_price (u256)
//   32  value (u256)
//   32  to            call: the account or contract called; deploy: all zero
//   u32 code length,  then the module bytes   (deploy only; 0 for a call)
//   u32 data length,  then the data bytes     (call: ABI input, empty for a plain
//                                              value transfer; deploy: constructor input)
//   32  sender public key (Ed25519)
//   64  signature over SHA-256("writ.tx.v1" || every byte above the signature)
// A transaction's hash is SHA-256 of its whole encoding. decode() accepts only
// this canonical form (no trailing bytes), and reports the field that is wrong.
#pragma once

#include "writ/runtime/crypto.hpp"
#include "writ/runtime/types.hpp"

namespace writ::runtime {

inline constexpr size_t kMaxTxSize = 256 * 1024;

struct Transaction {
  enum class Kind : uint8_t { Call = 0, Deploy = 1 };
  Kind kind = Kind::Call;
  uint64_t chain_id = 0;
  uint64_t nonce = 0;
  uint64_t gas_limit = 0;
  U256 gas_price{};
  U256 value{};
  Address to{};
  Bytes code;
  Bytes data;
  PublicKey sender_key{};
  Signature signature{};

  Address sender() const { return address_of(sender_key); }
  Bytes encode() const;
  Bytes signing_bytes() const;         // what the signature covers (domain-tagged digest input)
  Hash256 hash() const;                // SHA-256 of encode()
  void sign_with(const Keypair& key);  // sets sender_key and signature
  bool signature_valid() const;
  bool operator==(const Transaction&) const = default;
};

// Errors carry the byte offset and name the field ("field nonce: truncated").
Result<Transaction> decode_transaction(std::span<const uint8_t> bytes);

// The address a deploy creates: SHA-256("writ.contract" || sender || nonce as u64 BE).
Address contract_address(const Address& sender, uint64_t nonce);

}  // namespace writ::runtime
