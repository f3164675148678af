/* The C embedding API (writ.h) end to end, from C11 and nothing but writ.h:
 * open a RocksDB chain in a temporary directory with a genesis that funds a
 * key, deploy a counter contract assembled from text, send signed calls and
 * transfers, check receipts, logs (by subscription and by receipt), balances,
 * storage, a view call, rejected transactions and their reasons, account and
 * storage proofs (verified offline, and refused when tampered), then close,
 * reopen and find the same head. Also the error paths: bad genesis JSON, an
 * unopenable path, a locked database, NULL arguments, malformed bytes.
 *
 * Prints one line per check; exits non-zero if any check fails. */
#define _XOPEN_SOURCE 700 /* mkdtemp, nftw */

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "writ/writ.h"

static int g_failures = 0;
static int g_checks = 0;

static void check(int ok, const char* what) {
  ++g_checks;
  if (ok) {
    printf("ok    %s\n", what);
  } else {
    ++g_failures;
    printf("FAIL  %s (last error: \"%s\")\n", what, writ_last_error());
  }
}

/* Checks that `got` is `want`; on success with a message expected, that the
   last error is non-empty. */
static void check_status(writ_status got, writ_status want, const char* what) {
  char line[512];
  if (got == want) {
    if (want != WRIT_OK && writ_last_error()[0] == '\0') {
      snprintf(line, sizeof line, "%s -> %s, but with no message", what, writ_status_name(got));
      check(0, line);
      return;
    }
    if (want != WRIT_OK)
      snprintf(line, sizeof line, "%s -> %s (\"%s\")", what, writ_status_name(got),
               writ_last_error());
    else
      snprintf(line, sizeof line, "%s", what);
    check(1, line);
  } else {
    snprintf(line, sizeof line, "%s -> %s, expected %s", what, writ_status_name(got),
             writ_status_name(want));
    check(0, line);
  }
}

/* ---- helpers ---------------------------------------------------------------- */

static void put_be32(uint8_t* out, uint32_t v) {
  out[0] = (uint8_t)(v >> 24);
  out[1] = (uint8_t)(v >> 16);
  out[2] = (uint8_t)(v >> 8);
  out[3] = (uint8_t)v;
}

static uint32_t selector(const char* signature) {
  uint32_t s = 0;
  if (writ_selector(signature, &s) != WRIT_OK) check(0, "writ_selector");
  return s;
}

/* Call input: selector ++ one 32-byte word per u64 argument (the ABI). */
static size_t call_input(uint8_t* out, const char* signature, const uint64_t* args, size_t n) {
  put_be32(out, selector(signature));
  for (size_t i = 0; i < n; ++i) writ_u256_from_u64(args[i], out + 4 + 32 * i);
  return 4 + 32 * n;
}

static uint64_t word_u64(const uint8_t* word) {
  uint64_t v = 0;
  if (writ_u256_to_u64(word, &v) != WRIT_OK) return UINT64_MAX;
  return v;
}

static void hex(char* out, const uint8_t* bytes, size_t n) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 15];
  }
  out[2 * n] = '\0';
}

static int remove_entry(const char* path, const struct stat* st, int flag, struct FTW* ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

enum { kChainId = 42 };
static const uint64_t kGenesisTime = 1700000000;
static const uint64_t kAliceFunds = 1000000000000ull;

/* A counter: storage slot 0 holds the count. add(n) adds n (n < 1000, else
   it throws TooMuch(n)), emits Added(caller, new count) and returns the new
   count; get() reads it (view). The constructor sets the start value. */
static const char kCounter[] =
    ".meta source \"tests/c/c_api_test.c\"\n"
    ".event Added(u256 indexed, u64)\n"
    ".error TooMuch(u64)\n"
    ".func $init(u64) export\n"
    "  .regs u256 u256\n"
    "  wconsti r1, 0\n"
    "  zext r2, r0\n"
    "  sstore r1, r2\n"
    "  ret r0\n"
    ".end\n"
    ".func add(u64) -> (u64) export\n"
    "  .regs u256 u256 u256 u256 u64 u64\n" /* r1 slot, r2 count, r3 n, r4 caller, r5 new count, r6
                                               flag */
    "  lti.u r6, r0, 1000\n"
    "  br_ifnot r6, too_much\n"
    "  wconsti r1, 0\n"
    "  sload r2, r1\n"
    "  zext r3, r0\n"
    "  wadd.cu r2, r2, r3\n"
    "  sstore r1, r2\n"
    "  narrow.u r5, r2\n"
    "  caller r4\n"
    "  emit Added, r4\n" /* fields r4 (u256, indexed), r5 (u64) */
    "  ret r5\n"
    "too_much:\n"
    "  throw TooMuch, r0\n"
    ".end\n"
    ".func get() -> (u64) export view\n"
    "  .regs u256 u256 u64\n"
    "  wconsti r0, 0\n"
    "  sload r1, r0\n"
    "  narrow.u r2, r1\n"
    "  ret r2\n"
    ".end\n";

/* ---- log subscription --------------------------------------------------------- */

struct LogSink {
  int count;
  uint64_t last_height;
  uint8_t last_address[32];
  size_t last_topic_count;
  uint8_t last_topic1[32];
  uint64_t last_data_word;
};

static void on_log(const writ_log_event* ev, void* user_data) {
  struct LogSink* sink = (struct LogSink*)user_data;
  sink->count++;
  sink->last_height = ev->height;
  memcpy(sink->last_address, ev->log.address, 32);
  sink->last_topic_count = ev->log.topic_count;
  if (ev->log.topic_count >= 2) memcpy(sink->last_topic1, ev->log.topics + 32, 32);
  sink->last_data_word = ev->log.data_len >= 32 ? word_u64(ev->log.data) : UINT64_MAX;
}

/* A subscription that ends itself at its first event: its chain and id. */
static writ_chain* g_once_chain;
static uint64_t g_once_id;
static int g_once_calls;
static void once(const writ_log_event* ev, void* user_data) {
  (void)ev;
  (void)user_data;
  g_once_calls++;
  writ_chain_unsubscribe(g_once_chain, g_once_id);
}

/* ---- transactions ---------------------------------------------------------------- */

struct SignedTx {
  uint8_t* bytes;
  size_t len;
  uint8_t hash[32];
};

static struct SignedTx sign_call(const writ_keypair* key, uint64_t nonce, const uint8_t to[32],
                                 uint64_t value, const uint8_t* data, size_t data_len,
                                 uint64_t gas) {
  writ_tx_params p;
  memset(&p, 0, sizeof p);
  p.kind = WRIT_TX_CALL;
  p.chain_id = kChainId;
  p.nonce = nonce;
  p.gas_limit = gas;
  writ_u256_from_u64(1, p.gas_price);
  writ_u256_from_u64(value, p.value);
  memcpy(p.to, to, 32);
  p.data = data;
  p.data_len = data_len;
  struct SignedTx t = {NULL, 0, {0}};
  if (writ_tx_sign(&p, key, &t.bytes, &t.len, t.hash) != WRIT_OK) check(0, "writ_tx_sign (call)");
  return t;
}

/* ---- the test -------------------------------------------------------------------- */

static void error_paths(const char* dir, const char* genesis) {
  printf("-- error paths\n");
  writ_chain* chain = NULL;
  char bad_path[] = "/proc/writ-c-api-cannot-live-here";
  char db[600];
  snprintf(db, sizeof db, "%s/never-created", dir);

  check_status(writ_chain_open(db, "{not json", 9, &chain), WRIT_ERR_INVALID_ARGUMENT,
               "open with invalid genesis JSON");
  check(chain == NULL, "no handle after a failed open");
  const char* no_id = "{\"accounts\": []}";
  check_status(writ_chain_open(db, no_id, strlen(no_id), &chain), WRIT_ERR_INVALID_ARGUMENT,
               "open with a genesis missing chain_id");
  check(strstr(writ_last_error(), "chain_id") != NULL, "the message names the field chain_id");
  check_status(writ_chain_open(bad_path, genesis, strlen(genesis), &chain), WRIT_ERR_IO,
               "open under /proc");
  check(strstr(writ_last_error(), bad_path) != NULL, "the message names the path");
  check_status(writ_chain_open(db, NULL, 5, &chain), WRIT_ERR_INVALID_ARGUMENT,
               "open with a NULL genesis");
  check_status(writ_chain_open(db, genesis, strlen(genesis), NULL), WRIT_ERR_INVALID_ARGUMENT,
               "open with a NULL out");
  /* Opening never creates: a chain is made by writ_chain_create only. */
  check_status(writ_chain_open(db, genesis, strlen(genesis), &chain), WRIT_ERR_IO,
               "open where there is no database");
  check(strstr(writ_last_error(), "no database") != NULL, "the message says there is no database");
  check(chain == NULL, "no handle after opening a missing database");
  check_status(writ_chain_create(bad_path, genesis, strlen(genesis), &chain), WRIT_ERR_IO,
               "create under /proc");

  uint64_t h = 0;
  uint8_t word[32] = {0};
  check_status(writ_chain_head_height(NULL, &h), WRIT_ERR_INVALID_ARGUMENT,
               "head height of a NULL chain");
  check_status(writ_chain_balance(NULL, word, word), WRIT_ERR_INVALID_ARGUMENT,
               "balance of a NULL chain");
  check_status(writ_tx_sign(NULL, NULL, NULL, NULL, NULL), WRIT_ERR_INVALID_ARGUMENT,
               "sign with NULL params");
  check_status(writ_receipt_get_info(NULL, NULL), WRIT_ERR_INVALID_ARGUMENT,
               "info of a NULL receipt");
  check_status(writ_chain_produce_block(NULL, NULL, NULL, 0, 0, NULL), WRIT_ERR_INVALID_ARGUMENT,
               "produce a block on a NULL chain");
  check_status(writ_keypair_from_seed(NULL, NULL), WRIT_ERR_INVALID_ARGUMENT,
               "key from a NULL seed");
  check_status(writ_selector(NULL, NULL), WRIT_ERR_INVALID_ARGUMENT, "selector of NULL");
  check_status(writ_u256_to_u64(NULL, &h), WRIT_ERR_INVALID_ARGUMENT, "u256_to_u64 of NULL");
  memset(word, 0xff, sizeof word);
  check_status(writ_u256_to_u64(word, &h), WRIT_ERR_INVALID_ARGUMENT, "u256_to_u64 of 2^256-1");

  const uint8_t junk[] = {1, 2, 3, 4, 5};
  uint8_t hash[32];
  check_status(writ_tx_hash(junk, sizeof junk, hash), WRIT_ERR_INVALID_ARGUMENT,
               "hash of 5 junk bytes");
  check(strstr(writ_last_error(), "field") != NULL, "the decode error names a field");
  int verified = 7;
  check_status(writ_verify_account_proof(word, word, NULL, junk, sizeof junk, &verified),
               WRIT_ERR_CORRUPT, "verify a junk proof");
  check(verified == 0, "a junk proof is not verified");

  uint8_t* module = NULL;
  size_t module_len = 0;
  const char* bad_asm = ".func f() -> (u64) export\n  wad r0, r0, r0\n.end\n";
  check_status(writ_assemble(bad_asm, strlen(bad_asm), &module, &module_len),
               WRIT_ERR_INVALID_ARGUMENT, "assemble an unknown instruction");
  check(strstr(writ_last_error(), "2:") != NULL, "the assembler error has a line number");
  check(module == NULL, "no module after a failed assemble");

  writ_keypair key;
  uint8_t seed[32] = {9};
  check_status(writ_keypair_from_seed(seed, &key), WRIT_OK, "key from a seed");
  writ_tx_params p;
  memset(&p, 0, sizeof p);
  p.kind = WRIT_TX_DEPLOY;
  p.to[0] = 1;
  p.code = junk;
  p.code_len = sizeof junk;
  uint8_t* tx = NULL;
  size_t tx_len = 0;
  check_status(writ_tx_sign(&p, &key, &tx, &tx_len, NULL), WRIT_ERR_INVALID_ARGUMENT,
               "sign a deploy with a `to`");
  p.to[0] = 0;
  key.public_key[0] ^= 1;
  check_status(writ_tx_sign(&p, &key, &tx, &tx_len, NULL), WRIT_ERR_INVALID_ARGUMENT,
               "sign with a public key that is not the seed's");
  check(tx == NULL, "no transaction after a failed sign");

  writ_chain_close(NULL);
  writ_free_buffer(NULL);
  writ_receipt_free(NULL);
  writ_block_result_free(NULL);
  check(1, "close/free of NULL do nothing");
  check(strcmp(writ_exec_status_name(WRIT_EXEC_OUT_OF_GAS), "OutOfGas") == 0, "exec status names");
  /* Every status a receipt can carry has its name (NotPermitted was "Unknown"). */
  check(strcmp(writ_exec_status_name(WRIT_EXEC_NOT_PERMITTED), "NotPermitted") == 0,
        "exec status NotPermitted named");
  check(strcmp(writ_exec_status_name((writ_exec_status)18), "Unknown") == 0,
        "exec status past the last is Unknown");
}

/* writ_call_input: the selector of name(types), then the ABI words; a
   buffer goes in the tail (its offset in the head, then its length and bytes). */
static void call_input_checks(void) {
  printf("-- call input\n");
  writ_arg args[3];
  memset(args, 0, sizeof args);
  args[0].kind = WRIT_ARG_U64;
  args[0].word[31] = 1; /* feed 1 */
  args[1].kind = WRIT_ARG_U256;
  args[1].word[0] = 0x12; /* a wad */
  args[1].word[31] = 0x34;
  uint8_t* in = NULL;
  size_t len = 0;
  check_status(writ_call_input("report", args, 2, &in, &len), WRIT_OK, "report(u64,u256) input");
  uint32_t sel = 0;
  check_status(writ_selector("report(u64,u256)", &sel), WRIT_OK, "its selector");
  check(len == 4 + 64 && in && in[0] == (uint8_t)(sel >> 24) && in[3] == (uint8_t)sel &&
            in[4 + 31] == 1 && in[4 + 32] == 0x12 && in[4 + 63] == 0x34,
        "the selector, then one word per argument");
  writ_free_buffer(in);
  static const uint8_t text[3] = {'a', 'b', 'c'};
  args[2].kind = WRIT_ARG_BYTES;
  args[2].bytes = text;
  args[2].bytes_len = 3;
  check_status(writ_call_input("put", args, 3, &in, &len), WRIT_OK, "put(u64,u256,bytes) input");
  check(len == 4 + 3 * 32 + 32 + 32 && in[4 + 2 * 32 + 31] == 96 && in[4 + 3 * 32 + 31] == 3 &&
            in[4 + 4 * 32] == 'a' && in[4 + 4 * 32 + 2] == 'c',
        "a buffer's offset in the head, its length and bytes in the tail");
  writ_free_buffer(in);
  args[0].word[0] = 1; /* 2^248: not a u64 */
  check_status(writ_call_input("report", args, 2, &in, &len), WRIT_ERR_INVALID_ARGUMENT,
               "a u64 argument past 64 bits is refused");
  check_status(writ_call_input("not a name", args, 0, &in, &len), WRIT_ERR_INVALID_ARGUMENT,
               "a name with spaces is refused");
  check_status(writ_call_input("report", NULL, 2, &in, &len), WRIT_ERR_INVALID_ARGUMENT,
               "arguments missing");
}

int main(void) {
  char dir[] = "/tmp/writ-c-api-XXXXXX";
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 2;
  }
  char db[600];
  snprintf(db, sizeof db, "%s/chain", dir);

  /* Keys and a genesis that funds alice. */
  writ_keypair alice, bob;
  uint8_t seed_a[32] = {1}, seed_b[32] = {2};
  uint8_t alice_addr[32], bob_addr[32];
  check_status(writ_keypair_from_seed(seed_a, &alice), WRIT_OK, "alice's key from a seed");
  check_status(writ_keypair_from_seed(seed_b, &bob), WRIT_OK, "bob's key from a seed");
  check_status(writ_address_of(alice.public_key, alice_addr), WRIT_OK, "alice's address");
  check_status(writ_address_of(bob.public_key, bob_addr), WRIT_OK, "bob's address");
  char alice_hex[65];
  hex(alice_hex, alice_addr, 32);
  char genesis[512];
  snprintf(genesis, sizeof genesis,
           "{\"chain_id\": %d, \"timestamp\": %llu, \"accounts\": [{\"address\": \"0x%s\", "
           "\"balance\": \"%llu\"}]}",
           kChainId, (unsigned long long)kGenesisTime, alice_hex, (unsigned long long)kAliceFunds);

  error_paths(dir, genesis);
  call_input_checks();

  printf("-- open, deploy, call\n");
  writ_chain* chain = NULL;
  check_status(writ_chain_create(db, genesis, strlen(genesis), &chain), WRIT_OK,
               "create a new RocksDB chain");
  if (!chain) return 1;
  writ_chain* second = NULL;
  check_status(writ_chain_open(db, genesis, strlen(genesis), &second), WRIT_ERR_IO,
               "open the same database twice (locked)");
  uint64_t id = 0, height = 99;
  writ_chain_id(chain, &id);
  writ_chain_head_height(chain, &height);
  check(id == kChainId && height == 0, "chain id 42, head at block 0");
  uint8_t word[32];
  writ_chain_balance(chain, alice_addr, word);
  check(word_u64(word) == kAliceFunds, "genesis funds alice");

  struct LogSink sink;
  memset(&sink, 0, sizeof sink);
  uint64_t sub = 0;
  check_status(writ_chain_subscribe_logs(chain, on_log, &sink, &sub), WRIT_OK, "subscribe to logs");

  uint8_t* module = NULL;
  size_t module_len = 0;
  check_status(writ_assemble(kCounter, strlen(kCounter), &module, &module_len), WRIT_OK,
               "assemble the counter");

  /* Block 1: deploy the counter (start value 10) and pay bob 5000. */
  uint8_t init[4 + 32];
  uint64_t ten = 10;
  size_t init_len = call_input(init, "$init(u64)", &ten, 1);
  writ_tx_params p;
  memset(&p, 0, sizeof p);
  p.kind = WRIT_TX_DEPLOY;
  p.chain_id = kChainId;
  p.nonce = 0;
  p.gas_limit = 2000000;
  writ_u256_from_u64(1, p.gas_price);
  p.code = module;
  p.code_len = module_len;
  p.data = init;
  p.data_len = init_len;
  struct SignedTx deploy = {NULL, 0, {0}};
  check_status(writ_tx_sign(&p, &alice, &deploy.bytes, &deploy.len, deploy.hash), WRIT_OK,
               "sign the deploy");
  struct SignedTx pay = sign_call(&alice, 1, bob_addr, 5000, NULL, 0, 5000);
  uint8_t hash[32];
  check(writ_tx_hash(pay.bytes, pay.len, hash) == WRIT_OK && memcmp(hash, pay.hash, 32) == 0,
        "writ_tx_hash decodes the payment and agrees with the signer's hash");

  writ_chain* follower = NULL; /* a second node, in memory, that imports the blocks */
  const uint8_t* txs1[2] = {deploy.bytes, pay.bytes};
  size_t lens1[2] = {deploy.len, pay.len};
  writ_block_result* b1 = NULL;
  check_status(writ_chain_produce_block(chain, txs1, lens1, 2, kGenesisTime + 5, &b1), WRIT_OK,
               "produce block 1");
  if (!b1) return 1;
  uint64_t gas_spent = 0;
  uint8_t counter[32];
  writ_contract_address(alice_addr, 0, counter);
  {
    writ_tx_outcome o;
    const writ_receipt* r = NULL;
    writ_receipt_info info;
    check(writ_block_result_count(b1) == 2, "block 1 reports both transactions");
    check(writ_block_result_tx(b1, 0, &o) == WRIT_OK && o.included &&
              memcmp(o.tx_hash, deploy.hash, 32) == 0,
          "the deploy is included");
    check(writ_block_result_receipt(b1, 0, &r) == WRIT_OK &&
              writ_receipt_get_info(r, &info) == WRIT_OK && info.status == WRIT_EXEC_OK,
          "the deploy succeeded");
    check(memcmp(info.contract, counter, 32) == 0,
          "the contract is at writ_contract_address(alice, 0)");
    check(info.height == 1 && info.index == 0, "the deploy's receipt says block 1, index 0");
    gas_spent += info.gas_used;
    check(writ_block_result_receipt(b1, 1, &r) == WRIT_OK &&
              writ_receipt_get_info(r, &info) == WRIT_OK && info.status == WRIT_EXEC_OK &&
              info.gas_used == 1000,
          "the payment succeeded and used the base gas (1000)");
    gas_spent += info.gas_used;
    writ_block_header hdr;
    writ_block_result_header(b1, &hdr);
    check(hdr.height == 1 && hdr.gas_used == gas_spent,
          "block 1 header: height 1, gas used = sum of receipts");

    /* A follower (in memory) imports block 1 from its header and transactions;
       an altered header is refused and changes nothing. */
    printf("-- a follower applies block 1\n");
    check_status(writ_chain_open(NULL, genesis, strlen(genesis), &follower), WRIT_OK,
                 "open a follower chain");
    writ_block_result* applied = NULL;
    writ_block_header altered = hdr;
    altered.state_root[0] ^= 1;
    check_status(writ_chain_apply_block(follower, &altered, txs1, lens1, 2, &applied),
                 WRIT_ERR_REJECTED, "apply block 1 with a forged state root");
    check(strstr(writ_last_error(), "header field hash") != NULL,
          "the reason: the hash is not the forged header's");
    check_status(writ_chain_apply_block(follower, &hdr, txs1, lens1, 1, &applied),
                 WRIT_ERR_REJECTED, "apply block 1 without its payment");
    check(strstr(writ_last_error(), "header field tx_root") != NULL, "the reason names tx_root");
    const uint8_t junk1[] = {0x01};
    const uint8_t* bad_txs[2] = {deploy.bytes, junk1};
    size_t bad_lens[2] = {deploy.len, sizeof junk1};
    check_status(writ_chain_apply_block(follower, &hdr, bad_txs, bad_lens, 2, &applied),
                 WRIT_ERR_INVALID_ARGUMENT, "apply block 1 with an undecodable transaction");
    uint64_t fh = 99;
    writ_chain_head_height(follower, &fh);
    check(fh == 0 && applied == NULL, "the refused blocks changed nothing");
    check_status(writ_chain_apply_block(follower, &hdr, txs1, lens1, 2, &applied), WRIT_OK,
                 "apply block 1 as produced");
    writ_block_header fhdr;
    check_status(writ_chain_head(follower, &fhdr), WRIT_OK, "the follower's head");
    check(memcmp(&fhdr, &hdr, sizeof hdr) == 0, "the follower's head is the producer's block 1");
    check(applied && writ_block_result_count(applied) == 2, "both transactions are in the result");
    writ_block_result_free(applied);
    writ_chain_balance(follower, bob_addr, word);
    check(word_u64(word) == 5000, "the follower has bob's 5000 too");
  }
  writ_block_result_free(b1);
  writ_chain_balance(chain, bob_addr, word);
  check(word_u64(word) == 5000, "bob holds 5000");
  writ_chain_balance(chain, alice_addr, word);
  check(word_u64(word) == kAliceFunds - 5000 - gas_spent, "alice paid 5000 plus the gas (price 1)");
  uint64_t nonce = 0;
  writ_chain_nonce(chain, alice_addr, &nonce);
  check(nonce == 2, "alice's next nonce is 2");
  uint8_t slot0[32] = {0};
  writ_chain_storage(chain, counter, slot0, word);
  check(word_u64(word) == 10, "the constructor stored 10 in slot 0");

  /* Block 2: add(7) succeeds; add(5000) reverts; a bad signature, a nonce gap
     and junk bytes are rejected. */
  uint8_t in_add7[36], in_add_big[36];
  uint64_t seven = 7, big = 5000;
  size_t add_len = call_input(in_add7, "add(u64)", &seven, 1);
  call_input(in_add_big, "add(u64)", &big, 1);
  struct SignedTx add7 = sign_call(&alice, 2, counter, 0, in_add7, add_len, 200000);
  struct SignedTx add_big = sign_call(&alice, 3, counter, 0, in_add_big, add_len, 200000);
  struct SignedTx gap = sign_call(&alice, 9, bob_addr, 1, NULL, 0, 5000);
  struct SignedTx forged = sign_call(&bob, 0, alice_addr, 1, NULL, 0, 5000);
  forged.bytes[forged.len - 1] ^= 1; /* the signature's last byte */
  check_status(writ_chain_validate(chain, gap.bytes, gap.len), WRIT_ERR_REJECTED,
               "validate a nonce gap");
  check(strstr(writ_last_error(), "nonce gap") != NULL, "the reason says nonce gap");
  check_status(writ_chain_validate(chain, add7.bytes, add7.len), WRIT_OK, "validate add(7)");
  const uint8_t junk[] = {0xde, 0xad};
  const uint8_t* txs2[5] = {add7.bytes, forged.bytes, gap.bytes, junk, add_big.bytes};
  size_t lens2[5] = {add7.len, forged.len, gap.len, sizeof junk, add_big.len};
  writ_block_result* b2 = NULL;
  check_status(writ_chain_produce_block(chain, txs2, lens2, 5, kGenesisTime + 10, &b2), WRIT_OK,
               "produce block 2");
  if (!b2) return 1;
  {
    writ_tx_outcome o;
    const writ_receipt* r = NULL;
    writ_receipt_info info;
    writ_log log;
    check(writ_block_result_tx(b2, 0, &o) == WRIT_OK && o.included, "add(7) is included");
    check(writ_block_result_receipt(b2, 0, &r) == WRIT_OK &&
              writ_receipt_get_info(r, &info) == WRIT_OK && info.status == WRIT_EXEC_OK &&
              info.output_len == 32 && word_u64(info.output) == 17,
          "add(7) returned 17");
    gas_spent += info.gas_used;
    check(info.log_count == 1 && writ_receipt_get_log(r, 0, &log) == WRIT_OK,
          "add(7) logged one event");
    check(memcmp(log.address, counter, 32) == 0 && log.topic_count == 2 &&
              memcmp(log.topics + 32, alice_addr, 32) == 0 && log.data_len == 32 &&
              word_u64(log.data) == 17,
          "the log: from the counter, topic 1 = alice, data = 17");
    check_status(writ_receipt_get_log(r, 1, &log), WRIT_ERR_NOT_FOUND, "log 1 of 1");
    check(writ_block_result_tx(b2, 1, &o) == WRIT_OK && !o.included &&
              strcmp(o.reject_reason, "bad signature") == 0,
          "the forged transaction is rejected: bad signature");
    check_status(writ_block_result_receipt(b2, 1, &r), WRIT_ERR_NOT_FOUND,
                 "no receipt for the forged transaction");
    check(writ_block_result_tx(b2, 2, &o) == WRIT_OK && !o.included &&
              strstr(o.reject_reason, "nonce gap") != NULL,
          "the nonce gap is rejected with its reason");
    check(writ_block_result_tx(b2, 3, &o) == WRIT_OK && !o.included &&
              strstr(o.reject_reason, "does not decode") != NULL,
          "junk bytes are rejected: does not decode");
    printf("      (reason: %s)\n", o.reject_reason);
    check(writ_block_result_receipt(b2, 4, &r) == WRIT_OK &&
              writ_receipt_get_info(r, &info) == WRIT_OK && info.status == WRIT_EXEC_REVERT &&
              info.log_count == 0,
          "add(5000) reverted without logs");
    uint8_t want[4];
    put_be32(want, selector("TooMuch(u64)"));
    check(info.output_len == 36 && memcmp(info.output, want, 4) == 0 &&
              word_u64(info.output + 4) == 5000,
          "its revert data is TooMuch(5000)");
    size_t call_count = 99;
    uint32_t omitted = 99;
    writ_failed_call fc;
    check(writ_receipt_get_call_count(r, &call_count, &omitted) == WRIT_OK && call_count == 0 &&
              omitted == 0,
          "a revert without nested calls has an empty failure trace");
    check_status(writ_receipt_get_call(r, 0, &fc), WRIT_ERR_NOT_FOUND, "call 0 of 0");
    check_status(writ_receipt_get_call_count(r, NULL, &omitted), WRIT_ERR_INVALID_ARGUMENT,
                 "the call count needs somewhere to go");
    gas_spent += info.gas_used;
    check_status(writ_block_result_tx(b2, 5, &o), WRIT_ERR_NOT_FOUND, "outcome 5 of 5");
  }
  writ_block_result_free(b2);
  {
    /* The follower imports block 2 from the producer's database: the header
       and each transaction as committed. */
    printf("-- the follower replicates block 2 from the committed block\n");
    writ_block_header h2;
    size_t n2 = 0;
    check_status(writ_chain_block_header(chain, 2, &h2, &n2), WRIT_OK, "block 2's header");
    uint8_t* tx_bytes[8] = {NULL};
    size_t tx_lens[8] = {0};
    check(n2 == 2, "block 2 holds the two executed transactions");
    for (size_t i = 0; i < n2 && i < 8; ++i)
      check_status(writ_chain_block_tx(chain, 2, i, &tx_bytes[i], &tx_lens[i]), WRIT_OK,
                   "a transaction of block 2");
    uint8_t hash0[32];
    check(writ_tx_hash(tx_bytes[0], tx_lens[0], hash0) == WRIT_OK &&
              memcmp(hash0, add7.hash, 32) == 0,
          "its first transaction is add(7), byte for byte");
    uint8_t* extra = NULL;
    size_t extra_len = 0;
    check_status(writ_chain_block_tx(chain, 2, n2, &extra, &extra_len), WRIT_ERR_NOT_FOUND,
                 "a transaction past the block's");
    check_status(writ_chain_block_tx(chain, 9, 0, &extra, &extra_len), WRIT_ERR_NOT_FOUND,
                 "a block above the head");
    writ_block_result* applied2 = NULL;
    check_status(writ_chain_apply_block(follower, &h2, (const uint8_t* const*)tx_bytes, tx_lens, n2,
                                        &applied2),
                 WRIT_OK, "the follower applies block 2");
    writ_block_result_free(applied2);
    writ_block_header fh2;
    writ_chain_head(follower, &fh2);
    check(memcmp(&fh2, &h2, sizeof h2) == 0, "the follower's head is the producer's block 2");
    uint8_t fslot0[32] = {0};
    writ_chain_storage(follower, counter, fslot0, word);
    check(word_u64(word) == 17, "the follower's counter holds 17 too");
    for (size_t i = 0; i < n2 && i < 8; ++i) writ_free_buffer(tx_bytes[i]);
    writ_chain_close(follower);
  }
  check(sink.count == 1 && sink.last_height == 2 && memcmp(sink.last_address, counter, 32) == 0 &&
            sink.last_topic_count == 2 && memcmp(sink.last_topic1, alice_addr, 32) == 0 &&
            sink.last_data_word == 17,
        "the subscription saw the one log of block 2");

  /* Receipts by hash, state, a view call. */
  writ_receipt* rc = NULL;
  writ_receipt_info info;
  check_status(writ_chain_receipt(chain, add7.hash, &rc), WRIT_OK, "receipt of add(7) by hash");
  check(rc && writ_receipt_get_info(rc, &info) == WRIT_OK && info.status == WRIT_EXEC_OK &&
            info.height == 2 && info.log_count == 1 && memcmp(info.tx_hash, add7.hash, 32) == 0,
        "the stored receipt matches");
  writ_receipt_free(rc);
  check_status(writ_chain_receipt(chain, gap.hash, &rc), WRIT_ERR_NOT_FOUND,
               "no receipt for a rejected tx");
  writ_chain_storage(chain, counter, slot0, word);
  check(word_u64(word) == 17, "slot 0 holds 17");
  writ_chain_balance(chain, alice_addr, word);
  check(word_u64(word) == kAliceFunds - 5000 - gas_spent,
        "alice paid exactly the gas of the included txs");
  uint8_t in_get[4];
  call_input(in_get, "get()", NULL, 0);
  writ_exec_status st;
  uint8_t* out = NULL;
  size_t out_len = 0;
  check_status(writ_chain_call(chain, alice_addr, counter, in_get, 4, 100000, &st, &out, &out_len),
               WRIT_OK, "view call get()");
  check(st == WRIT_EXEC_OK && out_len == 32 && word_u64(out) == 17, "get() returns 17");
  writ_free_buffer(out);

  printf("-- proofs\n");
  uint8_t root[32];
  writ_chain_head_state_root(chain, root);
  writ_account_proof ap;
  int verified = 0;
  check_status(writ_chain_prove_account(chain, alice_addr, &ap), WRIT_OK, "prove alice's account");
  check(ap.present && memcmp(ap.state_root, root, 32) == 0 && ap.height == 2 && ap.proof_len > 0,
        "the proof is for the head root, account present");
  check(writ_verify_account_proof(root, alice_addr, &ap.account, ap.proof, ap.proof_len,
                                  &verified) == WRIT_OK &&
            verified == 1,
        "alice's account proof verifies");
  writ_account tampered = ap.account;
  tampered.balance[31] ^= 1;
  check(writ_verify_account_proof(root, alice_addr, &tampered, ap.proof, ap.proof_len, &verified) ==
                WRIT_OK &&
            verified == 0,
        "a tampered balance does not verify");
  check(writ_verify_account_proof(root, bob_addr, &ap.account, ap.proof, ap.proof_len, &verified) ==
                WRIT_OK &&
            verified == 0,
        "alice's proof does not verify for bob");
  writ_free_buffer(ap.proof);
  uint8_t nobody[32];
  memset(nobody, 0x5a, sizeof nobody);
  check_status(writ_chain_prove_account(chain, nobody, &ap), WRIT_OK, "prove an absent account");
  check(!ap.present &&
            writ_verify_account_proof(root, nobody, NULL, ap.proof, ap.proof_len, &verified) ==
                WRIT_OK &&
            verified == 1,
        "the exclusion proof verifies");
  writ_free_buffer(ap.proof);
  writ_storage_proof sp;
  check_status(writ_chain_prove_storage(chain, counter, slot0, &sp), WRIT_OK,
               "prove the counter's slot 0");
  check(sp.present && word_u64(sp.value) == 17 &&
            writ_verify_storage_proof(root, counter, slot0, sp.value, sp.proof, sp.proof_len,
                                      &verified) == WRIT_OK &&
            verified == 1,
        "slot 0 = 17 verifies");
  writ_u256_from_u64(18, word);
  check(writ_verify_storage_proof(root, counter, slot0, word, sp.proof, sp.proof_len, &verified) ==
                WRIT_OK &&
            verified == 0,
        "slot 0 = 18 does not verify");
  writ_free_buffer(sp.proof);

  /* Unsubscribe: the next block's log is not delivered. */
  check_status(writ_chain_unsubscribe(chain, sub), WRIT_OK, "unsubscribe");
  check_status(writ_chain_unsubscribe(chain, sub), WRIT_ERR_NOT_FOUND, "unsubscribe twice");
  struct SignedTx add1 = sign_call(&alice, 4, counter, 0, in_add7, add_len, 200000);
  const uint8_t* txs3[1] = {add1.bytes};
  size_t lens3[1] = {add1.len};
  writ_block_result* b3 = NULL;
  check_status(writ_chain_produce_block(chain, txs3, lens3, 1, kGenesisTime + 15, &b3), WRIT_OK,
               "produce block 3");
  writ_block_result_free(b3);
  check(sink.count == 1, "no callback after unsubscribing");
  check_status(writ_chain_produce_block(chain, txs3, lens3, 1, kGenesisTime, &b3),
               WRIT_ERR_INVALID_ARGUMENT, "a block timestamp before the head's");

  printf("-- close and reopen\n");
  writ_block_header before, after;
  writ_chain_head(chain, &before);
  writ_chain_close(chain);
  chain = NULL;
  check_status(writ_chain_open(db, genesis, strlen(genesis), &chain), WRIT_OK, "reopen the chain");
  if (!chain) return 1;
  writ_chain_head(chain, &after);
  check(after.height == 3 && memcmp(before.hash, after.hash, 32) == 0 &&
            memcmp(before.state_root, after.state_root, 32) == 0,
        "the same head (height 3, same hash and state root) after reopening");
  size_t tx_count = 0;
  writ_block_header h2;
  check(writ_chain_block_header(chain, 2, &h2, &tx_count) == WRIT_OK && tx_count == 2,
        "block 2 holds the 2 included transactions");
  check(writ_chain_block_header(chain, 3, &after, NULL) == WRIT_OK &&
            memcmp(after.parent_hash, h2.hash, 32) == 0,
        "block 3's parent is block 2");
  check_status(writ_chain_block_header(chain, 4, &after, NULL), WRIT_ERR_NOT_FOUND,
               "block 4 does not exist");
  writ_chain_storage(chain, counter, slot0, word);
  check(word_u64(word) == 24, "the counter kept its value (24)");
  check_status(writ_chain_receipt(chain, add7.hash, &rc), WRIT_OK, "receipts survive reopening");
  writ_receipt_free(rc);
  struct SignedTx pay2 = sign_call(&alice, 5, bob_addr, 1, NULL, 0, 5000);
  /* A callback that unsubscribes is not called again, not even for the
     block's next log (it was: the block's subscriptions were copied). */
  g_once_chain = chain;
  check_status(writ_chain_subscribe_logs(chain, once, NULL, &g_once_id), WRIT_OK,
               "subscribe a callback that unsubscribes");
  struct SignedTx add2 = sign_call(&alice, 6, counter, 0, in_add7, add_len, 200000);
  struct SignedTx add3 = sign_call(&alice, 7, counter, 0, in_add7, add_len, 200000);
  const uint8_t* txs4[3] = {pay2.bytes, add2.bytes, add3.bytes};
  size_t lens4[3] = {pay2.len, add2.len, add3.len};
  writ_block_result* b4 = NULL;
  check_status(writ_chain_produce_block(chain, txs4, lens4, 3, kGenesisTime + 20, &b4), WRIT_OK,
               "the reopened chain produces block 4");
  writ_block_result_free(b4);
  check(g_once_calls == 1, "a callback that unsubscribed is called once");
  writ_chain_balance(chain, bob_addr, word);
  check(word_u64(word) == 5001, "bob holds 5001");
  writ_chain_close(chain);

  char other[512];
  snprintf(other, sizeof other, "{\"chain_id\": 43, \"accounts\": []}");
  check_status(writ_chain_open(db, other, strlen(other), &chain), WRIT_ERR_INVALID_ARGUMENT,
               "reopen with another chain id");
  check_status(writ_chain_create(db, genesis, strlen(genesis), &chain), WRIT_ERR_IO,
               "create where a chain exists");
  check(strstr(writ_last_error(), "already holds a chain") != NULL,
        "the message says a chain exists");

  /* An in-memory chain (path NULL). */
  check_status(writ_chain_open(NULL, genesis, strlen(genesis), &chain), WRIT_OK,
               "open an in-memory chain");
  writ_chain_balance(chain, alice_addr, word);
  check(word_u64(word) == kAliceFunds, "the in-memory chain has the genesis funds");
  writ_chain_close(chain);

  writ_free_buffer(module);
  writ_free_buffer(deploy.bytes);
  writ_free_buffer(pay.bytes);
  writ_free_buffer(add7.bytes);
  writ_free_buffer(add_big.bytes);
  writ_free_buffer(gap.bytes);
  writ_free_buffer(forged.bytes);
  writ_free_buffer(add1.bytes);
  writ_free_buffer(pay2.bytes);
  writ_free_buffer(add2.bytes);
  writ_free_buffer(add3.bytes);
  nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);

  printf("%d checks, %d failed\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}
