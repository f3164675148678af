// SPDX-License-Identifier: Apache-2.0
// Five of the six bench workloads as Solidity, the same algorithms as
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
