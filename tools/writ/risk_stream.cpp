#include "risk_stream.hpp"

#include <array>
#include <optional>

namespace writ::cli::risk {

namespace {

using vm::U256;

constexpr size_t kMaxDecimals = 18;
constexpr std::string_view kColumns = "time,from,to,amount[,label]";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    const size_t comma = line.find(',', start);
    out.push_back(
        trim(line.substr(start, comma == std::string_view::npos ? line.npos : comma - start)));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

// Shown in errors: a field as written, cut so a huge one cannot flood the terminal.
std::string quoted(std::string_view s) {
  return "'" + std::string(s.substr(0, 40)) + (s.size() > 40 ? "...'" : "'");
}

bool parse_seconds(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 20) return false;
  U256 v = U256::zero();
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = vm::add(vm::mul(v, U256::from_u64(10)), U256::from_u64(static_cast<uint64_t>(c - '0')));
  }
  if (!v.fits_u64()) return false;
  out = v.low64();
  return true;
}

}  // namespace

bool parse_units(std::string_view text, U256& out, std::string& why) {
  const size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view frac = dot == text.npos ? std::string_view() : text.substr(dot + 1);
  auto digits = [](std::string_view s) {
    for (char c : s)
      if (c < '0' || c > '9') return false;
    return true;
  };
  if (whole.empty() || !digits(whole) || (dot != text.npos && (frac.empty() || !digits(frac)))) {
    why =
        "is not a decimal amount in whole units (digits, optionally a point and up to 18 decimals)";
    return false;
  }
  if (frac.size() > kMaxDecimals) {
    why = "has more than 18 decimals";
    return false;
  }
  // units * 10^18 + decimals * 10^(18 - n), every step checked.
  U256 v = U256::zero();
  const U256 ten = U256::from_u64(10);
  for (char c : whole) {
    if (!vm::mul_checked(v, ten, v) || !vm::add_checked(v, U256::from_u64(uint64_t(c - '0')), v)) {
      why = "is above 2^256 base units";
      return false;
    }
  }
  for (size_t i = 0; i < kMaxDecimals; ++i) {
    const uint64_t d = i < frac.size() ? uint64_t(frac[i] - '0') : 0;
    if (!vm::mul_checked(v, ten, v) || !vm::add_checked(v, U256::from_u64(d), v)) {
      why = "is above 2^256 base units";
      return false;
    }
  }
  out = v;
  return true;
}

std::string format_units(const U256& base_units) {
  std::string digits = vm::to_dec_string(base_units);
  if (digits.size() <= kMaxDecimals) digits.insert(0, kMaxDecimals + 1 - digits.size(), '0');
  std::string whole = digits.substr(0, digits.size() - kMaxDecimals);
  std::string frac = digits.substr(digits.size() - kMaxDecimals);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return frac.empty() ? whole : whole + "." + frac;
}

runtime::Address account_address(std::string_view id) {
  return runtime::sha256(std::span(reinterpret_cast<const uint8_t*>(id.data()), id.size()));
}

bool parse_stream(std::string_view text, const std::string& name, Stream& out, std::string& err) {
  out = Stream{};
  out.name = name;
  enum Column { kTime, kFrom, kTo, kAmount, kLabel, kColumnCount };
  constexpr std::array<std::string_view, kColumnCount> kNames = {"time", "from", "to", "amount",
                                                                 "label"};
  std::array<std::optional<size_t>, kColumnCount> at{};
  size_t fields = 0;
  bool header = false;
  size_t line_no = 0;
  uint64_t last_time = 0;
  auto fail = [&](const std::string& why) {
    err = name + ":" + std::to_string(line_no) + ": " + why;
    return false;
  };
  // A UTF-8 byte-order mark, as some spreadsheets write, is not part of the header.
  size_t pos = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == text.npos) eol = text.size();
    const std::string_view line = trim(text.substr(pos, eol - pos));
    pos = eol + 1;
    ++line_no;
    if (line.empty()) continue;
    if (line.find('"') != line.npos)
      return fail("quoted fields are not supported (no field may hold a comma)");
    const std::vector<std::string_view> f = split(line);
    if (!header) {
      header = true;
      fields = f.size();
      for (size_t i = 0; i < f.size(); ++i) {
        for (size_t c = 0; c < kColumnCount; ++c) {
          if (f[i] != kNames[c]) continue;
          if (at[c])
            return fail("column '" + std::string(kNames[c]) + "' appears twice in the header");
          at[c] = i;
        }
      }
      for (size_t c = 0; c < kLabel; ++c)
        if (!at[c])
          return fail("the header has no column '" + std::string(kNames[c]) + "' (wanted " +
                      std::string(kColumns) + ")");
      continue;
    }
    if (f.size() != fields)
      return fail(std::to_string(f.size()) + " fields, the header has " + std::to_string(fields));
    Payment p;
    p.line = line_no;
    if (!parse_seconds(f[*at[kTime]], p.time))
      return fail("time " + quoted(f[*at[kTime]]) + " is not a whole number of seconds");
    if (!out.payments.empty() && p.time < last_time)
      return fail("time " + std::to_string(p.time) + " is before the previous line's " +
                  std::to_string(last_time) + " (payments must be in time order)");
    last_time = p.time;
    p.from = std::string(f[*at[kFrom]]);
    p.to = std::string(f[*at[kTo]]);
    if (p.from.empty()) return fail("empty 'from' account");
    if (p.to.empty()) return fail("empty 'to' account");
    std::string why;
    if (!parse_units(f[*at[kAmount]], p.amount, why))
      return fail("amount " + quoted(f[*at[kAmount]]) + " " + why);
    const std::string_view label = at[kLabel] ? f[*at[kLabel]] : std::string_view();
    if (label == "1") {
      p.label = 1;
      ++out.fraud;
    } else if (label == "0") {
      p.label = 0;
    } else if (label.empty()) {
      ++out.unlabeled;
    } else {
      return fail("label " + quoted(label) + " is not 0 or 1");
    }
    out.payments.push_back(std::move(p));
  }
  if (!header) {
    err = name + ": empty (wanted a header line " + std::string(kColumns) + ")";
    return false;
  }
  return true;
}

}  // namespace writ::cli::risk
