// Big-endian writers and a bounds-checked reader for the runtime's records
// (accounts, receipts, block headers, proofs). Internal to writ_runtime.
#pragma once

#include <cstring>
#include <string>
#include <string_view>

#include "writ/runtime/types.hpp"

namespace writ::runtime::enc {

inline void u8(std::string& o, uint8_t v) {
  o.push_back(static_cast<char>(v));
}
inline void u32(std::string& o, uint32_t v) {
  for (int i = 3; i >= 0; --i) o.push_back(static_cast<char>(v >> (8 * i)));
}
inline void u64(std::string& o, uint64_t v) {
  for (int i = 7; i >= 0; --i) o.push_back(static_cast<char>(v >> (8 * i)));
}
inline void word(std::string& o, const U256& v) {
  uint8_t b[32];
  vm::to_be_bytes(v, b);
  o.append(reinterpret_cast<const char*>(b), 32);
}
inline void hash(std::string& o, const Hash256& h) {
  o.append(reinterpret_cast<const char*>(h.bytes.data()), 32);
}
inline void bytes(std::string& o, std::span<const uint8_t> b) {
  u32(o, static_cast<uint32_t>(b.size()));
  o.append(reinterpret_cast<const char*>(b.data()), b.size());
}
inline void str(std::string& o, std::string_view s) {
  u32(o, static_cast<uint32_t>(s.size()));
  o.append(s);
}

// Reads fields in order; after the first failure every read returns zero and
// error() names the field and offset.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool need(size_t n, const char* field) {
    if (failed_) return false;
    if (s_.size() - pos_ < n) {
      failed_ = true;
      err_ = vm::error_at(pos_, std::string("field ") + field + ": truncated (needs " +
                                    std::to_string(n) + " bytes, " +
                                    std::to_string(s_.size() - pos_) + " left)");
      return false;
    }
    return true;
  }
  uint8_t u8(const char* f) {
    if (!need(1, f)) return 0;
    return static_cast<uint8_t>(s_[pos_++]);
  }
  uint32_t u32(const char* f) {
    if (!need(4, f)) return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(s_[pos_++]);
    return v;
  }
  uint64_t u64(const char* f) {
    if (!need(8, f)) return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(s_[pos_++]);
    return v;
  }
  U256 word(const char* f) {
    if (!need(32, f)) return U256::zero();
    U256 v = vm::from_be_bytes(reinterpret_cast<const uint8_t*>(s_.data() + pos_));
    pos_ += 32;
    return v;
  }
  Hash256 hash(const char* f) {
    Hash256 h;
    if (!need(32, f)) return h;
    std::memcpy(h.bytes.data(), s_.data() + pos_, 32);
    pos_ += 32;
    return h;
  }
  Bytes bytes(const char* f) {
    uint32_t n = u32(f);
    if (!need(n, f)) return {};
    Bytes b(s_.begin() + static_cast<long>(pos_), s_.begin() + static_cast<long>(pos_ + n));
    pos_ += n;
    return b;
  }
  std::string str(const char* f) {
    uint32_t n = u32(f);
    if (!need(n, f)) return {};
    std::string v(s_.substr(pos_, n));
    pos_ += n;
    return v;
  }
  bool done() const { return !failed_ && pos_ == s_.size(); }
  bool failed() const { return failed_; }
  size_t pos() const { return pos_; }
  size_t left() const { return s_.size() - pos_; }
  Error error() const {
    if (failed_) return err_;
    return vm::error_at(pos_, std::to_string(s_.size() - pos_) + " trailing bytes");
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
  bool failed_ = false;
  Error err_;
};

}  // namespace writ::runtime::enc
