// The C embedding API (contract and conventions in writ/writ.h): a thin layer
// over writ::runtime::Chain that turns C++ results into writ_status codes and
// a thread-local message.
//
// Every entry point that returns a writ_status runs its body inside guarded(),
// which clears the thread's message and turns any escaping exception into
// WRIT_ERR_INTERNAL: no exception crosses the C boundary. Functions that
// return something else (writ_last_error, the *_free functions, the name
// tables) cannot throw.
//
// Memory handed to the caller is malloc'd, so writ_free_buffer is free().
#include "writ/writ.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "writ/runtime/chain.hpp"
#include "writ/vm/abi.hpp"
#include "writ/vm/assembler.hpp"
#include "writ/vm/verifier.hpp"

using namespace writ::runtime;
namespace vm = writ::vm;

// ---- handles -------------------------------------------------------------------

struct writ_chain {
  struct Subscription {
    uint64_t id;
    writ_log_callback callback;
    void* user_data;
  };
  std::unique_ptr<Chain> chain;
  std::vector<Subscription> subscriptions;
  uint64_t next_subscription = 1;

  bool subscribed(uint64_t id) const {
    return std::any_of(subscriptions.begin(), subscriptions.end(),
                       [id](const Subscription& s) { return s.id == id; });
  }

  // Runs on the producing thread after each commit (Chain::subscribe).
  void dispatch(const Block&, const std::vector<Receipt>& receipts) noexcept {
    if (subscriptions.empty()) return;
    try {
      const std::vector<Subscription> subs = subscriptions;  // callbacks may (un)subscribe
      for (const Receipt& r : receipts) {
        for (size_t i = 0; i < r.logs.size(); ++i) {
          const Log& l = r.logs[i];
          std::vector<uint8_t> topics;
          topics.reserve(l.topics.size() * 32);
          for (const Hash256& t : l.topics)
            topics.insert(topics.end(), t.bytes.begin(), t.bytes.end());
          writ_log_event ev{};
          ev.height = r.height;
          std::memcpy(ev.tx_hash, r.tx_hash.bytes.data(), 32);
          ev.tx_index = r.index;
          ev.log_index = static_cast<uint32_t>(i);
          std::memcpy(ev.log.address, l.address.bytes.data(), 32);
          ev.log.topics = topics.data();
          ev.log.topic_count = l.topics.size();
          ev.log.data = l.data.data();
          ev.log.data_len = l.data.size();
          for (const Subscription& s : subs)
            if (subscribed(s.id)) s.callback(&ev, s.user_data);  // not one ended meanwhile
        }
      }
    } catch (...) {
      // Out of memory while building an event: the block is committed
      // already; the remaining callbacks of this block are skipped.
    }
  }
};

struct writ_receipt {
  Receipt receipt;
  std::vector<std::vector<uint8_t>> topics;  // per log, topics flattened (32 bytes each)

  explicit writ_receipt(Receipt r) : receipt(std::move(r)) {
    for (const Log& l : receipt.logs) {
      std::vector<uint8_t> flat;
      for (const Hash256& t : l.topics) flat.insert(flat.end(), t.bytes.begin(), t.bytes.end());
      topics.push_back(std::move(flat));
    }
  }
};

struct writ_block_result {
  struct Item {
    Hash256 hash;
    bool included = false;
    std::string reason;
    size_t receipt = 0;  // index into receipts when included
  };
  BlockHeader header;
  std::vector<Item> items;
  std::vector<writ_receipt> receipts;
};

// ---- errors ---------------------------------------------------------------------

namespace {

thread_local std::string t_last_error;

void set_error(const char* message) noexcept {
  try {
    t_last_error = message;
  } catch (...) {
    t_last_error.clear();  // no memory for the message: leave it empty
  }
}

writ_status fail(writ_status status, const std::string& message) noexcept {
  set_error(message.c_str());
  return status;
}

// Runtime errors carry offset 0 and no line; "byte 0x0: " would only be noise.
std::string message_of(const vm::Error& e) {
  if (e.line == 0 && e.offset == 0) return e.message;
  return e.to_string();
}

template <class F>
writ_status guarded(F&& body) noexcept {
  t_last_error.clear();
  try {
    return body();
  } catch (const std::bad_alloc&) {
    set_error("out of memory");
  } catch (const std::exception& e) {
    set_error(e.what());
  } catch (...) {
    set_error("unknown internal error");
  }
  return WRIT_ERR_INTERNAL;
}

writ_status null_argument(const char* name) {
  return fail(WRIT_ERR_INVALID_ARGUMENT, std::string("argument ") + name + " is NULL");
}
#define WRIT_REQUIRE(p) \
  if ((p) == nullptr) return null_argument(#p)

// A (pointer, length) input: NULL is allowed only with length 0.
#define WRIT_REQUIRE_SPAN(p, n) \
  if ((p) == nullptr && (n) != 0) return null_argument(#p)

// Copies bytes into a malloc'd buffer for the caller (NULL when empty).
writ_status give_buffer(std::span<const uint8_t> bytes, uint8_t** out, size_t* len) {
  uint8_t* p = nullptr;
  if (!bytes.empty()) {
    p = static_cast<uint8_t*>(std::malloc(bytes.size()));
    if (!p) return fail(WRIT_ERR_INTERNAL, "out of memory");
    std::memcpy(p, bytes.data(), bytes.size());
  }
  *out = p;
  *len = bytes.size();
  return WRIT_OK;
}

// A committed block: WRIT_ERR_NOT_FOUND above the head, WRIT_ERR_CORRUPT if
// the store does not give it back.
writ_status committed_block(const Chain& chain, uint64_t height, Block& out) {
  if (height > chain.head().height)
    return fail(WRIT_ERR_NOT_FOUND, "block " + std::to_string(height) + " is above the head " +
                                        std::to_string(chain.head().height));
  auto b = chain.block(height);
  if (!b.ok()) return fail(WRIT_ERR_CORRUPT, message_of(b.error()));
  if (!b.value())
    return fail(WRIT_ERR_CORRUPT,
                std::string(kStoreDamaged) + "block " + std::to_string(height) + " is missing");
  out = std::move(*b.value());
  return WRIT_OK;
}

Hash256 hash_in(const uint8_t* b) {
  Hash256 h;
  std::memcpy(h.bytes.data(), b, 32);
  return h;
}
void hash_out(const Hash256& h, uint8_t* out) {
  std::memcpy(out, h.bytes.data(), 32);
}
U256 word_in(const uint8_t* b) {
  return vm::from_be_bytes(b);
}
void word_out(const U256& v, uint8_t* out) {
  vm::to_be_bytes(v, out);
}

void header_out(const BlockHeader& h, writ_block_header* out) {
  out->height = h.height;
  hash_out(h.hash(), out->hash);
  hash_out(h.parent_hash, out->parent_hash);
  out->timestamp = h.timestamp;
  hash_out(h.tx_root, out->tx_root);
  hash_out(h.receipts_root, out->receipts_root);
  hash_out(h.state_root, out->state_root);
  out->gas_used = h.gas_used;
}

void account_out(const Account& a, writ_account* out) {
  word_out(a.balance, out->balance);
  out->nonce = a.nonce;
  hash_out(a.code_hash, out->code_hash);
  static_assert(sizeof out->history / sizeof out->history[0] == vm::kHistoryWords);
  for (size_t i = 0; i < vm::kHistoryWords; ++i) word_out(a.history[i], out->history[i]);
}

// Chain::open's errors are runtime errors; sort them by what the caller can do.
writ_status open_error_status(const std::string& message) {
  if (message.find("corrupt") != std::string::npos) return WRIT_ERR_CORRUPT;
  if (message.find("database holds chain") != std::string::npos ||
      message.find("genesis") != std::string::npos)
    return WRIT_ERR_INVALID_ARGUMENT;
  return WRIT_ERR_IO;
}

// open_rocksdb_store's refusals of damaged or lost data, apart from the
// environment's failures (permissions, a lock, no database).
writ_status store_open_error_status(const std::string& message) {
  for (const char* damage : {"lost committed writes", "commit record", "Corruption",
                             "CURRENT file is missing", "holds files but no database"})
    if (message.find(damage) != std::string::npos) return WRIT_ERR_CORRUPT;
  // A file of the database that is gone (its MANIFEST, say) is damage too:
  // no retry brings it back.
  if (message.find("No such file or directory") != std::string::npos &&
      message.find("cannot open database at") != std::string::npos)
    return WRIT_ERR_CORRUPT;
  return WRIT_ERR_IO;
}

}  // namespace

// ---- basics --------------------------------------------------------------------------

extern "C" {

const char* writ_last_error(void) {
  return t_last_error.c_str();
}

const char* writ_status_name(writ_status status) {
  switch (status) {
    case WRIT_OK:
      return "WRIT_OK";
    case WRIT_ERR_INVALID_ARGUMENT:
      return "WRIT_ERR_INVALID_ARGUMENT";
    case WRIT_ERR_IO:
      return "WRIT_ERR_IO";
    case WRIT_ERR_REJECTED:
      return "WRIT_ERR_REJECTED";
    case WRIT_ERR_NOT_FOUND:
      return "WRIT_ERR_NOT_FOUND";
    case WRIT_ERR_CORRUPT:
      return "WRIT_ERR_CORRUPT";
    case WRIT_ERR_INTERNAL:
      return "WRIT_ERR_INTERNAL";
  }
  return "unknown";
}

static_assert(WRIT_EXEC_NOT_PERMITTED == static_cast<int>(vm::Status::NotPermitted) &&
                  WRIT_EXEC_INSUFFICIENT_BALANCE ==
                      static_cast<int>(vm::Status::InsufficientBalance),
              "writ_exec_status names every VM status");

const char* writ_exec_status_name(writ_exec_status status) {
  if (static_cast<int>(status) < 0 || static_cast<int>(status) > WRIT_EXEC_NOT_PERMITTED)
    return "Unknown";
  return vm::status_name(static_cast<vm::Status>(status)).data();  // literals: NUL-terminated
}

void writ_free_buffer(uint8_t* buffer) {
  std::free(buffer);
}

void writ_u256_from_u64(uint64_t value, uint8_t out[32]) {
  if (out) word_out(U256::from_u64(value), out);
}

writ_status writ_u256_to_u64(const uint8_t value[32], uint64_t* out) {
  return guarded([&] {
    WRIT_REQUIRE(value);
    WRIT_REQUIRE(out);
    U256 v = word_in(value);
    if (!v.fits_u64()) return fail(WRIT_ERR_INVALID_ARGUMENT, "value does not fit 64 bits");
    *out = v.low64();
    return WRIT_OK;
  });
}

// ---- keys -------------------------------------------------------------------------------

writ_status writ_keypair_from_seed(const uint8_t seed[32], writ_keypair* out) {
  return guarded([&] {
    WRIT_REQUIRE(seed);
    WRIT_REQUIRE(out);
    std::array<uint8_t, 32> s;
    std::memcpy(s.data(), seed, 32);
    Keypair k = keypair_from_seed(s);
    std::memcpy(out->seed, k.priv.seed.data(), 32);
    std::memcpy(out->public_key, k.pub.bytes.data(), 32);
    return WRIT_OK;
  });
}

writ_status writ_keypair_generate(writ_keypair* out) {
  return guarded([&] {
    WRIT_REQUIRE(out);
    Keypair k = generate_keypair();
    std::memcpy(out->seed, k.priv.seed.data(), 32);
    std::memcpy(out->public_key, k.pub.bytes.data(), 32);
    return WRIT_OK;
  });
}

writ_status writ_address_of(const uint8_t public_key[32], uint8_t address_out[32]) {
  return guarded([&] {
    WRIT_REQUIRE(public_key);
    WRIT_REQUIRE(address_out);
    PublicKey k;
    std::memcpy(k.bytes.data(), public_key, 32);
    hash_out(address_of(k), address_out);
    return WRIT_OK;
  });
}

writ_status writ_contract_address(const uint8_t sender[32], uint64_t nonce,
                                  uint8_t address_out[32]) {
  return guarded([&] {
    WRIT_REQUIRE(sender);
    WRIT_REQUIRE(address_out);
    hash_out(contract_address(hash_in(sender), nonce), address_out);
    return WRIT_OK;
  });
}

// ---- transactions --------------------------------------------------------------------------

writ_status writ_tx_sign(const writ_tx_params* params, const writ_keypair* key, uint8_t** tx_out,
                         size_t* tx_len, uint8_t hash_out_[32]) {
  return guarded([&] {
    WRIT_REQUIRE(params);
    WRIT_REQUIRE(key);
    WRIT_REQUIRE(tx_out);
    WRIT_REQUIRE(tx_len);
    WRIT_REQUIRE_SPAN(params->code, params->code_len);
    WRIT_REQUIRE_SPAN(params->data, params->data_len);
    if (params->kind != WRIT_TX_CALL && params->kind != WRIT_TX_DEPLOY)
      return fail(WRIT_ERR_INVALID_ARGUMENT, "kind must be WRIT_TX_CALL or WRIT_TX_DEPLOY");
    Transaction t;
    t.kind = params->kind == WRIT_TX_DEPLOY ? Transaction::Kind::Deploy : Transaction::Kind::Call;
    t.chain_id = params->chain_id;
    t.nonce = params->nonce;
    t.gas_limit = params->gas_limit;
    t.gas_price = word_in(params->gas_price);
    t.value = word_in(params->value);
    t.to = hash_in(params->to);
    if (params->code_len) t.code.assign(params->code, params->code + params->code_len);
    if (params->data_len) t.data.assign(params->data, params->data + params->data_len);
    // Refuse what decode_transaction would refuse, so a signed tx always decodes.
    if (t.kind == Transaction::Kind::Deploy && !t.to.is_zero())
      return fail(WRIT_ERR_INVALID_ARGUMENT, "a deploy's `to` must be all zero");
    if (t.kind == Transaction::Kind::Deploy && t.code.empty())
      return fail(WRIT_ERR_INVALID_ARGUMENT, "a deploy needs code");
    if (t.kind == Transaction::Kind::Call && !t.code.empty())
      return fail(WRIT_ERR_INVALID_ARGUMENT, "a call carries no code");
    Keypair k;
    std::memcpy(k.priv.seed.data(), key->seed, 32);
    std::memcpy(k.pub.bytes.data(), key->public_key, 32);
    if (keypair_from_seed(k.priv.seed).pub != k.pub)
      return fail(WRIT_ERR_INVALID_ARGUMENT, "key: the public key does not belong to the seed");
    t.sign_with(k);
    Bytes enc = t.encode();
    if (enc.size() > kMaxTxSize)
      return fail(WRIT_ERR_INVALID_ARGUMENT, "transaction of " + std::to_string(enc.size()) +
                                                 " bytes exceeds the maximum of " +
                                                 std::to_string(kMaxTxSize));
    if (hash_out_) hash_out(sha256(enc), hash_out_);
    return give_buffer(enc, tx_out, tx_len);
  });
}

writ_status writ_tx_hash(const uint8_t* tx, size_t tx_len, uint8_t hash_out_[32]) {
  return guarded([&] {
    WRIT_REQUIRE_SPAN(tx, tx_len);
    WRIT_REQUIRE(hash_out_);
    auto t = decode_transaction({tx, tx_len});
    if (!t.ok()) return fail(WRIT_ERR_INVALID_ARGUMENT, "transaction: " + t.error().to_string());
    hash_out(sha256(std::span<const uint8_t>(tx, tx_len)), hash_out_);
    return WRIT_OK;
  });
}

// ---- modules --------------------------------------------------------------------------------

writ_status writ_assemble(const char* source, size_t source_len, uint8_t** module_out,
                          size_t* module_len) {
  return guarded([&] {
    WRIT_REQUIRE_SPAN(source, source_len);
    WRIT_REQUIRE(module_out);
    WRIT_REQUIRE(module_len);
    auto m = vm::assemble(std::string_view(source ? source : "", source_len));
    if (!m.ok()) return fail(WRIT_ERR_INVALID_ARGUMENT, m.error().to_string());
    std::vector<uint8_t> bytes = vm::encode_module(m.value());
    auto verified = vm::load_module(bytes);
    if (!verified.ok())
      return fail(WRIT_ERR_INVALID_ARGUMENT, "verify: " + verified.error().to_string());
    return give_buffer(bytes, module_out, module_len);
  });
}

writ_status writ_selector(const char* signature, uint32_t* selector_out) {
  return guarded([&] {
    WRIT_REQUIRE(signature);
    WRIT_REQUIRE(selector_out);
    Hash256 h = sha256(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(signature),
                                                std::strlen(signature)));
    *selector_out = uint32_t{h.bytes[0]} << 24 | uint32_t{h.bytes[1]} << 16 |
                    uint32_t{h.bytes[2]} << 8 | h.bytes[3];
    return WRIT_OK;
  });
}

writ_status writ_call_input(const char* name, const writ_arg* args, size_t n_args,
                            uint8_t** input_out, size_t* input_len) {
  return guarded([&] {
    WRIT_REQUIRE(name);
    WRIT_REQUIRE(input_out);
    WRIT_REQUIRE(input_len);
    WRIT_REQUIRE_SPAN(args, n_args);
    if (!vm::is_valid_name(name))
      return fail(WRIT_ERR_INVALID_ARGUMENT,
                  std::string("name '") + name + "' is not a function name");
    if (n_args > vm::kMaxParams)
      return fail(WRIT_ERR_INVALID_ARGUMENT,
                  "a call takes at most " + std::to_string(vm::kMaxParams) + " arguments");
    std::vector<vm::ValType> types;
    std::vector<vm::Value> values;
    for (size_t i = 0; i < n_args; ++i) {
      const writ_arg& a = args[i];
      const std::string which = "args[" + std::to_string(i) + "]";
      if (a.kind == WRIT_ARG_BYTES) {
        WRIT_REQUIRE_SPAN(a.bytes, a.bytes_len);
        types.push_back(vm::ValType::Buf);
        values.push_back(vm::Value::buf(std::vector<uint8_t>(a.bytes, a.bytes + a.bytes_len)));
      } else if (a.kind == WRIT_ARG_U64 || a.kind == WRIT_ARG_U256) {
        const U256 w = word_in(a.word);
        if (a.kind == WRIT_ARG_U64 && !w.fits_u64())
          return fail(WRIT_ERR_INVALID_ARGUMENT, which + ": a u64 argument does not fit 64 bits");
        types.push_back(a.kind == WRIT_ARG_U64 ? vm::ValType::U64 : vm::ValType::U256);
        values.push_back(a.kind == WRIT_ARG_U64 ? vm::Value::u64(w.low64()) : vm::Value::u256(w));
      } else {
        return fail(WRIT_ERR_INVALID_ARGUMENT, which + ": unknown kind");
      }
    }
    return give_buffer(vm::call_input(vm::selector_of(name, types), values), input_out, input_len);
  });
}

// ---- the chain ---------------------------------------------------------------------------------

}  // extern "C"

namespace {

// writ_chain_open and writ_chain_create.
writ_status open_chain(const char* path, const char* genesis_json, size_t genesis_len,
                       writ_chain** out, bool create) {
  return guarded([&] {
    WRIT_REQUIRE_SPAN(genesis_json, genesis_len);
    WRIT_REQUIRE(out);
    auto genesis =
        parse_genesis_json(std::string_view(genesis_json ? genesis_json : "", genesis_len), ".");
    if (!genesis.ok()) return fail(WRIT_ERR_INVALID_ARGUMENT, message_of(genesis.error()));
    std::unique_ptr<Store> store;
    if (path == nullptr) {
      store = open_memory_store();
    } else {
      RocksStoreOptions so;
      so.create = create;
      auto s = open_rocksdb_store(path, so);
      if (!s.ok()) {
        std::string m = message_of(s.error());
        return fail(store_open_error_status(m), m);
      }
      store = std::move(s.value());
      auto head = store->get(Column::Meta, "head");
      if (!head.ok()) return fail(WRIT_ERR_CORRUPT, message_of(head.error()));
      if (create && head.value())
        return fail(WRIT_ERR_IO, std::string(path) + " already holds a chain");
      if (!create && !head.value())
        return fail(WRIT_ERR_CORRUPT, std::string(path) +
                                          " holds a database but no chain (its creation did not "
                                          "finish, or its records are lost)");
    }
    auto chain = Chain::open(std::move(store), genesis.value());
    if (!chain.ok()) {
      std::string m = message_of(chain.error());
      return fail(open_error_status(m), m);
    }
    auto handle = std::make_unique<writ_chain>();
    handle->chain = std::move(chain.value());
    writ_chain* h = handle.get();
    h->chain->subscribe(
        [h](const Block& b, const std::vector<Receipt>& rs) { h->dispatch(b, rs); });
    *out = handle.release();
    return WRIT_OK;
  });
}

}  // namespace

extern "C" {

writ_status writ_chain_open(const char* path, const char* genesis_json, size_t genesis_len,
                            writ_chain** out) {
  return open_chain(path, genesis_json, genesis_len, out, false);
}

writ_status writ_chain_create(const char* path, const char* genesis_json, size_t genesis_len,
                              writ_chain** out) {
  return open_chain(path, genesis_json, genesis_len, out, true);
}

void writ_chain_close(writ_chain* chain) {
  delete chain;
}  // ~Chain closes the store; nothing throws

writ_status writ_chain_id(const writ_chain* chain, uint64_t* out) {
  return guarded([&] {
    WRIT_REQUIRE(chain);
    WRIT_REQUIRE(out);
    *out = chain->chain->chain_id();
    return WRIT_OK;
  });
}

writ_status writ_chain_head_height(const writ_chain* chain, uint64_t* out) {
  return guarded([&] {
    WRIT_REQUIRE(chain);
    WRIT_REQUIRE(out);
    *out = chain->chain->head().height;
    return WRIT_OK;
  });
}

writ_status writ_chain_head_state_root(const writ_chain* chain, uint8_t root_out[32]) {
  return guarded([&] {
    WRIT_REQUIRE(chain);
    WRIT_REQUIRE(root_out);
    hash_out(chain->chain->head().state_root, root_out);
    return WRIT_OK;
  });
}

writ_status writ_chain_head(const writ_chain* chain, writ_block_header* out) {
  return guarded([&] {
    WRIT_REQUIRE(chain);
    WRIT_REQUIRE(out);
    header_out(chain->chain->head(), out);
    return WRIT_OK;
  });
}

writ_status writ_chain_block_header(const writ_chain* chain, uint64_t height,
                                    writ_block_header* out, size_t* tx_count) {
  return guarded([&] {
    WRIT_REQUIRE(chain);
    WRIT_REQUIRE(out);
    Block b;
    if (writ_status st = committed_block(*chain->chain, height, b); st != WRIT_OK) return st;
    header_out(b.header, out);
    if (tx_count) *tx_count = b.txs.size();
    return WRIT_OK;
  });
}

writ_status writ_chain_block_tx(const writ_chain* chain, uint64_t height, size_t i,
                                uint8_t** tx_out, size_t* tx_len) {
  return guarded([&] {
    WRIT_REQUIRE(chain);
    WRIT_REQUIRE(tx_out);
    WRIT_REQUIRE(tx_len);
    Block b;
    if (writ_status st = committed_block(*chain->chain, height, b); st != WRIT_OK) return st;
    if (i >= b.txs.size())
      return fail(WRIT_ERR_NOT_FOUND, "block " + std::to_string(height) + " has " +
                                          std::to_string(b.txs.size()) + " transactions, no " +
                                          std::to_string(i));
    return give_buffer(b.txs[i].encode(), tx_out, tx_len);
  });
}

writ_status writ_chain_validate(const writ_chain* chain, const uint8_t* tx, size_t tx_len) {
  return guarded([&] {
    WRIT_REQUIRE(chain);
    WRIT_REQUIRE_SPAN(tx, tx_len);
    auto t = decode_transaction({tx, tx_len});
    if (!t.ok()) return fail(WRIT_ERR_INVALID_ARGUMENT, "transaction: " + t.error().to_string());
    Status s = chain->chain->validate(t.value());
    if (!s)
      return fail(is_store_failure(s.message) ? WRIT_ERR_CORRUPT : WRIT_ERR_REJECTED, s.message);
    return WRIT_OK;
  });
}

// ---- receipts ---------------------------------------------------------------------------------

writ_status writ_chain_receipt(const writ_chain* chain, const uint8_t tx_hash[32],
                               writ_receipt** out) {
  return guarded([&] {
    WRIT_REQUIRE(chain);
    WRIT_REQUIRE(tx_hash);
    WRIT_REQUIRE(out);
    auto r = chain->chain->receipt(hash_in(tx_hash));
    if (!r.ok()) return fail(WRIT_ERR_CORRUPT, message_of(r.error()));
    if (!r.value())
      return fail(WRIT_ERR_NOT_FOUND, "no receipt for transaction " + hash_in(tx_hash).hex());
    *out = new writ_receipt(std::move(*r.value()));
    return WRIT_OK;
  });
}

void writ_receipt_free(writ_receipt* receipt) {
  delete receipt;
}

writ_status writ_receipt_get_info(const writ_receipt* receipt, writ_receipt_info* out) {
  return guarded([&] {
    WRIT_REQUIRE(receipt);
    WRIT_REQUIRE(out);
    const Receipt& r = receipt->receipt;
    hash_out(r.tx_hash, out->tx_hash);
    out->height = r.height;
    out->index = r.index;
    out->status = static_cast<writ_exec_status>(r.status);
    out->gas_used = r.gas_used;
    out->output = r.output.empty() ? nullptr : r.output.data();
    out->output_len = r.output.size();
    out->log_count = r.logs.size();
    hash_out(r.contract, out->contract);
    out->detail = r.detail.c_str();
    return WRIT_OK;
  });
}

writ_status writ_receipt_get_risk(const writ_receipt* receipt, writ_payment_risk* out) {
  return guarded([&] {
    WRIT_REQUIRE(receipt);
    WRIT_REQUIRE(out);
    const std::optional<PaymentRisk>& k = receipt->receipt.risk;
    if (!k) return fail(WRIT_ERR_NOT_FOUND, "the transaction was not scored");
    *out = writ_payment_risk{};
    out->score = k->score;
    out->reason_count = std::min<size_t>(k->reasons.size(), 4);
    std::copy_n(k->reasons.begin(), out->reason_count, out->reasons);
    out->model_version = k->model_version;
    out->decision = static_cast<writ_risk_decision>(k->decision);
    out->hold_id = k->hold_id;
    return WRIT_OK;
  });
}

writ_status writ_receipt_get_log(const writ_receipt* receipt, size_t i, writ_log* out) {
  return guarded([&] {
    WRIT_REQUIRE(receipt);
    WRIT_REQUIRE(out);
    const Receipt& r = receipt->receipt;
    if (i >= r.logs.size())
      return fail(WRIT_ERR_NOT_FOUND,
                  "log " + std::to_string(i) + " of " + std::to_string(r.logs.size()));
    const Log& l = r.logs[i];
    hash_out(l.address, out->address);
    out->topics = receipt->topics[i].empty() ? nullptr : receipt->topics[i].data();
    out->topic_count = l.topics.size();
    out->data = l.data.empty() ? nullptr : l.data.data();
    out->data_len = l.data.size();
    return WRIT_OK;
  });
}

writ_status writ_receipt_get_call_count(const writ_receipt* receipt, size_t* count,
                                        uint32_t* omitted) {
  return guarded([&] {
    WRIT_REQUIRE(receipt);
    WRIT_REQUIRE(count);
    WRIT_REQUIRE(omitted);
    *count = receipt->receipt.calls.size();
    *omitted = receipt->receipt.calls_omitted;
    return WRIT_OK;
  });
}

writ_status writ_receipt_get_call(const writ_receipt* receipt, size_t i, writ_failed_call* out) {
  return guarded([&] {
    WRIT_REQUIRE(receipt);
    WRIT_REQUIRE(out);
    const Receipt& r = receipt->receipt;
    if (i >= r.calls.size())
      return fail(WRIT_ERR_NOT_FOUND,
                  "call " + std::to_string(i) + " of " + std::to_string(r.calls.size()));
    const vm::FailedCall& c = r.calls[i];
    vm::to_be_bytes(c.callee, out->callee);
    out->selector = c.selector;
    out->status = static_cast<writ_exec_status>(c.status);
    out->function = c.func;
    out->pc = c.pc;
    out->detail = c.detail.c_str();
    return WRIT_OK;
  });
}

// ---- producing blocks
// ----------------------------------------------------------------------------

writ_status writ_chain_produce_block(writ_chain* chain, const uint8_t* const* txs,
                                     const size_t* tx_lens, size_t count, uint64_t timestamp,
                                     writ_block_result** out) {
  return guarded([&] {
    WRIT_REQUIRE(chain);
    WRIT_REQUIRE(out);
    WRIT_REQUIRE_SPAN(txs, count);
    WRIT_REQUIRE_SPAN(tx_lens, count);
    Chain& c = *chain->chain;
    if (timestamp < c.head().timestamp)
      return fail(WRIT_ERR_INVALID_ARGUMENT, "block timestamp " + std::to_string(timestamp) +
                                                 " is before the head's " +
                                                 std::to_string(c.head().timestamp));
    if (count > kMaxBlockTxs)
      return fail(WRIT_ERR_INVALID_ARGUMENT, std::to_string(count) +
                                                 " transactions: a block holds at most " +
                                                 std::to_string(kMaxBlockTxs));
    auto result = std::make_unique<writ_block_result>();
    result->items.resize(count);
    std::vector<Transaction> decoded;
    std::vector<size_t> decoded_at;  // input position of decoded[k]
    decoded.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      if (txs[i] == nullptr && tx_lens[i] != 0)
        return fail(WRIT_ERR_INVALID_ARGUMENT, "txs[" + std::to_string(i) + "] is NULL");
      std::span<const uint8_t> raw(txs[i], tx_lens[i]);
      writ_block_result::Item& item = result->items[i];
      item.hash = sha256(raw);  // a transaction's hash is SHA-256 of its canonical encoding
      auto t = decode_transaction(raw);
      if (!t.ok()) {
        item.reason = "does not decode: " + t.error().to_string();
        continue;
      }
      decoded.push_back(std::move(t.value()));
      decoded_at.push_back(i);
    }
    auto block = c.produce_block(decoded, timestamp);
    if (!block.ok())
      return fail(is_store_failure(block.error().message) ? WRIT_ERR_CORRUPT : WRIT_ERR_IO,
                  message_of(block.error()));
    Chain::BlockResult& br = block.value();
    result->header = br.block.header;
    // produce_block keeps the input order in both the included list and the
    // rejected list, so one merge pass pairs them with the inputs.
    size_t inc = 0, rej = 0;
    for (size_t k = 0; k < decoded.size(); ++k) {
      writ_block_result::Item& item = result->items[decoded_at[k]];
      if (inc < br.receipts.size() && br.receipts[inc].tx_hash == item.hash) {
        item.included = true;
        item.receipt = inc++;
      } else if (rej < br.rejected.size() && br.rejected[rej].hash == item.hash) {
        item.reason = br.rejected[rej++].reason;
      } else {
        return fail(WRIT_ERR_INTERNAL, "block result does not match the submitted transactions");
      }
    }
    result->receipts.reserve(br.receipts.size());
    for (Receipt& r : br.receipts) result->receipts.emplace_back(std::move(r));
    *out = result.release();
    return WRIT_OK;
  });
}

writ_status writ_chain_apply_block(writ_chain* chain, const writ_block_header* header,
                                   const uint8_t* const* txs, const size_t* tx_lens, size_t count,
                                   writ_block_result** out) {
  return guarded([&] {
    WRIT_REQUIRE(chain);
    WRIT_REQUIRE(header);
    WRIT_REQUIRE(out);
    WRIT_REQUIRE_SPAN(txs, count);
    WRIT_REQUIRE_SPAN(tx_lens, count);
    if (count > kMaxBlockTxs)
      return fail(WRIT_ERR_INVALID_ARGUMENT, std::to_string(count) +
                                                 " transactions: a block holds at most " +
                                                 std::to_string(kMaxBlockTxs));
    Block block;
    BlockHeader& h = block.header;
    h.height = header->height;
    std::memcpy(h.parent_hash.bytes.data(), header->parent_hash, 32);
    h.timestamp = header->timestamp;
    std::memcpy(h.tx_root.bytes.data(), header->tx_root, 32);
    std::memcpy(h.receipts_root.bytes.data(), header->receipts_root, 32);
    std::memcpy(h.state_root.bytes.data(), header->state_root, 32);
    h.gas_used = header->gas_used;
    if (std::memcmp(h.hash().bytes.data(), header->hash, 32) != 0)
      return fail(WRIT_ERR_REJECTED, "block " + std::to_string(h.height) +
                                         " rejected: header field hash is not the hash of the "
                                         "header's other fields");
    block.txs.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      if (txs[i] == nullptr && tx_lens[i] != 0)
        return fail(WRIT_ERR_INVALID_ARGUMENT, "txs[" + std::to_string(i) + "] is NULL");
      auto t = decode_transaction(std::span<const uint8_t>(txs[i], tx_lens[i]));
      if (!t.ok())
        return fail(WRIT_ERR_INVALID_ARGUMENT,
                    "txs[" + std::to_string(i) + "] does not decode: " + t.error().to_string());
      block.txs.push_back(std::move(t.value()));
    }
    auto applied = chain->chain->apply_block(block);
    if (!applied.ok()) {
      // Nothing changed either way: the block was refused ("block N rejected:
      // ...", Chain::apply_block's form), or its commit failed.
      const std::string& why = applied.error().message;
      return fail(is_store_failure(why)                          ? WRIT_ERR_CORRUPT
                  : why.find(" rejected: ") != std::string::npos ? WRIT_ERR_REJECTED
                                                                 : WRIT_ERR_IO,
                  message_of(applied.error()));
    }
    auto result = std::make_unique<writ_block_result>();
    result->header = applied->block.header;
    result->items.resize(count);
    for (size_t i = 0; i < count; ++i) {
      result->items[i].hash = applied->receipts[i].tx_hash;
      result->items[i].included = true;
      result->items[i].receipt = i;
    }
    result->receipts.reserve(count);
    for (Receipt& r : applied->receipts) result->receipts.emplace_back(std::move(r));
    *out = result.release();
    return WRIT_OK;
  });
}

void writ_block_result_free(writ_block_result* result) {
  delete result;
}

writ_status writ_block_result_header(const writ_block_result* result, writ_block_header* out) {
  return guarded([&] {
    WRIT_REQUIRE(result);
    WRIT_REQUIRE(out);
    header_out(result->header, out);
    return WRIT_OK;
  });
}

size_t writ_block_result_count(const writ_block_result* result) {
  return result ? result->items.size() : 0;
}

writ_status writ_block_result_tx(const writ_block_result* result, size_t i, writ_tx_outcome* out) {
  return guarded([&] {
    WRIT_REQUIRE(result);
    WRIT_REQUIRE(out);
    if (i >= result->items.size())
      return fail(WRIT_ERR_NOT_FOUND, "transaction " + std::to_string(i) + " of " +
                                          std::to_string(result->items.size()));
    const writ_block_result::Item& item = result->items[i];
    hash_out(item.hash, out->tx_hash);
    out->included = item.included ? 1 : 0;
    out->reject_reason = item.reason.c_str();
    return WRIT_OK;
  });
}

writ_status writ_block_result_receipt(const writ_block_result* result, size_t i,
                                      const writ_receipt** out) {
  return guarded([&] {
    WRIT_REQUIRE(result);
    WRIT_REQUIRE(out);
    if (i >= result->items.size())
      return fail(WRIT_ERR_NOT_FOUND, "transaction " + std::to_string(i) + " of " +
                                          std::to_string(result->items.size()));
    const writ_block_result::Item& item = result->items[i];
    if (!item.included)
      return fail(WRIT_ERR_NOT_FOUND,
                  "transaction " + std::to_string(i) + " was rejected: " + item.reason);
    *out = &result->receipts[item.receipt];
    return WRIT_OK;
  });
}

// ---- state queries ------------------------------------------------------------------------------

writ_status writ_chain_account(const writ_chain* chain, const uint8_t address[32],
                               writ_account* out) {
  return guarded([&] {
    WRIT_REQUIRE(chain);
    WRIT_REQUIRE(address);
    WRIT_REQUIRE(out);
    auto a = chain->chain->account(hash_in(address));
    if (!a.ok()) return fail(WRIT_ERR_CORRUPT, message_of(a.error()));
    account_out(a.value(), out);
    return WRIT_OK;
  });
}

writ_status writ_chain_balance(const writ_chain* chain, const uint8_t address[32],
                               uint8_t balance_out[32]) {
  return guarded([&] {
    WRIT_REQUIRE(chain);
    WRIT_REQUIRE(address);
    WRIT_REQUIRE(balance_out);
    auto b = chain->chain->balance(hash_in(address));
    if (!b.ok()) return fail(WRIT_ERR_CORRUPT, message_of(b.error()));
    word_out(b.value(), balance_out);
    return WRIT_OK;
  });
}

writ_status writ_chain_nonce(const writ_chain* chain, const uint8_t address[32], uint64_t* out) {
  return guarded([&] {
    WRIT_REQUIRE(chain);
    WRIT_REQUIRE(address);
    WRIT_REQUIRE(out);
    auto a = chain->chain->account(hash_in(address));
    if (!a.ok()) return fail(WRIT_ERR_CORRUPT, message_of(a.error()));
    *out = a->nonce;
    return WRIT_OK;
  });
}

writ_status writ_chain_storage(const writ_chain* chain, const uint8_t address[32],
                               const uint8_t slot[32], uint8_t value_out[32]) {
  return guarded([&] {
    WRIT_REQUIRE(chain);
    WRIT_REQUIRE(address);
    WRIT_REQUIRE(slot);
    WRIT_REQUIRE(value_out);
    auto v = chain->chain->storage(hash_in(address), word_in(slot));
    if (!v.ok()) return fail(WRIT_ERR_CORRUPT, message_of(v.error()));
    word_out(v.value(), value_out);
    return WRIT_OK;
  });
}

writ_status writ_chain_call(const writ_chain* chain, const uint8_t from[32], const uint8_t to[32],
                            const uint8_t* input, size_t input_len, uint64_t gas,
                            writ_exec_status* status_out, uint8_t** output_out,
                            size_t* output_len) {
  return guarded([&] {
    WRIT_REQUIRE(chain);
    WRIT_REQUIRE(from);
    WRIT_REQUIRE(to);
    WRIT_REQUIRE_SPAN(input, input_len);
    WRIT_REQUIRE(status_out);
    WRIT_REQUIRE(output_out);
    WRIT_REQUIRE(output_len);
    Bytes in;
    if (input_len) in.assign(input, input + input_len);
    auto called = chain->chain->call(hash_in(from), hash_in(to), in, gas);
    if (!called.ok()) return fail(WRIT_ERR_CORRUPT, called.error().message);
    const vm::ExecResult& r = called.value();
    writ_status s = give_buffer(r.output, output_out, output_len);
    if (s != WRIT_OK) return s;
    *status_out = static_cast<writ_exec_status>(r.status);
    return WRIT_OK;
  });
}

// ---- proofs
// ----------------------------------------------------------------------------------------

writ_status writ_chain_prove_account(const writ_chain* chain, const uint8_t address[32],
                                     writ_account_proof* out) {
  return guarded([&] {
    WRIT_REQUIRE(chain);
    WRIT_REQUIRE(address);
    WRIT_REQUIRE(out);
    auto p = chain->chain->prove_account(hash_in(address));
    if (!p.ok()) return fail(WRIT_ERR_CORRUPT, message_of(p.error()));
    writ_account_proof o{};
    hash_out(p->state_root, o.state_root);
    o.height = p->height;
    o.present = p->account ? 1 : 0;
    if (p->account) account_out(*p->account, &o.account);
    writ_status s = give_buffer(p->proof.encode(), &o.proof, &o.proof_len);
    if (s != WRIT_OK) return s;
    *out = o;
    return WRIT_OK;
  });
}

writ_status writ_chain_prove_storage(const writ_chain* chain, const uint8_t address[32],
                                     const uint8_t slot[32], writ_storage_proof* out) {
  return guarded([&] {
    WRIT_REQUIRE(chain);
    WRIT_REQUIRE(address);
    WRIT_REQUIRE(slot);
    WRIT_REQUIRE(out);
    auto p = chain->chain->prove_storage(hash_in(address), word_in(slot));
    if (!p.ok()) return fail(WRIT_ERR_CORRUPT, message_of(p.error()));
    writ_storage_proof o{};
    hash_out(p->state_root, o.state_root);
    o.height = p->height;
    o.present = p->present ? 1 : 0;
    word_out(p->value, o.value);
    writ_status s = give_buffer(p->proof.encode(), &o.proof, &o.proof_len);
    if (s != WRIT_OK) return s;
    *out = o;
    return WRIT_OK;
  });
}

writ_status writ_verify_account_proof(const uint8_t state_root[32], const uint8_t address[32],
                                      const writ_account* account, const uint8_t* proof,
                                      size_t proof_len, int* verified) {
  return guarded([&] {
    WRIT_REQUIRE(state_root);
    WRIT_REQUIRE(address);
    WRIT_REQUIRE_SPAN(proof, proof_len);
    WRIT_REQUIRE(verified);
    *verified = 0;
    auto tp = TreeProof::decode({proof, proof_len});
    if (!tp.ok()) return fail(WRIT_ERR_CORRUPT, "proof: " + tp.error().to_string());
    AccountProof p;
    p.state_root = hash_in(state_root);
    p.address = hash_in(address);
    if (account) {
      Account a;
      a.balance = word_in(account->balance);
      a.nonce = account->nonce;
      a.code_hash = hash_in(account->code_hash);
      for (size_t i = 0; i < vm::kHistoryWords; ++i) a.history[i] = word_in(account->history[i]);
      p.account = a;
    }
    p.proof = std::move(tp.value());
    *verified = verify_account_proof(p) ? 1 : 0;
    return WRIT_OK;
  });
}

writ_status writ_verify_storage_proof(const uint8_t state_root[32], const uint8_t address[32],
                                      const uint8_t slot[32], const uint8_t value[32],
                                      const uint8_t* proof, size_t proof_len, int* verified) {
  return guarded([&] {
    WRIT_REQUIRE(state_root);
    WRIT_REQUIRE(address);
    WRIT_REQUIRE(slot);
    WRIT_REQUIRE(value);
    WRIT_REQUIRE_SPAN(proof, proof_len);
    WRIT_REQUIRE(verified);
    *verified = 0;
    auto tp = TreeProof::decode({proof, proof_len});
    if (!tp.ok()) return fail(WRIT_ERR_CORRUPT, "proof: " + tp.error().to_string());
    StorageProof p;
    p.state_root = hash_in(state_root);
    p.address = hash_in(address);
    p.slot = word_in(slot);
    p.value = word_in(value);
    p.present = !p.value.is_zero();
    p.proof = std::move(tp.value());
    *verified = verify_storage_proof(p) ? 1 : 0;
    return WRIT_OK;
  });
}

// ---- log subscriptions
// ------------------------------------------------------------------------------

writ_status writ_chain_subscribe_logs(writ_chain* chain, writ_log_callback callback,
                                      void* user_data, uint64_t* subscription_out) {
  return guarded([&] {
    WRIT_REQUIRE(chain);
    WRIT_REQUIRE(callback);
    uint64_t id = chain->next_subscription++;
    chain->subscriptions.push_back({id, callback, user_data});
    if (subscription_out) *subscription_out = id;
    return WRIT_OK;
  });
}

writ_status writ_chain_unsubscribe(writ_chain* chain, uint64_t subscription) {
  return guarded([&] {
    WRIT_REQUIRE(chain);
    for (auto it = chain->subscriptions.begin(); it != chain->subscriptions.end(); ++it) {
      if (it->id == subscription) {
        chain->subscriptions.erase(it);
        return WRIT_OK;
      }
    }
    return fail(WRIT_ERR_NOT_FOUND, "no subscription " + std::to_string(subscription));
  });
}

}  // extern "C"
