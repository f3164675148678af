// libFuzzer target over the transaction decoder.
//
// For every input it checks:
//   1. decode_transaction never crashes, and a rejection names a field and
//      points inside (or just past) the input;
// and for every input that decodes:
//   2. encode(decode(b)) == b              (one canonical encoding)
//   3. decode(encode(tx)) == tx and hash() == SHA-256(b)
//   4. the decoded transaction obeys the format's rules (kind, to, code)
//   5. signature_valid() returns (an arbitrary key or signature is "invalid",
//      never a crash or an abort), and agrees with verify() on the digest;
//   6. the sender key and the signature pass the encoding rules of the
//      verification rule (crypto.hpp): canonical, not of small order, S < L.
// A broken invariant calls abort(): libFuzzer reports it as a crash.
//
// Seeds: any encoded transaction (tests/runtime/transaction_test.cpp builds
// calls and deploys); without seeds libFuzzer's comparison tracing finds the
// version, kind and length fields by itself.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "writ/runtime/transaction.hpp"

namespace {

using namespace writ::runtime;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_transaction: invariant broken: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);
  auto decoded = decode_transaction(input);
  if (!decoded.ok()) {
    const auto& e = decoded.error();
    if (e.message.empty()) fail("an error without a message");
    if (e.message.find("field ") == std::string::npos && size <= kMaxTxSize)
      fail("an error that names no field");
    if (e.offset > size) fail("an error offset past the end of the input");
    return 0;
  }

  const Transaction& tx = *decoded;
  const Bytes encoded = tx.encode();
  if (encoded.size() != size || !std::equal(encoded.begin(), encoded.end(), data))
    fail("encode(decode(b)) != b");
  auto again = decode_transaction(encoded);
  if (!again.ok() || !(*again == tx)) fail("decode(encode(tx)) != tx");
  if (tx.hash() != sha256(input)) fail("hash is not SHA-256 of the encoding");

  const bool deploy = tx.kind == Transaction::Kind::Deploy;
  if (!deploy && tx.kind != Transaction::Kind::Call) fail("unknown kind accepted");
  if (deploy && (!tx.to.is_zero() || tx.code.empty())) fail("malformed deploy accepted");
  if (!deploy && !tx.code.empty()) fail("call with code accepted");

  if (public_key_defect(tx.sender_key)) fail("a key that the signature rule refuses decoded");
  if (signature_defect(tx.signature)) fail("a signature that the signature rule refuses decoded");

  const bool valid = tx.signature_valid();
  if (valid != verify(tx.sender_key, sha256(tx.signing_bytes()).bytes, tx.signature))
    fail("signature_valid disagrees with verify");
  return 0;
}
