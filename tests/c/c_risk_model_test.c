/* An embedder installs a risk model of its own through the C API alone:
 * on a chain made from the default genesis (its path is argv[1]), the
 * governance key deploys a scorer contract (the module at argv[2], compiled
 * from tests/fixtures/flat_scorer.writ), installs it on the risk engine at
 * 0x102 with install_scorer(version, address) built by writ_call_input, and
 * the next plain payment's receipt (writ_receipt_get_risk) carries the
 * scorer's score, reasons and the new model version. A model the engine
 * refuses at install (an account without code) reverts and leaves the
 * version as it was; a receipt of a call that was not scored has no risk.
 *
 * Prints one line per check; exits non-zero if any check fails. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "writ/writ.h"

static int g_failures = 0;

static void check(int ok, const char* what) {
  if (ok) {
    printf("ok    %s\n", what);
  } else {
    ++g_failures;
    printf("FAIL  %s (last error: \"%s\")\n", what, writ_last_error());
  }
}

static uint8_t* read_all(const char* path, size_t* len) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  uint8_t* buf = malloc(cap);
  size_t got;
  while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      uint8_t* more = realloc(buf, cap *= 2);
      if (!more) {
        free(buf);
        buf = NULL;
      }
      buf = more;
    }
  }
  fclose(f);
  *len = n;
  return buf;
}

static void from_hex(const char* h, uint8_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    unsigned v = 0;
    sscanf(h + 2 * i, "%2x", &v);
    out[i] = (uint8_t)v;
  }
}

/* The default genesis's development keys: seed = SHA-256("writ dev key: NAME"). */
static const char kGovernanceSeed[] =
    "20cad67bdfead872dc35748b5167740abb222e1223e884151d3db385ecba29b6";
static const char kAliceSeed[] = "346d183c6e6eed4d1b0ba5c64968fb159cbdedf8c1fd2d2df880301c0527b53f";
enum { kChainId = 1337 };
static uint64_t g_time = 1700000000;

/* Signs and commits one transaction in its own block; returns its receipt
   (NULL if it was not included; free it with writ_receipt_free). */
static writ_receipt* run(writ_chain* chain, const writ_tx_params* p, const writ_keypair* key) {
  uint8_t* tx = NULL;
  size_t len = 0;
  uint8_t hash[32];
  if (writ_tx_sign(p, key, &tx, &len, hash) != WRIT_OK) return NULL;
  const uint8_t* txs[1] = {tx};
  writ_block_result* b = NULL;
  writ_receipt* r = NULL;
  g_time += 10;
  if (writ_chain_produce_block(chain, txs, &len, 1, g_time, &b) == WRIT_OK)
    (void)writ_chain_receipt(chain, hash, &r);
  writ_block_result_free(b);
  writ_free_buffer(tx);
  return r;
}

static writ_tx_params params(writ_chain* chain, const writ_keypair* key) {
  writ_tx_params p;
  memset(&p, 0, sizeof p);
  p.kind = WRIT_TX_CALL;
  p.chain_id = kChainId;
  uint8_t addr[32];
  writ_address_of(key->public_key, addr);
  writ_chain_nonce(chain, addr, &p.nonce);
  p.gas_limit = 3000000;
  writ_u256_from_u64(1, p.gas_price);
  return p;
}

static writ_exec_status status_of(const writ_receipt* r) {
  writ_receipt_info info;
  if (!r || writ_receipt_get_info(r, &info) != WRIT_OK) return WRIT_EXEC_INVALID_CODE;
  return info.status;
}

/* install_scorer(version, who) to the engine, signed by governance. */
static writ_receipt* install_scorer(writ_chain* chain, const writ_keypair* gov, uint64_t version,
                                    const uint8_t who[32]) {
  writ_arg args[2];
  memset(args, 0, sizeof args);
  args[0].kind = WRIT_ARG_U64;
  writ_u256_from_u64(version, args[0].word);
  args[1].kind = WRIT_ARG_U256;
  memcpy(args[1].word, who, 32);
  uint8_t* in = NULL;
  size_t in_len = 0;
  if (writ_call_input("install_scorer", args, 2, &in, &in_len) != WRIT_OK) return NULL;
  writ_tx_params p = params(chain, gov);
  writ_u256_from_u64(0x102, p.to);
  p.data = in;
  p.data_len = in_len;
  writ_receipt* r = run(chain, &p, gov);
  writ_free_buffer(in);
  return r;
}

/* The engine's model() version, by a view call. */
static uint64_t model_version(writ_chain* chain) {
  uint8_t in[4], engine[32], zero[32] = {0};
  uint32_t sel = 0;
  writ_selector("model()", &sel);
  in[0] = (uint8_t)(sel >> 24);
  in[1] = (uint8_t)(sel >> 16);
  in[2] = (uint8_t)(sel >> 8);
  in[3] = (uint8_t)sel;
  writ_u256_from_u64(0x102, engine);
  uint8_t* out = NULL;
  size_t out_len = 0;
  writ_exec_status st;
  uint64_t v = UINT64_MAX;
  if (writ_chain_call(chain, zero, engine, in, sizeof in, 1000000, &st, &out, &out_len) ==
          WRIT_OK &&
      st == WRIT_EXEC_OK && out_len >= 32)
    (void)writ_u256_to_u64(out, &v);
  writ_free_buffer(out);
  return v;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: c_risk_model_test GENESIS.json SCORER.wbc\n");
    return 2;
  }
  size_t genesis_len = 0, module_len = 0;
  uint8_t* genesis = read_all(argv[1], &genesis_len);
  uint8_t* module = read_all(argv[2], &module_len);
  if (!genesis || !module) {
    fprintf(stderr, "c_risk_model_test: cannot read %s or %s\n", argv[1], argv[2]);
    return 2;
  }
  writ_chain* chain = NULL;
  check(writ_chain_create(NULL, (const char*)genesis, genesis_len, &chain) == WRIT_OK,
        "an in-memory chain from the default genesis");
  if (!chain) return 1;
  uint8_t seed[32];
  writ_keypair gov, alice;
  from_hex(kGovernanceSeed, seed, 32);
  writ_keypair_from_seed(seed, &gov);
  from_hex(kAliceSeed, seed, 32);
  writ_keypair_from_seed(seed, &alice);
  check(model_version(chain) == 1, "the default genesis's model is version 1");

  /* Deploy the scorer. */
  writ_tx_params p = params(chain, &gov);
  p.kind = WRIT_TX_DEPLOY;
  p.code = module;
  p.code_len = module_len;
  writ_receipt* r = run(chain, &p, &gov);
  writ_receipt_info info;
  uint8_t scorer[32] = {0};
  check(r && writ_receipt_get_info(r, &info) == WRIT_OK && info.status == WRIT_EXEC_OK,
        "governance deploys the scorer");
  if (r) memcpy(scorer, info.contract, 32);
  writ_payment_risk risk;
  check(r && writ_receipt_get_risk(r, &risk) == WRIT_ERR_NOT_FOUND,
        "a deploy was not scored: no risk in its receipt");
  writ_receipt_free(r);

  /* An account without code is refused at install, and nothing changes. */
  uint8_t no_code[32];
  writ_u256_from_u64(0xdead, no_code);
  r = install_scorer(chain, &gov, 2, no_code);
  check(status_of(r) == WRIT_EXEC_REVERT, "install_scorer of an account without code reverts");
  writ_receipt_free(r);
  check(model_version(chain) == 1, "... and the model is still version 1");

  r = install_scorer(chain, &gov, 2, scorer);
  check(status_of(r) == WRIT_EXEC_OK, "install_scorer(2, the scorer) by governance");
  writ_receipt_free(r);
  check(model_version(chain) == 2, "the model is version 2");

  /* Alice pays a new account 1 unit: the scorer gives 100 + 500 (a new
     counterparty) + 2 * 9 (log2 of 1,000 thousandths + 1, whole units). */
  p = params(chain, &alice);
  writ_u256_from_u64(0xfeed, p.to);
  writ_u256_from_u64(1000000000000000000ull, p.value);
  p.gas_limit = 200000;
  r = run(chain, &p, &alice);
  check(status_of(r) == WRIT_EXEC_OK, "alice's payment settles");
  memset(&risk, 0, sizeof risk);
  check(r && writ_receipt_get_risk(r, &risk) == WRIT_OK, "its receipt carries the risk");
  char line[200];
  snprintf(line, sizeof line, "score %u, %zu reason(s) first %u, model %llu, decision %d",
           (unsigned)risk.score, risk.reason_count, (unsigned)risk.reasons[0],
           (unsigned long long)risk.model_version, (int)risk.decision);
  check(risk.score == 618 && risk.reason_count == 1 && risk.reasons[0] == 30 &&
            risk.model_version == 2 && risk.decision == WRIT_RISK_SETTLED && risk.hold_id == 0,
        line);
  writ_receipt_free(r);

  check(writ_receipt_get_risk(NULL, &risk) == WRIT_ERR_INVALID_ARGUMENT, "risk of NULL");
  writ_chain_close(chain);
  free(genesis);
  free(module);
  printf("%d failure(s)\n", g_failures);
  return g_failures == 0 ? 0 : 1;
}
