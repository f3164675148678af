// evmpeer runs the six bench workloads (bench/peers/evm/Workloads.sol,
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
	shaChain       = 2_000
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

// root(v, n): the integer n-th root of v (the largest r with r^n <= v).
func root(v *big.Int, n int64) *big.Int {
	lo, hi := big.NewInt(0), new(big.Int).Lsh(big.NewInt(1), uint(v.BitLen()/int(n)+1))
	for lo.Cmp(hi) < 0 {
		mid := new(big.Int).Rsh(new(big.Int).Add(new(big.Int).Add(lo, hi), big.NewInt(1)), 1)
		if new(big.Int).Exp(mid, big.NewInt(n), nil).Cmp(v) <= 0 {
			lo = mid
		} else {
			hi = mid.Sub(mid, big.NewInt(1))
		}
	}
	return lo
}

// FIPS 180-4's constants from their definition: the first 32 bits of the
// fractional parts of the square roots of the first 8 primes (the initial
// state) and of the cube roots of the first 64 (K), so that no table is
// copied from another twin.
func shaConstants() (iv [8]uint32, k [64]uint32) {
	var primes []int64
	for p := int64(2); len(primes) < 64; p++ {
		prime := true
		for _, q := range primes {
			if p%q == 0 {
				prime = false
				break
			}
		}
		if prime {
			primes = append(primes, p)
		}
	}
	frac32 := func(p, n int64) uint32 {
		v := new(big.Int).Lsh(big.NewInt(p), uint(32*n))
		return uint32(root(v, n).Uint64())
	}
	for i := range iv {
		iv[i] = frac32(primes[i], 2)
	}
	for i := range k {
		k[i] = frac32(primes[i], 3)
	}
	return
}

func rotr(x uint32, n uint) uint32 { return x>>n | x<<(32-n) }

// The state after `iters` compressions of one block, from the initial state.
func shaChainOf(block []byte, iters int) []byte {
	h, k := shaConstants()
	var w [64]uint32
	for it := 0; it < iters; it++ {
		for t := 0; t < 16; t++ {
			w[t] = uint32(block[4*t])<<24 | uint32(block[4*t+1])<<16 | uint32(block[4*t+2])<<8 | uint32(block[4*t+3])
		}
		for t := 16; t < 64; t++ {
			s0 := rotr(w[t-15], 7) ^ rotr(w[t-15], 18) ^ w[t-15]>>3
			s1 := rotr(w[t-2], 17) ^ rotr(w[t-2], 19) ^ w[t-2]>>10
			w[t] = w[t-16] + s0 + w[t-7] + s1
		}
		a, b, c, d, e, f, g, hh := h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
		for t := 0; t < 64; t++ {
			t1 := hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + (e&f ^ ^e&g) + k[t] + w[t]
			t2 := (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + (a&b ^ a&c ^ b&c)
			hh, g, f, e, d, c, b, a = g, f, e, d+t1, c, b, a, t1+t2
		}
		for i, v := range []uint32{a, b, c, d, e, f, g, hh} {
			h[i] += v
		}
	}
	out := make([]byte, 0, 32)
	for _, v := range h {
		out = append(out, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return out
}

// The bench's block: the 32 bytes 0..31 padded as one SHA-256 block.
func shaBlock() []byte {
	b := make([]byte, 64)
	for i := 0; i < 32; i++ {
		b[i] = byte(i)
	}
	b[32] = 0x80
	b[62], b[63] = 0x01, 0x00 // the length, 256 bits
	return b
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
		{"sha256", "Sha", call("chain(bytes,uint64)", u64(0x40), u64(shaChain), u64(64), shaBlock()), shaChainOf(shaBlock(), shaChain), nil},
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
