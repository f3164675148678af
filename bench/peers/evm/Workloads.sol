// SPDX-License-Identifier: Apache-2.0
// The six bench workloads as Solidity, the same algorithms as
// bench/workloads/*.writ, for bench/evm_peer.sh: compiled by solc, run on
// go-ethereum's EVM interpreter beside Writ's. Wrapping where Writ wraps
// (`unchecked`), checked where Writ checks (the token's balances).
pragma solidity ^0.8.20;

contract FibU256 {
  function fib(uint64 n) external pure returns (uint256) {
    uint256 a = 0;
    uint256 b = 1;
    unchecked {
      for (uint64 i = 0; i < n / 2; ++i) {
        a = a + b;
        b = b + a;
      }
    }
    return n % 2 == 1 ? b : a;
  }
}

contract FibRec {
  function fib(uint64 n) external pure returns (uint64) {
    return rec(n);
  }

  // An internal call per node (a jump, as Writ's call is within its module).
  function rec(uint64 n) internal pure returns (uint64) {
    unchecked {
      if (n < 2) return n;
      return rec(n - 1) + rec(n - 2);
    }
  }
}

contract Sort {
  function sort(uint64 n, uint64 seed) external pure returns (uint64 sum) {
    uint64[] memory a = new uint64[](n);
    uint64 x = seed;
    unchecked {
      for (uint64 i = 0; i < n; ++i) {
        x = x * 6364136223846793005 + 1442695040888963407;
        a[i] = x;
      }
      for (uint64 i = 1; i < n; ++i) {
        uint64 v = a[i];
        uint64 j = i;
        while (j > 0 && a[j - 1] > v) {
          a[j] = a[j - 1];
          --j;
        }
        a[j] = v;
      }
      for (uint64 i = 0; i < n; ++i) sum = sum + a[i] * (i + 1);
    }
  }
}

contract Sha {
  // FIPS 180-4 section 6.2.2 over 32-bit words, chained `iters` times over
  // one padded 64-byte block (the same Ch and Maj forms as sha256.writ).
  function chain(bytes calldata blk, uint64 iters) external pure returns (uint256) {
    uint32[64] memory k = [
      uint32(0x428a2f98), 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
    ];
    uint32[64] memory w;
    uint32[8] memory hs = [
      uint32(0x6a09e667), 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
    ];
    unchecked {
      for (uint64 it = 0; it < iters; ++it) {
        for (uint256 t = 0; t < 16; ++t) {
          uint256 i = t * 4;
          w[t] = (uint32(uint8(blk[i])) << 24) | (uint32(uint8(blk[i + 1])) << 16) |
                 (uint32(uint8(blk[i + 2])) << 8) | uint32(uint8(blk[i + 3]));
        }
        for (uint256 t = 16; t < 64; ++t) {
          uint32 x = w[t - 15];
          uint32 y = w[t - 2];
          uint32 s0 = ror(x, 7) ^ ror(x, 18) ^ (x >> 3);
          uint32 s1 = ror(y, 17) ^ ror(y, 19) ^ (y >> 10);
          w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        uint32 a = hs[0];
        uint32 b = hs[1];
        uint32 c = hs[2];
        uint32 d = hs[3];
        uint32 e = hs[4];
        uint32 f = hs[5];
        uint32 g = hs[6];
        uint32 h = hs[7];
        for (uint256 t = 0; t < 64; ++t) {
          uint32 t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + (g ^ (e & (f ^ g))) + k[t] + w[t];
          uint32 t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + (((a | b) & c) | (a & b));
          h = g;
          g = f;
          f = e;
          e = d + t1;
          d = c;
          c = b;
          b = a;
          a = t1 + t2;
        }
        hs[0] += a;
        hs[1] += b;
        hs[2] += c;
        hs[3] += d;
        hs[4] += e;
        hs[5] += f;
        hs[6] += g;
        hs[7] += h;
      }
    }
    uint256 out = 0;
    for (uint256 i = 0; i < 8; ++i) out = (out << 32) | hs[i];
    return out;
  }

  function ror(uint32 x, uint32 n) internal pure returns (uint32) {
    unchecked {
      return (x >> n) | (x << (32 - n));
    }
  }
}

contract ModExp {
  function modexp(uint64 count, uint256 x0, uint256 e, uint256 m) external pure returns (uint256 x) {
    x = x0;
    uint256 top = 1 << 255;
    unchecked {
      for (uint64 i = 0; i < count; ++i) {
        uint256 r = 1;
        uint256 bits = e;
        for (uint256 b = 0; b < 256; ++b) {
          r = mulmod(r, r, m);
          if (bits >= top) r = mulmod(r, x, m);
          bits = bits + bits;
        }
        x = r;
      }
    }
  }
}

contract Token {
  uint256 reserved;
  mapping(uint256 => uint256) balances;  // slot 1, as in token.writ

  function transfers(uint64 n, uint64 seed, uint64 accounts) external returns (uint256) {
    uint64 x = seed;
    uint256 lastTo = 0;
    for (uint64 i = 0; i < n; ) {
      uint256 from;
      uint256 amount;
      uint256 to;
      unchecked {
        x = x * 6364136223846793005 + 1442695040888963407;
        from = (x >> 33) % accounts;
        x = x * 6364136223846793005 + 1442695040888963407;
        amount = x >> 48;
        x = x * 6364136223846793005 + 1442695040888963407;
        to = (x >> 33) % accounts;
      }
      balances[from] -= amount;  // checked: reverts when short
      balances[to] += amount;
      lastTo = to;
      unchecked { ++i; }
    }
    return balances[lastTo];
  }
}
