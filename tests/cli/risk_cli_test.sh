#!/usr/bin/env bash
# End to end: `writ risk` generates a small stream, trains on it, evaluates
# on another seed, writes the ROC picture, refuses bad CSV and bad model
# files by name and line, and installs a model on a chain in a data
# directory (docs/contracts/risk.md). Streams are small to keep this fast.
# usage: risk_cli_test.sh WRIT_BINARY
set -u
WRIT="$1"
source "$(dirname "$0")/lib.sh"

# ---- gen: deterministic from the seed ----
expect gen 0 "^$TMP/a.csv: 1500 payments over 20 days \(seed 7\), [0-9]+ accounts, 30 fraud \(2.00%\)$" -- \
  "$WRIT" risk gen -o "$TMP/a.csv" --seed 7 --payments 1500 --days 20
expect gen-kinds 0 "^kinds: purchase [0-9]+, payroll [0-9]+, supplier [0-9]+, p2p [0-9]+, ato [0-9]+, mule_in .*, split [0-9]+$" -- \
  "$WRIT" risk gen -o "$TMP/a2.csv" --seed 7 --payments 1500 --days 20
check gen-same-seed-same-bytes cmp -s "$TMP/a.csv" "$TMP/a2.csv"
expect gen-other-seed 0 "" -- "$WRIT" risk gen -o "$TMP/b.csv" --seed 8 --payments 1500 --days 20
check gen-other-seed-other-bytes bash -c "! cmp -s '$TMP/a.csv' '$TMP/b.csv'"
check gen-header bash -c "head -1 '$TMP/a.csv' | grep -qx 'time,from,to,amount,label,kind'"
expect gen-too-few 2 "--payments 5 is not a whole number from 100 to 1000000" -- \
  "$WRIT" risk gen -o "$TMP/x.csv" --payments 5
expect gen-needs-o 2 "usage: writ risk gen -o DATA.csv" -- "$WRIT" risk gen --seed 1

# ---- train on one seed ----
expect train 0 "^wrote $TMP/model.json: model version 2$" -- \
  "$WRIT" risk train "$TMP/a.csv" -o "$TMP/model.json" --warmup 5d
check train-table grep -q '"weights"' "$TMP/model.json"
expect train-prints-fit 0 "^fit: [0-9]+ Newton steps \(converged\)" -- \
  "$WRIT" risk train "$TMP/a.csv" -o "$TMP/model3.json" --version 3 --l2 0.01 --epochs 30
check train-version-3 grep -q '"version": 3' "$TMP/model3.json"
# Every weight at least 0 by default; --allow-negative fits without the sign constraint.
check train-nonnegative bash -c "! grep -q '^    \"-' '$TMP/model.json' && grep -q '\"weights\": \"nonnegative\"' '$TMP/model.json'"
expect train-allow-negative 0 "weights of any sign" -- \
  "$WRIT" risk train "$TMP/a.csv" -o "$TMP/model-any.json" --warmup 5d --allow-negative
# --without leaves a feature out: its weight is 0, and the file says so.
expect train-without 0 "^new_recipient_account +0\.000000$" -- \
  "$WRIT" risk train "$TMP/a.csv" -o "$TMP/model-wo.json" --warmup 5d --without new_recipient_account
check train-without-recorded grep -q '"without": "new_recipient_account"' "$TMP/model-wo.json"
expect train-without-unknown 2 "--without speed: no feature 'speed' \(features: velocity_hour, " -- \
  "$WRIT" risk train "$TMP/a.csv" -o "$TMP/m.json" --without speed
expect train-bad-l2 2 "--l2 x is not a number >= 0" -- "$WRIT" risk train "$TMP/a.csv" -o "$TMP/m.json" --l2 x

# ---- eval on another, with and without feedback ----
expect eval 0 "^model \(on-chain score\) +[0-9]\.[0-9]{4} +[0-9]\.[0-9]{4} +[0-9]\.[0-9]{4} +[0-9]\.[0-9]{4}$" -- \
  "$WRIT" risk eval "$TMP/b.csv" --model "$TMP/model.json" --warmup 5d --svg "$TMP/roc.svg"
check eval-header grep -Eq "^ +recall@1%FPR +recall@5%FPR +ROC AUC +PR AUC$" <<<"$LAST"
check eval-baseline grep -Eq "^rules baseline +[0-9]\.[0-9]{4} +[0-9]\.[0-9]{4} +[0-9]\.[0-9]{4} +[0-9]\.[0-9]{4}$" <<<"$LAST"
check eval-feedback grep -Eq "^feedback: confirmed fraud after 7d \([0-9]+ confirmations\)$" <<<"$LAST"
check eval-gas grep -Eq "^gas: score mean [0-9]+ \(max [0-9]+\), record mean [0-9]+" <<<"$LAST"
check eval-storage grep -Eq "^storage: record changes [12]\.[0-9]{2} history words in account records and writes 0\.[0-9]{2} slots per payment, changes [0-9.]+ \([0-9.]+ new\)" <<<"$LAST"
check eval-svg-exists test -s "$TMP/roc.svg"
check eval-svg-is-svg bash -c "head -c 5 '$TMP/roc.svg' | grep -qx '<svg '"
check eval-svg-closes grep -q "</svg>" "$TMP/roc.svg"
expect eval-no-feedback 0 "^feedback: none$" -- \
  "$WRIT" risk eval "$TMP/b.csv" --model "$TMP/model.json" --feedback-delay 0
expect eval-default-model 0 "^model: the default genesis's, version 1$" -- "$WRIT" risk eval "$TMP/b.csv"
expect eval-scores 0 "^scores: " -- "$WRIT" risk eval "$TMP/b.csv" --scores "$TMP/s.csv" --feedback-delay 12h
check eval-scores-file bash -c "head -1 '$TMP/s.csv' | grep -qx 'line,time,from,to,label,score,reasons,baseline' && [[ \$(wc -l < '$TMP/s.csv') == 1501 ]]"
expect eval-bad-delay 2 "--feedback-delay 7x is not a duration" -- "$WRIT" risk eval "$TMP/b.csv" --feedback-delay 7x

# ---- bad input: named file and line, exit 3, never a crash ----
printf 'time,from,to,label\n1,a,b,0\n' > "$TMP/nocol.csv"
expect csv-missing-column 3 "nocol.csv:1: the header has no column 'amount'" -- "$WRIT" risk eval "$TMP/nocol.csv"
printf 'time,from,to,amount,label\n1,a,b,1,0\n2,a,b,1.2.3,1\n' > "$TMP/badnum.csv"
expect csv-bad-amount 3 "badnum.csv:3: amount '1.2.3' is not a decimal amount" -- \
  "$WRIT" risk train "$TMP/badnum.csv" -o "$TMP/m.json"
printf 'time,from,to,amount,label\n1,a,b,1,0\nsoon,a,b,1,1\n' > "$TMP/badtime.csv"
expect csv-bad-time 3 "badtime.csv:3: time 'soon' is not a whole number of seconds" -- "$WRIT" risk eval "$TMP/badtime.csv"
printf 'time,from,to,amount,label\n1,a,b,1,0\n2,a,b,1\n' > "$TMP/short.csv"
expect csv-short-line 3 "short.csv:3: 4 fields, the header has 5" -- "$WRIT" risk eval "$TMP/short.csv"
printf 'time,from,to,amount\n1,a,b,1\n' > "$TMP/nolabel.csv"
expect csv-needs-labels 3 "nolabel.csv:2: no label \(eval needs 0 or 1 on every payment\)" -- "$WRIT" risk eval "$TMP/nolabel.csv"
expect csv-missing-file 3 "nothere.csv: cannot open" -- "$WRIT" risk eval "$TMP/nothere.csv"

# ---- install: bad models refused by name before anything is sent ----
W='"0","0"'
printf '{"version": 2, "intercept": "0", "weights": [%s,%s,%s,%s,%s]}\n' $W $W $W $W $W > "$TMP/short.json"
printf '{"version": 2, "intercept": "0", "weights": ["0","0","1000000000000000000001",%s,%s,%s,%s]}\n' \
  $W $W $W $W > "$TMP/big.json"
printf '{"intercept": "0", "weights": [%s,%s,%s,%s,%s]}\n' $W $W $W $W $W > "$TMP/nov.json"
expect install-short 3 "short.json: weights: 10 values, the engine takes 11" -- \
  "$WRIT" risk install "$TMP/short.json" --dev-key governance --data "$TMP/none"
expect install-out-of-range 3 "big.json: weights\[2\]: 1000000000000000000001 is out of range" -- \
  "$WRIT" risk install "$TMP/big.json" --dev-key governance --data "$TMP/none"
expect install-no-version 3 "nov.json: missing field \"version\"" -- \
  "$WRIT" risk install "$TMP/nov.json" --dev-key governance --data "$TMP/none"
check install-sent-nothing test ! -e "$TMP/none"
expect install-needs-key 2 "usage: writ risk install" -- "$WRIT" risk install "$TMP/model.json" --data "$TMP/none"
expect install-unknown-dev-key 2 "--dev-key mallory: no such development key" -- \
  "$WRIT" risk install "$TMP/model.json" --dev-key mallory --data "$TMP/none"

# ---- install on a chain: governance may, once per version; others may not ----
"$WRIT" genesis -o "$TMP/genesis.json"
expect install 0 "^model: version 2, hash 0x[0-9a-f]{64}, intercept -?[0-9]+, 11 weights$" -- \
  "$WRIT" risk install "$TMP/model.json" --dev-key governance --data "$TMP/chain" --init --genesis "$TMP/genesis.json"
check install-status-ok grep -q "^status: Ok$" <<<"$LAST"
expect install-same-version 1 "revert: OldModelVersion\(2, 2\)" -- \
  "$WRIT" risk install "$TMP/model.json" --dev-key governance --data "$TMP/chain"
expect install-not-governance 1 "revert: NotGovernance\(" -- \
  "$WRIT" risk install "$TMP/model3.json" --dev-key alice --data "$TMP/chain"
"$WRIT" keygen -o "$TMP/new.key" > /dev/null
expect install-unfunded-key 3 "transaction rejected: insufficient balance" -- \
  "$WRIT" risk install "$TMP/model3.json" --key "$TMP/new.key" --data "$TMP/chain"
# A key file whose public_key is not its seed's is refused before anything is
# sent, as by every other verb that signs (it once went unchecked here).
printf '{"seed": "%s", "public_key": "%s"}\n' "$(printf 'writ dev key: governance' | sha256sum | cut -d' ' -f1)" \
  "$(printf 'another key' | sha256sum | cut -d' ' -f1)" > "$TMP/mismatch.key"
chmod 600 "$TMP/mismatch.key"
expect install-key-mismatch 3 "mismatch.key: public_key does not belong to the seed" -- \
  "$WRIT" risk install "$TMP/model3.json" --key "$TMP/mismatch.key" --data "$TMP/chain"
# The governance key as a key file: its public seed sha256("writ dev key: governance").
printf '{"seed": "%s"}\n' "$(printf 'writ dev key: governance' | sha256sum | cut -d' ' -f1)" > "$TMP/gov.key"
chmod 600 "$TMP/gov.key"
expect install-key-file 0 "^model: version 3, " -- \
  "$WRIT" risk install "$TMP/model3.json" --key "$TMP/gov.key" --data "$TMP/chain"

# ---- install through a node's JSON-RPC (--rpc) ----
"$WRIT" node --data "$TMP/node" --init --genesis "$TMP/genesis.json" --rpc 127.0.0.1:0 \
  --exit-after-seconds 30 --quiet > "$TMP/node.log" 2>&1 &
NODE_PID=$!
RPC=""
for _ in $(seq 100); do
  RPC="$(sed -n 's/^listening on \(127\.0\.0\.1:[0-9][0-9]*\)$/\1/p' "$TMP/node.log")"
  [[ -n "$RPC" ]] && break
  kill -0 "$NODE_PID" 2>/dev/null || break
  sleep 0.1
done
if [[ -n "$RPC" ]]; then
  expect install-rpc 0 "^model: version 2, hash 0x[0-9a-f]{64}" -- \
    "$WRIT" risk install "$TMP/model.json" --dev-key governance --rpc "$RPC"
  expect install-rpc-again 1 "revert: OldModelVersion\(2, 2\)" -- \
    "$WRIT" risk install "$TMP/model.json" --dev-key governance --rpc "$RPC"
  kill -TERM "$NODE_PID" 2>/dev/null
  wait "$NODE_PID" 2>/dev/null
else
  echo "FAIL install-rpc: the node did not listen"; sed 's/^/  | /' "$TMP/node.log"; fail=$((fail + 1))
fi
NODE_PID=""
expect install-no-node 3 "cannot connect to 127.0.0.1:1" -- "$WRIT" risk install "$TMP/model.json" --dev-key governance --rpc 127.0.0.1:1

expect help 0 "writ risk gen -o DATA.csv" -- "$WRIT" help risk
expect unknown-sub 2 "writ risk: unknown subcommand 'fly'" -- "$WRIT" risk fly

finish
