// evmpeer runs five of the bench workloads (bench/peers/evm/Workloads.sol,
// compiled by solc) on go-ethereum's EVM interpreter, checks each result
// against the same algorithm in Go, and prints the fastest time per call.
//
//	evmpeer CODES.json ROUNDS
//
// CODES.json maps contract names to deployed bytecode in hex (compile.js).
// Output: one line per workload, "name ms gas", as bench/evm_peer.sh reads
// it (gas: the EVM gas the call used).
package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"strconv"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/core/vm/runtime"
	"github.com/ethereum/go-ethereum/crypto"
)

// The bench's parameters (bench/workloads.cpp).
const (
	lcgMul         = 6364136223846793005
	lcgInc         = 1442695040888963407
	fibIterN       = 1_000_000
	fibRecN        = 25
	sortN          = 1_000
	sortSeed       = 42
	modexpCount    = 1_000
	tokenTransfers = 10_000
	tokenAccounts  = 1_000
	tokenSeed      = 7
	tokenInitial   = 1_000_000_000_000
)

var two256 = new(big.Int).Lsh(big.NewInt(1), 256)

func word(v *big.Int) []byte { return common.LeftPadBytes(new(big.Int).Mod(v, two256).Bytes(), 32) }
func u64(v uint64) []byte    { return word(new(big.Int).SetUint64(v)) }

func call(signature string, args ...[]byte) []byte {
	in := append([]byte{}, crypto.Keccak256([]byte(signature))[:4]...)
	for _, a := range args {
		in = append(in, a...)
	}
	return in
}

func fibU256(n uint64) []byte {
	a, b := big.NewInt(0), big.NewInt(1)
	for i := uint64(0); i < n/2; i++ {
		a.Add(a, b).Mod(a, two256)
		b.Add(b, a).Mod(b, two256)
	}
	if n%2 == 1 {
		return word(b)
	}
	return word(a)
}

func fibRec(n uint64) uint64 {
	if n < 2 {
		return n
	}
	return fibRec(n-1) + fibRec(n-2)
}

func sortSum(n, seed uint64) uint64 {
	a := make([]uint64, n)
	x := seed
	for i := range a {
		x = x*lcgMul + lcgInc
		a[i] = x
	}
	for i := 1; i < len(a); i++ {
		v, j := a[i], i
		for j > 0 && a[j-1] > v {
			a[j] = a[j-1]
			j--
		}
		a[j] = v
	}
	var sum uint64
	for i, v := range a {
		sum += v * uint64(i+1)
	}
	return sum
}

func tokenSlot(account uint64) common.Hash {
	return common.BytesToHash(crypto.Keccak256(u64(account), u64(1)))
}

// The last `to` balance after the transfers from the initial balances.
func tokenLast() []byte {
	bal := map[uint64]uint64{}
	x := uint64(tokenSeed)
	var to uint64
	for i := 0; i < tokenTransfers; i++ {
		x = x*lcgMul + lcgInc
		from := (x >> 33) % tokenAccounts
		x = x*lcgMul + lcgInc
		amount := x >> 48
		x = x*lcgMul + lcgInc
		to = (x >> 33) % tokenAccounts
		if _, ok := bal[from]; !ok {
			bal[from] = tokenInitial
		}
		bal[from] -= amount
		if _, ok := bal[to]; !ok {
			bal[to] = tokenInitial
		}
		bal[to] += amount
	}
	return u64(bal[to])
}

type workload struct {
	name, contract string
	input          []byte
	want           []byte
	setup          func(cfg *runtime.Config, at common.Address)
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: evmpeer CODES.json ROUNDS")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	codes := map[string]string{}
	if err := json.Unmarshal(raw, &codes); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	rounds, err := strconv.Atoi(os.Args[2])
	if err != nil || rounds < 1 {
		fmt.Fprintln(os.Stderr, "ROUNDS: a positive number")
		os.Exit(2)
	}
	m := new(big.Int).Sub(two256, big.NewInt(189))
	e := new(big.Int).Sub(two256, big.NewInt(191))
	x, _ := new(big.Int).SetString("1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef", 16)
	workloads := []workload{
		{"fib_u256", "FibU256", call("fib(uint64)", u64(fibIterN)), fibU256(fibIterN), nil},
		{"fib_rec", "FibRec", call("fib(uint64)", u64(fibRecN)), u64(fibRec(fibRecN)), nil},
		{"sort", "Sort", call("sort(uint64,uint64)", u64(sortN), u64(sortSeed)), u64(sortSum(sortN, sortSeed)), nil},
		// (x^(m-2))^(m-2) = x for a prime m and an even count: the bench checks the same.
		{"modexp", "ModExp", call("modexp(uint64,uint256,uint256,uint256)", u64(modexpCount), word(x), word(e), word(m)), word(x), nil},
		{"token", "Token", call("transfers(uint64,uint64,uint64)", u64(tokenTransfers), u64(tokenSeed), u64(tokenAccounts)), tokenLast(),
			func(cfg *runtime.Config, at common.Address) {
				for a := uint64(0); a < tokenAccounts; a++ {
					cfg.State.SetState(at, tokenSlot(a), common.BytesToHash(u64(tokenInitial)))
				}
			}},
	}
	for _, w := range workloads {
		code, err := hex.DecodeString(codes[w.contract])
		if err != nil || len(code) == 0 {
			fmt.Fprintf(os.Stderr, "%s: no bytecode for %s\n", w.name, w.contract)
			os.Exit(1)
		}
		at := common.BytesToAddress([]byte("contract"))
		best := time.Duration(1 << 62)
		var gasUsed uint64
		for r := 0; r < rounds; r++ {
			// A fresh state each round: the token's balances start over.
			const limit = 1 << 50
			cfg := &runtime.Config{GasLimit: limit}
			if _, _, err := runtime.Execute(nil, nil, cfg); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			cfg.State.SetCode(at, code, tracing.CodeChangeUnspecified)
			if w.setup != nil {
				w.setup(cfg, at)
			}
			start := time.Now()
			out, left, err := runtime.Call(at, w.input, cfg)
			took := time.Since(start)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", w.name, err)
				os.Exit(1)
			}
			if !bytes.Equal(out, w.want) {
				fmt.Fprintf(os.Stderr, "%s: the EVM returned %x, the same algorithm in Go %x\n", w.name, out, w.want)
				os.Exit(1)
			}
			if took < best {
				best = took
			}
			gasUsed = limit - left
		}
		fmt.Printf("%s %.3f %d\n", w.name, float64(best.Microseconds())/1000, gasUsed)
	}
}
