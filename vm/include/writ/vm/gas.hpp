// The dynamic part of the gas schedule. Static costs are the base_gas column
// of opcodes.def; docs/gas.md explains both and how they were calibrated
// (bench/gas_calibration: nanoseconds per gas per opcode class).
#pragma once

#include <cstdint>

namespace writ::vm {

inline constexpr int64_t kGasMemoryWord = 1;         // per 32 bytes allocated or grown
inline constexpr int64_t kGasCopyBytes = 64;         // bcopy: 1 gas per this many bytes copied
inline constexpr int64_t kGasExpByte = 200;          // wexp: per significant byte of the exponent
inline constexpr int64_t kGasShaBlock = 38;          // sha256: per 64-byte block hashed
inline constexpr int64_t kGasStorageAdded = 2000;    // sstore: zero -> non-zero
inline constexpr int64_t kGasStorageModified = 400;  // sstore: non-zero -> other non-zero
inline constexpr int64_t kGasStorageDeleted = 100;   // sstore: non-zero -> zero
// The first access in a block to a slot (sload, sstore) or to an
// account (balance, transfer's recipient, xcall's callee, hload, hstore):
// a read that may reach the chain's store (Host::first_access). Measured on
// RocksDB over 400,000 slots (writ_state_read_bench): 8.3 us of CPU for a
// slot, 7.0 for an account, 20 and 11 with the page cache dropped.
inline constexpr int64_t kGasSlotFirstAccess = 4000;
inline constexpr int64_t kGasAccountFirstAccess = 4000;
// A log is kept until its transaction ends (and then in the receipt), so it
// is priced by the host memory it holds, at least 1 gas per byte held
// (docs/gas.md, "Host memory"): the record and its bookkeeping, each 32-byte
// topic, each 32-byte word of data. A byte of data costs more: its receipt
// is encoded, hashed and written with the block, 7.7 ns per byte
// (writ_commit_bench, logs of 64 KiB), so 4 gas a byte, about what ordinary
// code takes per gas.
inline constexpr int64_t kGasLogEntry = 200;      // emit: per log
inline constexpr int64_t kGasLogTopic = 32;       // emit: per topic
inline constexpr int64_t kGasLogWord = 128;       // emit: per 32 bytes of data
inline constexpr int64_t kGasCallValue = 500;     // xcall carrying a non-zero value
inline constexpr int64_t kGasEd25519Block = 220;  // ed25519: per 128-byte block hashed (SHA-512)

}  // namespace writ::vm
