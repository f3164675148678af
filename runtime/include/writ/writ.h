/* writ.h: the C embedding API of the Writ runtime (a wrapper of the C++ API in
 * writ/runtime/chain.hpp). C99 or later; also usable from C++.
 *
 * CONVENTIONS (they hold for every function below)
 *
 *  1. Errors. Functions return a writ_status; WRIT_OK (0) is success. On any
 *     other status, writ_last_error() returns a message for the calling
 *     thread naming what went wrong ("genesis field accounts[0].address:
 *     invalid address ..."). The message stays valid until the thread's next
 *     writ_* call; every call that returns a writ_status clears it first.
 *     No C++ exception ever leaves this API: an unexpected failure inside the
 *     library (including out of memory) is WRIT_ERR_INTERNAL.
 *  2. Arguments. A NULL pointer where one is required, or a length that does
 *     not fit, is WRIT_ERR_INVALID_ARGUMENT; nothing is written then. A
 *     (pointer, length) pair with length 0 may have a NULL pointer.
 *     Output parameters are written only on WRIT_OK unless a function says
 *     otherwise.
 *  3. Fixed-size values are byte arrays: addresses, hashes, state roots,
 *     public keys and seeds are 32 bytes; signatures 64 bytes; 256-bit
 *     amounts (balances, values, gas prices, storage slots and values) are
 *     32 bytes big-endian. writ_u256_from_u64/writ_u256_to_u64 convert.
 *  4. Ownership.
 *     - Buffers the library allocates for the caller (uint8_t** out with a
 *       size_t* length: encoded transactions, modules, proofs, call output)
 *       belong to the caller, who frees each with writ_free_buffer(), never
 *       with free(). An empty result may be NULL with length 0;
 *       writ_free_buffer(NULL) does nothing.
 *     - Handles (writ_chain, writ_receipt, writ_block_result) are freed by
 *       their own function: writ_chain_close, writ_receipt_free,
 *       writ_block_result_free. Each accepts NULL.
 *     - Pointers that an accessor returns *into* a handle (receipt output,
 *       log topics and data, reject reasons, a receipt borrowed from a block
 *       result) are owned by that handle and valid until it is freed. Do not
 *       free them.
 *     - Pointers passed to a log callback are valid only during the call.
 *  5. Thread-safety. One thread at a time may use a writ_chain (produce
 *     blocks, query, close); queries may run on several threads at once only
 *     while no block is being produced. Functions that take no writ_chain
 *     (keys, signing, proof verification, assembling) are safe on any thread.
 *     writ_last_error() is per thread.
 *
 * A MINIMAL SESSION
 *
 *   writ_chain* chain;  (writ_chain_create once, to make the chain)
 *   if (writ_chain_open("/var/lib/app/chain", genesis, strlen(genesis), &chain) != WRIT_OK)
 *     fprintf(stderr, "open: %s\n", writ_last_error());
 *   uint8_t* tx; size_t tx_len;
 *   writ_tx_sign(&params, &key, &tx, &tx_len, hash);
 *   const uint8_t* txs[1] = {tx}; size_t lens[1] = {tx_len};
 *   writ_block_result* block;
 *   writ_chain_produce_block(chain, txs, lens, 1, now, &block);
 *   ... writ_block_result_tx(block, 0, &outcome) ...
 *   writ_block_result_free(block); writ_free_buffer(tx); writ_chain_close(chain);
 */
#ifndef WRIT_WRIT_H
#define WRIT_WRIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status and errors ------------------------------------------------------ */

typedef enum writ_status {
  WRIT_OK = 0,
  WRIT_ERR_INVALID_ARGUMENT = 1, /* NULL or malformed input: genesis JSON, tx bytes, module text,
                                    a genesis whose chain id differs from the database's */
  WRIT_ERR_IO = 2,               /* the database cannot be opened or written (a full disk:
                                    nothing was committed; retry once there is space) */
  WRIT_ERR_REJECTED = 3,         /* the chain refused a transaction (writ_chain_validate) */
  WRIT_ERR_NOT_FOUND = 4,        /* no such receipt, block, log or transaction index */
  WRIT_ERR_CORRUPT = 5,          /* stored data is damaged, lost or unreadable: a record that
                                    cannot be read or does not decode (a query never answers
                                    zero or "not found" for it; a block whose execution read it
                                    is not committed), a database that lost committed writes
                                    or files; or a proof that does not decode. The message
                                    starts with "store damaged: " for a failed read */
  WRIT_ERR_INTERNAL = 6          /* out of memory, or a failure inside the library */
} writ_status;

/* The calling thread's message for the last failed call ("" if none). Never NULL. */
const char* writ_last_error(void);
/* "WRIT_OK", "WRIT_ERR_IO", ...; "unknown" for other values. Never NULL. */
const char* writ_status_name(writ_status status);

/* Frees a buffer the library returned (convention 4). NULL is ignored. */
void writ_free_buffer(uint8_t* buffer);

/* ---- 256-bit helpers ---------------------------------------------------------- */

void writ_u256_from_u64(uint64_t value, uint8_t out[32]);
/* WRIT_OK if the big-endian value fits 64 bits, else WRIT_ERR_INVALID_ARGUMENT. */
writ_status writ_u256_to_u64(const uint8_t value[32], uint64_t* out);

/* ---- keys and addresses ------------------------------------------------------- */

/* An Ed25519 key pair: the 32-byte RFC 8032 seed (the private key) and the
   public key. Plain data: copy it, and wipe the seed when done. */
typedef struct writ_keypair {
  uint8_t seed[32];
  uint8_t public_key[32];
} writ_keypair;

writ_status writ_keypair_from_seed(const uint8_t seed[32], writ_keypair* out);
writ_status writ_keypair_generate(writ_keypair* out); /* from OpenSSL's CSPRNG */
/* The account address of a public key: SHA-256("writ.address" || key). */
writ_status writ_address_of(const uint8_t public_key[32], uint8_t address_out[32]);
/* The address a deploy by `sender` with `nonce` creates. */
writ_status writ_contract_address(const uint8_t sender[32], uint64_t nonce,
                                  uint8_t address_out[32]);

/* ---- transactions -------------------------------------------------------------- */

typedef enum writ_tx_kind { WRIT_TX_CALL = 0, WRIT_TX_DEPLOY = 1 } writ_tx_kind;

/* What a transaction says; the sender is the signing key. A call has no code
   (code_len 0) and an empty `data` for a plain value transfer; a deploy has
   code (the module bytes), `to` all zero, and `data` as constructor input. */
typedef struct writ_tx_params {
  writ_tx_kind kind;
  uint64_t chain_id;
  uint64_t nonce;
  uint64_t gas_limit;
  uint8_t gas_price[32]; /* u256 big-endian, per unit of gas */
  uint8_t value[32];     /* u256 big-endian, sent to `to` (or to the new contract) */
  uint8_t to[32];
  const uint8_t* code;
  size_t code_len;
  const uint8_t* data;
  size_t data_len;
} writ_tx_params;

/* Builds, signs and encodes a transaction (canonical encoding, see
   writ/runtime/transaction.hpp). *tx_out is freed with writ_free_buffer.
   hash_out (may be NULL) receives the transaction hash, which names its
   receipt. */
writ_status writ_tx_sign(const writ_tx_params* params, const writ_keypair* key, uint8_t** tx_out,
                         size_t* tx_len, uint8_t hash_out[32]);
/* Decodes (strictly) and hashes an encoded transaction:
   WRIT_ERR_INVALID_ARGUMENT with the field and offset if it does not decode. */
writ_status writ_tx_hash(const uint8_t* tx, size_t tx_len, uint8_t hash_out[32]);

/* ---- modules and call input ----------------------------------------------------- */

/* Assembles a module from the text syntax of docs/bytecode.md §7 and verifies
   it; *module_out (freed with writ_free_buffer) is the module's canonical
   bytes, ready for a deploy. Errors in the text carry line:column; a module
   that assembles but does not verify gets the verifier's error, which names
   the function and the code offset ("verify: byte 0xb: function 0 (f) at
   code offset 11: ..."). */
writ_status writ_assemble(const char* source, size_t source_len, uint8_t** module_out,
                          size_t* module_len);
/* The 4-byte selector of a function or error signature text, e.g.
   "transfer(u256,u64)" or "$init(u64)": the first 4 bytes of SHA-256 of the
   text, as a number (call input starts with it big-endian). */
writ_status writ_selector(const char* signature, uint32_t* selector_out);

/* One argument of a call, by the VM's types (docs/bytecode.md, "ABI"):
   WRIT_ARG_U64 and WRIT_ARG_U256 take `word` (32 bytes big-endian; a u64 must
   fit 64 bits), WRIT_ARG_BYTES takes (bytes, bytes_len). A Writ struct is
   one argument per field; a vec<u64> is WRIT_ARG_BYTES of 8-byte
   little-endian elements, a vec<u256> (or i256) of 32-byte big-endian ones. */
typedef enum writ_arg_kind {
  WRIT_ARG_U64 = 0,
  WRIT_ARG_U256 = 1,
  WRIT_ARG_BYTES = 2
} writ_arg_kind;
typedef struct writ_arg {
  writ_arg_kind kind;
  uint8_t word[32];
  const uint8_t* bytes;
  size_t bytes_len;
} writ_arg;

/* The input of a call to `name` with `args`: the selector of name(types) and
   the ABI encoding, ready for writ_tx_sign's data or writ_chain_call. The
   system contracts (docs/contracts/) are driven this way, e.g. an oracle
   feeder reporting a price to the hub at 0x101 (name "report", args: the
   feed as WRIT_ARG_U64, the price as a WRIT_ARG_U256 wad), or governance
   installing a risk model on the engine at 0x102 ("install_model": version
   WRIT_ARG_U64, intercept WRIT_ARG_U256 (an i256 wad), the ten weights as
   WRIT_ARG_BYTES of 32-byte words). *input_out is freed with
   writ_free_buffer. */
writ_status writ_call_input(const char* name, const writ_arg* args, size_t n_args,
                            uint8_t** input_out, size_t* input_len);

/* ---- the chain -------------------------------------------------------------------- */

typedef struct writ_chain writ_chain;

/* Opens the existing chain stored in a RocksDB database at `path`, or a new
   in-memory chain if `path` is NULL. It resumes at the last committed block;
   the genesis must name the same chain id. A missing database is an error,
   never a new chain (writ_chain_create makes one). The genesis format is
   docs/runtime.md's; "code_file" paths are relative to the working
   directory. Errors: WRIT_ERR_INVALID_ARGUMENT (bad JSON, wrong chain id),
   WRIT_ERR_IO (cannot open: no database at `path`, permissions, a database
   locked by another process), WRIT_ERR_CORRUPT (not a Writ chain, a damaged
   file, or a database that lost committed blocks: the message names the
   committed and the recovered heights; docs/runtime.md, "Recovery"). */
writ_status writ_chain_open(const char* path, const char* genesis_json, size_t genesis_len,
                            writ_chain** out);
/* Creates a new chain in a RocksDB database at `path` (NULL: in memory) with
   `genesis_json` as block 0, and opens it. Errors as writ_chain_open;
   WRIT_ERR_IO if `path` already holds a chain, WRIT_ERR_CORRUPT if it holds
   files but no database (perhaps a damaged one: it is left alone). */
writ_status writ_chain_create(const char* path, const char* genesis_json, size_t genesis_len,
                              writ_chain** out);
/* Closes the database and frees the handle. NULL is ignored. */
void writ_chain_close(writ_chain* chain);

typedef struct writ_block_header {
  uint64_t height;
  uint8_t hash[32]; /* of the header: the next block's parent_hash */
  uint8_t parent_hash[32];
  uint64_t timestamp;
  uint8_t tx_root[32];
  uint8_t receipts_root[32];
  uint8_t state_root[32];
  uint64_t gas_used;
} writ_block_header;

writ_status writ_chain_id(const writ_chain* chain, uint64_t* out);
writ_status writ_chain_head_height(const writ_chain* chain, uint64_t* out);
writ_status writ_chain_head_state_root(const writ_chain* chain, uint8_t root_out[32]);
writ_status writ_chain_head(const writ_chain* chain, writ_block_header* out);
/* A committed block's header and its number of transactions; WRIT_ERR_NOT_FOUND above the head. */
writ_status writ_chain_block_header(const writ_chain* chain, uint64_t height,
                                    writ_block_header* out, size_t* tx_count);
/* The i-th transaction of a committed block, in its canonical encoding, in a
   new buffer (free it with writ_free_buffer): with the header, what a
   follower needs to import the block (writ_chain_apply_block).
   WRIT_ERR_NOT_FOUND above the head or past the block's transactions. */
writ_status writ_chain_block_tx(const writ_chain* chain, uint64_t height, size_t i,
                                uint8_t** tx_out, size_t* tx_len);

/* The state checks produce_block would apply to this transaction against the
   head state: WRIT_OK, or WRIT_ERR_REJECTED with the reason as the last error
   ("nonce gap: ..."), or WRIT_ERR_INVALID_ARGUMENT if it does not decode. */
writ_status writ_chain_validate(const writ_chain* chain, const uint8_t* tx, size_t tx_len);

/* ---- receipts ---------------------------------------------------------------------- */

/* How execution ended (the VM's status codes, stable, docs/bytecode.md §6). */
typedef enum writ_exec_status {
  WRIT_EXEC_OK = 0,
  WRIT_EXEC_REVERT = 1,
  WRIT_EXEC_OUT_OF_GAS = 2,
  WRIT_EXEC_OVERFLOW = 3,
  WRIT_EXEC_DIVISION_BY_ZERO = 4,
  WRIT_EXEC_OUT_OF_BOUNDS = 5,
  WRIT_EXEC_CALL_DEPTH = 6,
  WRIT_EXEC_UNREACHABLE = 7,
  WRIT_EXEC_ASSERT_FAILED = 8,
  WRIT_EXEC_MEMORY_LIMIT = 9,
  WRIT_EXEC_STATIC_VIOLATION = 10,
  WRIT_EXEC_REENTRANCY = 11,
  WRIT_EXEC_INVALID_INPUT = 12,
  WRIT_EXEC_NOT_PAYABLE = 13,
  WRIT_EXEC_NO_CODE = 14,
  WRIT_EXEC_INVALID_CODE = 15,
  WRIT_EXEC_INSUFFICIENT_BALANCE = 16,
  WRIT_EXEC_NOT_PERMITTED = 17 /* a history word read or written by other than the risk engine */
} writ_exec_status;
/* "Ok", "Revert", "OutOfGas", ... Never NULL. */
const char* writ_exec_status_name(writ_exec_status status);

typedef struct writ_receipt writ_receipt;

typedef struct writ_receipt_info {
  uint8_t tx_hash[32];
  uint64_t height; /* block that includes the transaction */
  uint32_t index;  /* position in that block */
  writ_exec_status status;
  uint64_t gas_used;     /* the fee burned is gas_used x gas_price */
  const uint8_t* output; /* return data (Ok) or revert data (Revert); owned by the receipt */
  size_t output_len;
  size_t log_count;
  uint8_t contract[32]; /* a successful deploy's new contract; zero otherwise */
  const char* detail;   /* trap reason, "" if none; owned by the receipt */
} writ_receipt_info;

typedef struct writ_log {
  uint8_t address[32];   /* the contract that emitted it */
  const uint8_t* topics; /* topic_count x 32 bytes; topic 0 is the event's signature hash */
  size_t topic_count;
  const uint8_t* data; /* ABI-encoded non-indexed fields */
  size_t data_len;
} writ_log;

/* The receipt of a committed transaction: WRIT_ERR_NOT_FOUND if none. Free with writ_receipt_free.
 */
writ_status writ_chain_receipt(const writ_chain* chain, const uint8_t tx_hash[32],
                               writ_receipt** out);
void writ_receipt_free(writ_receipt* receipt);
writ_status writ_receipt_get_info(const writ_receipt* receipt, writ_receipt_info* out);
/* Log `i` (0-based) of the receipt; WRIT_ERR_NOT_FOUND past log_count. Pointers owned by the
 * receipt. */
writ_status writ_receipt_get_log(const writ_receipt* receipt, size_t i, writ_log* out);

/* The risk engine's verdict on a scored payment (docs/runtime.md, "Payments
 * and risk"): WRIT_ERR_NOT_FOUND when the transaction was not scored (a
 * call or deploy without value, or a chain without a risk engine). The model that scored
 * it is model_version of the engine at 0x102; an embedder installs another
 * with a governance transaction: install_model (weights, via
 * writ_call_input) or install_scorer(version, address) for a model contract
 * of its own that it has deployed (docs/contracts/risk.md, "Another model"). */
typedef enum writ_risk_decision {
  WRIT_RISK_SETTLED = 0,
  WRIT_RISK_HELD = 1,
  WRIT_RISK_REFUSED = 2
} writ_risk_decision;
typedef struct writ_payment_risk {
  uint16_t score;      /* 0..999, higher is riskier */
  uint8_t reasons[4];  /* two-digit reason codes, most important first */
  size_t reason_count; /* 0..4 */
  uint64_t model_version;
  writ_risk_decision decision;
  uint64_t hold_id; /* WRIT_RISK_HELD: the hold at the payment holds (0x103); else 0 */
} writ_payment_risk;
writ_status writ_receipt_get_risk(const writ_receipt* receipt, writ_payment_risk* out);

/* The failure trace: when the transaction's call reverted by passing on the
 * failure of a nested call, the failed nested calls it came through,
 * innermost first (the outermost frame is the receipt's own status and
 * detail). At most 16 are kept, the innermost ones. */
typedef struct writ_failed_call {
  uint8_t callee[32];      /* the contract called */
  uint32_t selector;       /* first 4 bytes of the call's input (0 if shorter) */
  writ_exec_status status; /* how it ended: never WRIT_EXEC_OK */
  uint32_t function;       /* where it ended: function index and byte offset in its code */
  uint32_t pc;             /* (both 0 for a refusal: none of its code ran) */
  const char* detail;      /* trap reason, "" if none; owned by the receipt */
} writ_failed_call;
/* The number of calls in the trace (0 if none) and of outer calls left out. */
writ_status writ_receipt_get_call_count(const writ_receipt* receipt, size_t* count,
                                        uint32_t* omitted);
/* Call `i` (0-based, innermost first); WRIT_ERR_NOT_FOUND past the count. */
writ_status writ_receipt_get_call(const writ_receipt* receipt, size_t i, writ_failed_call* out);

/* ---- producing blocks ------------------------------------------------------------------ */

typedef struct writ_block_result writ_block_result;

/* Decodes the `count` encoded transactions txs[i] (length tx_lens[i]),
   executes the valid ones in order on top of the head, and commits them as
   the next block (one synced write), even if every one is rejected. A
   transaction that does not decode, or that validation refuses, is left out
   and reported with its reason. `timestamp` (seconds) must not be before the
   head's. Log callbacks (writ_chain_subscribe_logs) run before this returns.
   Errors: WRIT_ERR_INVALID_ARGUMENT (timestamp, more than 10,000
   transactions), WRIT_ERR_IO (the commit failed; the head is unchanged). */
writ_status writ_chain_produce_block(writ_chain* chain, const uint8_t* const* txs,
                                     const size_t* tx_lens, size_t count, uint64_t timestamp,
                                     writ_block_result** out);
/* Imports a block made by another node (a follower replaying the producer's
   blocks): its header (writ_block_result_header or writ_chain_block_header
   on the producer) and its encoded transactions in order. Commits only if
   executing them on top of the head gives exactly that header: height and
   parent_hash follow the head, `hash` is the header's, every transaction is
   valid, and tx_root, gas_used, receipts_root and state_root come out the
   same. Errors: WRIT_ERR_REJECTED (the last error names the block and the
   first field that differs, or the invalid transaction),
   WRIT_ERR_INVALID_ARGUMENT (a transaction does not decode, more than 10,000),
   WRIT_ERR_IO (the commit failed). Nothing changes unless WRIT_OK; then every
   transaction is included, in order, in `*out`. */
writ_status writ_chain_apply_block(writ_chain* chain, const writ_block_header* header,
                                   const uint8_t* const* txs, const size_t* tx_lens, size_t count,
                                   writ_block_result** out);
void writ_block_result_free(writ_block_result* result);
writ_status writ_block_result_header(const writ_block_result* result, writ_block_header* out);
/* Number of transactions submitted (included or not). */
size_t writ_block_result_count(const writ_block_result* result);

typedef struct writ_tx_outcome {
  uint8_t tx_hash[32];       /* SHA-256 of the submitted bytes */
  int included;              /* 1: executed, with a receipt; 0: rejected */
  const char* reject_reason; /* rejected: why ("bad signature", "nonce gap: ..."); else "". Owned by
                                the result */
} writ_tx_outcome;
/* Outcome of the i-th submitted transaction; WRIT_ERR_NOT_FOUND past the count. */
writ_status writ_block_result_tx(const writ_block_result* result, size_t i, writ_tx_outcome* out);
/* The receipt of the i-th submitted transaction, borrowed from the result (do
   not free it); WRIT_ERR_NOT_FOUND if it was rejected. */
writ_status writ_block_result_receipt(const writ_block_result* result, size_t i,
                                      const writ_receipt** out);

/* ---- state queries (against the head) ----------------------------------------------------- */

typedef struct writ_account {
  uint8_t balance[32];   /* u256 big-endian */
  uint64_t nonce;        /* the next transaction's nonce */
  uint8_t code_hash[32]; /* zero: no code */
  /* The risk engine's history words of the account (docs/contracts/risk.md),
     u256 big-endian; zero until the engine first records it. Part of the
     record: an account proof needs them. */
  uint8_t history[3][32];
} writ_account;

writ_status writ_chain_account(const writ_chain* chain, const uint8_t address[32],
                               writ_account* out);
writ_status writ_chain_balance(const writ_chain* chain, const uint8_t address[32],
                               uint8_t balance_out[32]);
writ_status writ_chain_nonce(const writ_chain* chain, const uint8_t address[32], uint64_t* out);
writ_status writ_chain_storage(const writ_chain* chain, const uint8_t address[32],
                               const uint8_t slot[32], uint8_t value_out[32]);
/* Runs a call against the head state without committing anything (a view or
   a dry run). *status_out is the execution status; *output_out (freed with
   writ_free_buffer) its return or revert data. WRIT_OK means the call ran,
   whatever its status. */
writ_status writ_chain_call(const writ_chain* chain, const uint8_t from[32], const uint8_t to[32],
                            const uint8_t* input, size_t input_len, uint64_t gas,
                            writ_exec_status* status_out, uint8_t** output_out, size_t* output_len);

/* ---- proofs ---------------------------------------------------------------------------------- */

/* A proof that, in the state with `state_root` (the head's, at `height`), the
   account holds `account` (present = 1) or does not exist (present = 0).
   `proof` is the canonical encoding of the state tree path; free it with
   writ_free_buffer. */
typedef struct writ_account_proof {
  uint8_t state_root[32];
  uint64_t height;
  int present;
  writ_account account;
  uint8_t* proof;
  size_t proof_len;
} writ_account_proof;

/* A proof that storage slot `slot` of the account holds `value` (present = 1)
   or is zero (present = 0; zero slots are not stored). */
typedef struct writ_storage_proof {
  uint8_t state_root[32];
  uint64_t height;
  int present;
  uint8_t value[32];
  uint8_t* proof;
  size_t proof_len;
} writ_storage_proof;

writ_status writ_chain_prove_account(const writ_chain* chain, const uint8_t address[32],
                                     writ_account_proof* out);
writ_status writ_chain_prove_storage(const writ_chain* chain, const uint8_t address[32],
                                     const uint8_t slot[32], writ_storage_proof* out);

/* Offline verification: needs nothing but its arguments (a light client or
   an auditor holding a trusted state root). *verified is set to 1 if the
   proof shows that `address` holds `account` (or, with account NULL, that it
   does not exist) under `state_root`, else 0. WRIT_ERR_CORRUPT (and
   *verified = 0) if the proof bytes do not decode. */
writ_status writ_verify_account_proof(const uint8_t state_root[32], const uint8_t address[32],
                                      const writ_account* account, const uint8_t* proof,
                                      size_t proof_len, int* verified);
/* Likewise for storage: `value` all zero claims the slot is empty. */
writ_status writ_verify_storage_proof(const uint8_t state_root[32], const uint8_t address[32],
                                      const uint8_t slot[32], const uint8_t value[32],
                                      const uint8_t* proof, size_t proof_len, int* verified);

/* ---- log subscriptions
 * ---------------------------------------------------------------------------- */

typedef struct writ_log_event {
  uint64_t height;     /* the block */
  uint8_t tx_hash[32]; /* the transaction */
  uint32_t tx_index;   /* its position in the block */
  uint32_t log_index;  /* the log's position in the transaction's receipt */
  writ_log log;        /* pointers valid during the callback only */
} writ_log_event;

/* Called after each committed block, for each log of each successful
   transaction, in order, on the thread that produced the block. The callback
   may query the chain (the block is already the head), subscribe (from the
   next block on) and unsubscribe (no call follows, not even for the rest of
   the block, so its user_data may be freed), but must not produce blocks or
   close the chain. */
typedef void (*writ_log_callback)(const writ_log_event* event, void* user_data);

/* Registers a callback; *subscription_out (may be NULL) names it for
   writ_chain_unsubscribe. */
writ_status writ_chain_subscribe_logs(writ_chain* chain, writ_log_callback callback,
                                      void* user_data, uint64_t* subscription_out);
/* WRIT_ERR_NOT_FOUND if no such subscription. */
writ_status writ_chain_unsubscribe(writ_chain* chain, uint64_t subscription);

#ifdef __cplusplus
}
#endif

#endif /* WRIT_WRIT_H */
