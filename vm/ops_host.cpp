// The instructions that reach outside the registers (the host, buffers that
// allocate, events, errors, hashing, signatures), written once for both
// tiers: the interpreter's dispatch loop and the JIT's compiled code call
// exec_host_op for them (machine.hpp). Their cost is in what they do, not
// in a function call.
#include <cstring>

#include "machine.hpp"
#include "sha256.hpp"
#include "writ/vm/abi.hpp"
#include "writ/vm/ed25519.hpp"
#include "writ/vm/gas.hpp"

namespace writ::vm {

template <bool kMetered>
Status exec_host_op(Machine& m, uint64_t* regs, const Insn& in, int64_t& gas, std::string& detail) {
  const Program& prog = m.prog;
#define R(x) regs[in.x]
#define RW(x) Machine::load_w(regs + in.x)
#define SETW(x, v) Machine::store_w(regs + in.x, (v))
#define BUF(x) m.heap[regs[in.x]]
#define CHARGE(amount)                      \
  do {                                      \
    if constexpr (kMetered) {               \
      gas -= static_cast<int64_t>(amount);  \
      if (gas < 0) return Status::OutOfGas; \
    }                                       \
  } while (0)
#define TRAP_MSG(st, msg) \
  do {                    \
    detail = (msg);       \
    return (st);          \
  } while (0)
  switch (static_cast<Op>(in.op)) {
    case Op::REVERT:
      m.result.output = Machine::bytes(BUF(a));
      m.revert_handle = regs[in.a];
      return Status::Revert;
    case Op::THROW: {
      const ErrorDecl& e = m.mod.errors[in.a];
      std::vector<Value> fields;
      fields.reserve(e.fields.size());
      const uint64_t* p = regs + in.b;
      for (ValType t : e.fields) {
        if (t == ValType::U64)
          fields.push_back(Value::u64(*p));
        else if (t == ValType::U256)
          fields.push_back(Value::u256(Machine::load_w(p)));
        else
          fields.push_back(Value::buf(Machine::bytes(m.heap[*p])));
        p += slots_of(t);
      }
      m.result.output = call_input(prog.error_selectors[in.a], fields);
      detail = e.name;
      return Status::Revert;
    }
    case Op::BCONST: {
      const auto& bytes = m.mod.constants[in.b].bytes;
      CHARGE(kGasMemoryWord * ((bytes.size() + 31) / 32));
      uint64_t h = m.new_buffer(bytes.data(), bytes.size());
      if (h == 0 && !bytes.empty()) return Status::MemoryLimit;
      R(a) = h;
      return Status::Ok;
    }
    case Op::BNEW: {
      uint64_t n = R(b);
      if (n > kMaxMemory - m.mem_used)
        TRAP_MSG(Status::MemoryLimit, "buffer of " + std::to_string(n) + " bytes");
      CHARGE(kGasMemoryWord * ((n + 31) / 32));
      R(a) = m.new_buffer(n);
      return Status::Ok;
    }
    case Op::BRESIZE: {
      if (regs[in.a] == 0) TRAP_MSG(Status::OutOfBounds, "bresize of the empty buffer handle 0");
      auto& buf = BUF(a);
      uint64_t n = R(b);
      if (n > buf.size()) {
        uint64_t grow = n - buf.size();
        if (grow > kMaxMemory - m.mem_used)
          TRAP_MSG(Status::MemoryLimit, "buffer of " + std::to_string(n) + " bytes");
        CHARGE(kGasMemoryWord * ((grow + 31) / 32));
        m.mem_used += grow;
      }
      buf.resize(n, 0);
      return Status::Ok;
    }
    case Op::BCOPY: {
      auto& dst = BUF(a);
      uint64_t doff = R(b);
      const auto& src = BUF(c);
      uint64_t soff = regs[in.ext.d], len = regs[in.ext.e];
      if (doff > dst.size() || len > dst.size() - doff || soff > src.size() ||
          len > src.size() - soff)
        TRAP_MSG(Status::OutOfBounds, "bcopy of " + std::to_string(len) + " bytes");
      CHARGE((len + kGasCopyBytes - 1) / kGasCopyBytes);
      if (len) std::memmove(dst.data() + doff, src.data() + soff, len);
      return Status::Ok;
    }
    case Op::SHA256: {
      const auto& buf = BUF(b);
      CHARGE(kGasShaBlock * ((buf.size() + 8) / 64 + 1));
      uint8_t h[32];
      sha256_digest(buf.data(), buf.size(), h);
      SETW(a, from_be_bytes(h));
      return Status::Ok;
    }
    case Op::ED25519: {
      // The message goes through SHA-512 with R and A (64 bytes) in front.
      const auto& msg = BUF(c);
      CHARGE(kGasEd25519Block * ((msg.size() + 64 + 16) / 128 + 1));
      uint8_t key[32];
      to_be_bytes(RW(b), key);
      R(a) = ed25519_verify(std::span<const uint8_t, 32>(key), msg, m.heap[regs[in.ext.d]]) ? 1 : 0;
      return Status::Ok;
    }
    case Op::HASH2:
      SETW(a, hash2_words(RW(b), RW(c)));
      return Status::Ok;
    case Op::SLOAD:
      return op_sload<kMetered>(m, regs, in, gas);
    case Op::SSTORE:
      return op_sstore<kMetered>(m, regs, in, gas);
    case Op::BALANCE: {
      const U256 account = RW(b);
      if (m.host.first_access(account)) CHARGE(kGasAccountFirstAccess);
      SETW(a, m.host.balance(account));
      return Status::Ok;
    }
    case Op::HLOAD: {
      if (m.host.first_access(RW(b))) CHARGE(kGasAccountFirstAccess);
      U256 word;
      if (!m.host.history_word(m.msg.self, RW(b), static_cast<unsigned>(in.imm), word))
        return Status::NotPermitted;
      SETW(a, word);
      return Status::Ok;
    }
    case Op::HSTORE: {
      if (m.is_static) return Status::StaticViolation;
      if (m.host.first_access(RW(a))) CHARGE(kGasAccountFirstAccess);
      bool changed = false;
      if (!m.host.set_history_word(m.msg.self, RW(a), static_cast<unsigned>(in.imm), RW(b),
                                   changed))
        return Status::NotPermitted;
      if (changed) CHARGE(kGasStorageModified);
      return Status::Ok;
    }
    case Op::TRANSFER: {
      if (m.is_static) return Status::StaticViolation;
      // Value to an account with no record creates one: priced as a new
      // storage slot (it was 60 gas, and 700,000 new accounts cost a block
      // 52 s to commit).
      const U256 to = RW(b), amount = RW(c);
      if (m.host.first_access(to)) CHARGE(kGasAccountFirstAccess);
      if (!amount.is_zero() && !m.host.account_exists(to)) CHARGE(kGasStorageAdded);
      R(a) = m.host.transfer(m.msg.self, to, amount) ? 1 : 0;
      return Status::Ok;
    }
    case Op::XCALL:
    case Op::SXCALL: {
      const bool is_sx = in.op == static_cast<uint16_t>(Op::SXCALL);
      U256 target = RW(c);
      U256 value = is_sx ? U256::zero() : Machine::load_w(regs + in.ext.d);
      const auto& input = is_sx ? m.heap[regs[in.ext.d]] : m.heap[regs[in.ext.e]];
      if (!value.is_zero() && m.is_static) return Status::StaticViolation;
      if (m.host.first_access(target)) CHARGE(kGasAccountFirstAccess);
      // (A call to an account without code moves nothing: NoCode.)
      if (!value.is_zero()) CHARGE(kGasCallValue);
      Message child;
      child.caller = m.msg.self;
      child.self = target;
      child.value = value;
      child.input = input;
      child.gas = gas - gas / 64;  // keep 1/64 so the caller can handle a failure
      child.depth = m.msg.depth + 1;
      child.is_static = m.is_static || is_sx;
      child.parent = &m.msg;
      const uint32_t selector = input.size() < 4
                                    ? 0
                                    : (uint32_t{input[0]} << 24) | (uint32_t{input[1]} << 16) |
                                          (uint32_t{input[2]} << 8) | input[3];
      ExecResult r;
      if (child.depth > kMaxCallDepth) {
        r.status = Status::CallDepth;
        r.gas_left = child.gas;
      } else {
        r = m.host.call(child);
      }
      if constexpr (kMetered) gas -= child.gas - r.gas_left;
      // A trap or refusal leaves no data of its own: the caller gets the
      // reason as CallFailed(callee, status) (abi.hpp).
      if (r.status != Status::Ok && r.status != Status::Revert)
        r.output = call_failed_data(target, static_cast<uint64_t>(r.status));
      uint64_t h = m.new_buffer(r.output.data(), r.output.size());
      if (h == 0 && !r.output.empty()) return Status::MemoryLimit;
      CHARGE(kGasMemoryWord * ((r.output.size() + 31) / 32));
      R(a) = r.status == Status::Ok ? 1 : 0;
      regs[in.b] = h;
      if (r.status != Status::Ok || m.last_call_failed) m.note_call(target, selector, r);
      m.failed_handle = r.status == Status::Ok ? 0 : h;
      return Status::Ok;
    }
    case Op::EMIT: {
      if (m.is_static) return Status::StaticViolation;
      const Event& ev = m.mod.events[in.a];
      U256 topics[1 + kMaxIndexed];
      size_t nt = 0;
      topics[nt++] = prog.event_topics[in.a];
      std::vector<Value> data;
      const uint64_t* p = regs + in.b;
      for (const EventField& f : ev.fields) {
        Value v;
        if (f.type == ValType::U64)
          v = Value::u64(*p);
        else if (f.type == ValType::U256)
          v = Value::u256(Machine::load_w(p));
        else
          v = Value::buf(Machine::bytes(m.heap[*p]));
        p += slots_of(f.type);
        if (f.indexed)
          topics[nt++] = v.word;
        else
          data.push_back(std::move(v));
      }
      std::vector<uint8_t> bytes = abi_encode(data);
      CHARGE(kGasLogEntry + kGasLogTopic * nt + kGasLogWord * ((bytes.size() + 31) / 32));
      m.host.emit_log(m.msg.self, std::span<const U256>(topics, nt), bytes);
      return Status::Ok;
    }
    case Op::INPUT: {
      CHARGE(kGasMemoryWord * ((m.msg.input.size() + 31) / 32));
      uint64_t h = m.new_buffer(m.msg.input.data(), m.msg.input.size());
      if (h == 0 && !m.msg.input.empty()) return Status::MemoryLimit;
      R(a) = h;
      return Status::Ok;
    }
    default:
      return Status::Unreachable;  // not an instruction of this function (see is_host_op)
  }
#undef R
#undef RW
#undef SETW
#undef BUF
#undef CHARGE
#undef TRAP_MSG
}

template Status exec_host_op<true>(Machine&, uint64_t*, const Insn&, int64_t&, std::string&);

// The buffer reads and writes and the call's context, as the interpreter
// runs them inline (interpreter_loop.inc): for the JIT, which calls them.
Status exec_register_op(Machine& m, uint64_t* regs, const Insn& in, int64_t gas,
                        std::string& detail) {
#define R(x) regs[in.x]
#define SETW(x, v) Machine::store_w(regs + in.x, (v))
#define BUF(x) m.heap[regs[in.x]]
#define TRAP_MSG(st, msg) \
  do {                    \
    detail = (msg);       \
    return (st);          \
  } while (0)
  switch (static_cast<Op>(in.op)) {
    case Op::BLEN:
      R(a) = BUF(b).size();
      return Status::Ok;
    case Op::LD8: {
      const auto& buf = BUF(b);
      uint64_t off = R(c);
      if (off >= buf.size())
        TRAP_MSG(Status::OutOfBounds, "ld8 offset " + std::to_string(off) + " in a buffer of " +
                                          std::to_string(buf.size()) + " bytes");
      R(a) = buf[off];
      return Status::Ok;
    }
    case Op::ST8: {
      auto& buf = BUF(a);
      uint64_t off = R(b);
      if (off >= buf.size())
        TRAP_MSG(Status::OutOfBounds, "st8 offset " + std::to_string(off) + " in a buffer of " +
                                          std::to_string(buf.size()) + " bytes");
      buf[off] = static_cast<uint8_t>(R(c));
      return Status::Ok;
    }
    case Op::LD64: {
      const auto& buf = BUF(b);
      uint64_t idx = R(c);
      if (idx >= buf.size() / 8)
        TRAP_MSG(Status::OutOfBounds, "ld64 element " + std::to_string(idx) + " in a buffer of " +
                                          std::to_string(buf.size()) + " bytes");
      uint64_t v;
      std::memcpy(&v, buf.data() + idx * 8, 8);
      R(a) = v;
      return Status::Ok;
    }
    case Op::ST64: {
      auto& buf = BUF(a);
      uint64_t idx = R(b);
      if (idx >= buf.size() / 8)
        TRAP_MSG(Status::OutOfBounds, "st64 element " + std::to_string(idx) + " in a buffer of " +
                                          std::to_string(buf.size()) + " bytes");
      uint64_t v = R(c);
      std::memcpy(buf.data() + idx * 8, &v, 8);
      return Status::Ok;
    }
    case Op::LDW: {
      const auto& buf = BUF(b);
      uint64_t off = R(c);
      if (buf.size() < 32 || off > buf.size() - 32)
        TRAP_MSG(Status::OutOfBounds, "ldw offset " + std::to_string(off) + " in a buffer of " +
                                          std::to_string(buf.size()) + " bytes");
      SETW(a, from_be_bytes(buf.data() + off));
      return Status::Ok;
    }
    case Op::STW: {
      auto& buf = BUF(a);
      uint64_t off = R(b);
      if (buf.size() < 32 || off > buf.size() - 32)
        TRAP_MSG(Status::OutOfBounds, "stw offset " + std::to_string(off) + " in a buffer of " +
                                          std::to_string(buf.size()) + " bytes");
      to_be_bytes(Machine::load_w(regs + in.c), buf.data() + off);
      return Status::Ok;
    }
    case Op::CALLER:
      SETW(a, m.msg.caller);
      return Status::Ok;
    case Op::SELF:
      SETW(a, m.msg.self);
      return Status::Ok;
    case Op::CALLVALUE:
      SETW(a, m.msg.value);
      return Status::Ok;
    case Op::BLOCKNUM:
      R(a) = m.host.block().number;
      return Status::Ok;
    case Op::TIMESTAMP:
      R(a) = m.host.block().timestamp;
      return Status::Ok;
    case Op::CHAINID:
      R(a) = m.host.block().chain_id;
      return Status::Ok;
    case Op::GASLEFT:
      R(a) = static_cast<uint64_t>(gas);
      return Status::Ok;
    case Op::ORIGIN:
      SETW(a, m.host.block().origin);
      return Status::Ok;
    default:
      return Status::Unreachable;
  }
#undef R
#undef SETW
#undef BUF
#undef TRAP_MSG
}
template Status exec_host_op<false>(Machine&, uint64_t*, const Insn&, int64_t&, std::string&);

bool is_host_op(uint16_t op) {
  switch (static_cast<Op>(op)) {
    case Op::REVERT:
    case Op::THROW:
    case Op::BCONST:
    case Op::BNEW:
    case Op::BRESIZE:
    case Op::BCOPY:
    case Op::SHA256:
    case Op::ED25519:
    case Op::HASH2:
    case Op::SLOAD:
    case Op::SSTORE:
    case Op::BALANCE:
    case Op::HLOAD:
    case Op::HSTORE:
    case Op::TRANSFER:
    case Op::XCALL:
    case Op::SXCALL:
    case Op::EMIT:
    case Op::INPUT:
      return true;
    default:
      return false;
  }
}

}  // namespace writ::vm
