-- Three of bench/'s workloads in Lua, for LuaJIT (bench/peers.sh): the same
-- algorithms as bench/workloads/fib_rec.wsm, sort.wsm and sha256.wsm, with
-- the same inputs, so their results are the Writ workloads' own.
--   luajit [-joff] workloads.lua [MIN_SECONDS]
-- prints one line per workload: name, best CPU milliseconds per run, result
-- (decimal, as `writ exec --json` prints it).
local ffi = require("ffi")
local bit = require("bit")
local band, bor, bxor, ror, rshift, tobit = bit.band, bit.bor, bit.bxor, bit.ror, bit.rshift, bit.tobit

local min_seconds = tonumber(arg[1]) or 0.5

-- 2. recursive Fibonacci: two real calls per node.
local function fib(n)
  if n < 2 then return n end
  return fib(n - 1) + fib(n - 2)
end

-- 4. insertion sort of n 64-bit numbers from an LCG, then sum a[i] * (i + 1)
-- (all modulo 2^64: uint64_t cdata wraps as Writ's wrapping ops do).
local function sort(n, seed)
  local a = ffi.new("uint64_t[?]", n)
  local x = ffi.new("uint64_t", seed)
  local mul, inc = 6364136223846793005ULL, 1442695040888963407ULL
  for i = 0, n - 1 do
    x = x * mul + inc
    a[i] = x
  end
  for i = 1, n - 1 do
    local v, j = a[i], i
    while j > 0 and a[j - 1] > v do
      a[j] = a[j - 1]
      j = j - 1
    end
    a[j] = v
  end
  local sum = 0ULL
  for i = 0, n - 1 do sum = sum + a[i] * (i + 1) end
  return sum
end

-- 3. SHA-256: `iters` compressions of one block from the initial hash value
-- (FIPS 180-4 6.2.2, the Ch and Maj forms of sha256.wsm); 32-bit words as
-- LuaJIT's bit library keeps them (signed, wrapped by tobit).
local K = {}
for i, k in ipairs({
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}) do K[i] = tobit(k) end
local IV = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}

local function sha256_chain(block, iters)
  local s = {}
  for i = 1, 8 do s[i] = tobit(IV[i]) end
  local w = {}
  for _ = 1, iters do
    for t = 1, 16 do w[t] = block[t] end
    for t = 17, 64 do
      local x, y = w[t - 15], w[t - 2]
      local s0 = bxor(ror(x, 7), ror(x, 18), rshift(x, 3))
      local s1 = bxor(ror(y, 17), ror(y, 19), rshift(y, 10))
      w[t] = tobit(w[t - 16] + s0 + w[t - 7] + s1)
    end
    local a, b, c, d, e, f, g, h = s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8]
    for t = 1, 64 do
      local t1 = h + bxor(ror(e, 6), ror(e, 11), ror(e, 25)) + bxor(g, band(e, bxor(f, g))) + K[t] + w[t]
      local t2 = bxor(ror(a, 2), ror(a, 13), ror(a, 22)) + bor(band(bor(a, b), c), band(a, b))
      h, g, f, e, d, c, b, a = g, f, e, tobit(d + t1), c, b, a, tobit(t1 + t2)
    end
    s[1], s[2], s[3], s[4] = tobit(s[1] + a), tobit(s[2] + b), tobit(s[3] + c), tobit(s[4] + d)
    s[5], s[6], s[7], s[8] = tobit(s[5] + e), tobit(s[6] + f), tobit(s[7] + g), tobit(s[8] + h)
  end
  return s
end

-- The words H0..H7 as one big-endian 256-bit number, in decimal (base 10^7
-- limbs, least significant first; each word enters as two 16-bit halves so
-- every product stays exact in a double).
local function decimal(words)
  local limbs = {0}
  local function push(v)  -- limbs := limbs * 2^16 + v
    local carry = v
    for i = 1, #limbs do
      local x = limbs[i] * 65536 + carry
      limbs[i] = x % 10000000
      carry = math.floor(x / 10000000)
    end
    while carry > 0 do
      limbs[#limbs + 1] = carry % 10000000
      carry = math.floor(carry / 10000000)
    end
  end
  for _, word in ipairs(words) do
    local u = word % 4294967296  -- unsigned
    push(math.floor(u / 65536))
    push(u % 65536)
  end
  local out = tostring(limbs[#limbs])
  for i = #limbs - 1, 1, -1 do out = out .. string.format("%07d", limbs[i]) end
  return out
end

-- The padded one-block message of the workload: bytes 0, 1, ..., 31, then
-- 0x80, zeros, and the length in bits (256), as 16 big-endian words.
local block = {}
for t = 1, 8 do
  local b0 = 4 * (t - 1)
  block[t] = tobit(b0 * 16777216 + (b0 + 1) * 65536 + (b0 + 2) * 256 + (b0 + 3))
end
block[9] = tobit(0x80000000)
for t = 10, 15 do block[t] = 0 end
block[16] = 256

-- The best CPU time per run over batches of about 50 ms, for MIN_SECONDS.
local function best_ms(run)
  local per_batch, best = 1, math.huge
  local started = os.clock()
  while true do
    local t0 = os.clock()
    for _ = 1, per_batch do run() end
    local dt = os.clock() - t0
    if dt < 0.05 then
      per_batch = per_batch * 2
    else
      best = math.min(best, dt / per_batch)
      if os.clock() - started >= min_seconds then break end
    end
  end
  return best * 1000
end

local workloads = {
  {"fib_rec", function() return fib(25) end, function(r) return string.format("%d", r) end},
  {"sha256", function() return sha256_chain(block, 2000) end, decimal},
  {"sort", function() return sort(1000, 42) end, function(r) return tostring(r):gsub("ULL$", "") end},
}
for _, w in ipairs(workloads) do
  local name, run, show = w[1], w[2], w[3]
  local result = show(run())
  io.write(string.format("%s %.4f %s\n", name, best_ms(run), result))
end
