// `writ demo`: the whole system on an embedded RocksDB chain. Compiles a
// token written in Writ, opens a chain in a data directory, deploys the
// token with a signed transaction, sends a batch of signed payments (token
// transfers and plain value transfers, with one that reverts and one that is
// rejected), prints the receipts with their events decoded by the ABI, the
// balances, the state root and a verified inclusion proof, has a second node
// import the blocks (Chain::apply_block) and agree on the state, then reopens
// the database and checks that the chain resumes at the same root. The chain
// is the default genesis (contracts/): between the payments and the proofs,
// oracle reporters update a feed (its median taken, a stale read refused) and
// payments are scored by the risk engine: a normal one settles, a
// fraudulent burst is held with its reasons, then refused, and the reviewer
// releases a hold. Then money in motion: the treasury pays its procurement
// officer in euros (2 of 3 owners, a day's timelock), who converts them to
// dollars at the oracle's EUR/USD price and pays a supplier through an
// escrow milestone; a stream pays a contractor by the second; and a risky
// outflow from the treasury is held until a third owner approves.
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "commands.hpp"
#include "decode.hpp"
#include "writ/compiler/abi_format.hpp"
#include "writ/compiler/compiler.hpp"
#include "writ/contracts/feeder.hpp"
#include "writ/contracts/system.hpp"
#include "writ/runtime/chain.hpp"
#include "writ/vm/abi.hpp"

namespace writ::cli {

const char* kDemoHelp =
    "usage: writ demo [--data DIR] [--source FILE.writ] [--payments N]\n"
    "Runs the end-to-end demo on an embedded RocksDB chain in DIR (default: a new\n"
    "temporary directory, removed afterwards): compile a Writ token, deploy it,\n"
    "send N signed payments (default 12), print receipts, balances, the state root\n"
    "and a verified proof, then reopen the database and check the state root. The\n"
    "chain is the default genesis: oracle reporters update a feed (median, a stale\n"
    "read refused) and the risk engine scores payments (one settles, a fraudulent\n"
    "burst is held with its reasons, then refused, and the reviewer releases a hold);\n"
    "the treasury pays in euros, converted to dollars at the oracle price and paid to a\n"
    "supplier through an escrow milestone; a stream pays a contractor per second; a\n"
    "risky treasury outflow waits for a third owner's approval.\n";

namespace {

using namespace writ::runtime;
using compiler::AbiEntry;
using compiler::ContractOutput;
using vm::Value;

// A balance, or the store's failure in its place (never a zero for it).
std::string balance_text(const Chain& chain, const Address& a) {
  auto b = chain.balance(a);
  return b.ok() ? vm::to_dec_string(b.value()) : "(" + b.error().message + ")";
}

std::string short_addr(const Address& a) {
  std::string h = a.hex();
  return "0x" + h.substr(0, 8) + "…" + h.substr(56);
}

// The development keys by their part in the demo (the demo's own alice..dave
// are other accounts): the treasury's owners and its procurement officer.
std::string dev_role(contracts::DevKey k) {
  switch (k) {
    case contracts::DevKey::Alice:
      return "owner-alice";
    case contracts::DevKey::Bob:
      return "owner-bob";
    case contracts::DevKey::Carol:
      return "procurement";
    case contracts::DevKey::Reporter3:
      return "keeper";
    default:
      return std::string(contracts::dev_key_name(k));
  }
}

// The system contracts' short addresses in a decoded event, by name.
std::string name_system_addresses(std::string event) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"0x104", "escrow"}, {"0x105", "streams"}, {"0x106", "treasury"},
      {"0x107", "EURW"},   {"0x108", "USDW"},    {"0x109", "fx-pool"},
      {"0x10a", "WETH"},   {"0x10b", "lending"}, {"0x10c", "DUSD"}};
  for (const auto& [hex, name] : kNames)
    for (size_t at = 0; (at = event.find(hex, at)) != std::string::npos;) {
      const size_t end = at + std::strlen(hex);
      if (end < event.size() && std::isxdigit(static_cast<unsigned char>(event[end]))) {
        at = end;
        continue;
      }
      event.replace(at, end - at, name);
    }
  return event;
}

const AbiEntry* find_fn(const ContractOutput& c, const std::string& name) {
  for (const auto& f : c.functions)
    if (f.name == name) return &f;
  return nullptr;
}

Bytes encode_call(const ContractOutput& c, const std::string& name,
                  const std::vector<Value>& args) {
  const AbiEntry* f = find_fn(c, name);
  return f ? vm::call_input(f->selector, args) : Bytes{};
}

// One unit of the native currency: 10^18 base units.
const U256 kUnit = U256::from_u64(1'000'000'000'000'000'000ull);

std::string reasons_text(const PaymentRisk& k) {
  std::string s;
  for (uint8_t c : k.reasons) s += (s.empty() ? "" : ", ") + std::to_string(c);
  return s;
}

bool fail(const std::string& why) {
  std::fprintf(stderr, "writ demo: %s\n", why.c_str());
  return false;
}

// Base units as a decimal amount with `decimals` places ("10000.00").
std::string money(const U256& raw, int decimals) {
  std::string d = vm::to_dec_string(raw);
  if (decimals == 0) return d;
  if (d.size() <= static_cast<size_t>(decimals))
    d = std::string(static_cast<size_t>(decimals) + 1 - d.size(), '0') + d;
  return d.substr(0, d.size() - static_cast<size_t>(decimals)) + "." +
         d.substr(d.size() - static_cast<size_t>(decimals));
}

// Step 7 of the demo: the system contracts that move money, driven by the
// default genesis's development keys (the treasury's owners governance,
// alice and bob; carol its procurement officer) and two of the demo's
// accounts (dave the supplier, bob the contractor).
template <class Sign, class SignDev, class BlockOf>
bool money_in_motion(Chain& chain, const ContractBook& book, uint64_t& time,
                     std::map<int, uint64_t>& dev_nonce, Sign& sign, SignDev& sign_dev,
                     BlockOf& block_of, const std::vector<Receipt>& last, const Address& supplier,
                     const Address& contractor, size_t contractor_key, size_t supplier_key) {
  using contracts::DevKey;
  using vm::ValType;
  auto at = [](uint64_t a) { return Address::from_u256(U256::from_u64(a)); };
  const Address treasury = at(contracts::kTreasuryAddress), eurw = at(contracts::kEurTokenAddress),
                usdw = at(contracts::kUsdTokenAddress), fx = at(contracts::kFxPoolAddress),
                escrow = at(contracts::kEscrowAddress), streams = at(contracts::kStreamsAddress);
  auto who = [](DevKey k) { return address_of(contracts::dev_key(k).pub); };
  const Address procurement = who(DevKey::Carol);
  auto word = [](const Address& a) { return Value::u256(a.to_u256()); };
  auto num = [](uint64_t v) { return Value::u256(U256::from_u64(v)); };
  auto tx = [](const Address& to, const char* fn, std::vector<ValType> types,
               std::vector<Value> args, const U256& value = U256{}) {
    Transaction t;
    t.to = to;
    t.value = value;
    t.data = vm::call_input(vm::selector_of(fn, types), args);
    t.gas_limit = 1'000'000;
    return t;
  };
  auto view_word = [&](const Address& c, const char* fn, std::vector<ValType> types,
                       std::vector<Value> args) {
    auto r = chain.call(c, c, vm::call_input(vm::selector_of(fn, types), args), 10'000'000);
    if (!r.ok() || r->status != vm::Status::Ok || r->output.size() < 32) return U256{};
    return vm::from_be_bytes(r->output.data());
  };
  auto tokens = [&](const Address& token, const Address& a) {
    return view_word(token, "balance_of", {ValType::U256}, {Value::u256(a.to_u256())});
  };
  auto all_ok = [&](const char* what) {
    for (const Receipt& r : last)
      if (r.status != vm::Status::Ok) return fail(std::string(what) + ": a transaction failed");
    return true;
  };
  auto has_event = [&](const Receipt& r, const std::string& name) {
    for (const Log& l : r.logs) {
      std::vector<U256> topics;
      for (const Hash256& t : l.topics) topics.push_back(t.to_u256());
      auto e = book.event(book.at(l.address.to_u256()), topics, l.data);
      if (e && e->rfind(name + "(", 0) == 0) return true;
    }
    return false;
  };
  const std::vector<ValType> propose_types = {ValType::U64,  ValType::U256, ValType::U256,
                                              ValType::U256, ValType::U256, ValType::U256,
                                              ValType::U64,  ValType::U64,  ValType::U64};
  const U256 usd = U256::from_u64(1'000'000);  // USDW base units per dollar

  // The treasury pays procurement 10,000.00 EURW: proposed, approved by two
  // owners with the proposal's digest, executed in a later block.
  if (!block_of({sign_dev(DevKey::Alice,
                          tx(treasury, "propose", propose_types,
                             {Value::u64(0), word(procurement), word(eurw), num(1'000'000), num(0),
                              num(0), Value::u64(0), Value::u64(0), Value::u64(0)}))},
                "owner-alice proposes: the treasury pays procurement 10,000.00 EURW") ||
      !all_ok("the proposal"))
    return false;
  auto approve = [&](DevKey k, uint64_t id) {
    const U256 digest = view_word(treasury, "proposal_digest", {ValType::U64}, {Value::u64(id)});
    return sign_dev(k, tx(treasury, "approve", {ValType::U64, ValType::U256},
                          {Value::u64(id), Value::u256(digest)}));
  };
  auto execute = [&](uint64_t id) {
    return sign_dev(DevKey::Carol, tx(treasury, "execute", {ValType::U64}, {Value::u64(id)}));
  };
  if (!block_of({approve(DevKey::Alice, 1), approve(DevKey::Bob, 1)},
                "two owners approve proposal 1 (2 of 3), each with its digest") ||
      !all_ok("the approvals") ||
      !block_of({execute(1)},
                "proposal 1 is queued: EURW payments wait a day (no limit set for EURW)") ||
      !all_ok("the queueing") || !has_event(last[0], "Queued"))
    return fail("the treasury's payment was not queued");
  time += 86'400;
  if (!block_of({execute(1)}, "a day later proposal 1 runs: scored, paid, recorded") ||
      !all_ok("the execution") || !has_event(last[0], "Paid"))
    return fail("the treasury did not pay procurement");

  // The EUR/USD price, from two reporters.
  {
    std::vector<Transaction> reports;
    for (DevKey r : {DevKey::Reporter1, DevKey::Reporter2})
      reports.push_back(contracts::report_transaction(
          contracts::dev_key(r), chain.chain_id(), dev_nonce[static_cast<int>(r)]++,
          contracts::parse_price_source("EUR/USD 1.0825").value().at(0)));
    if (!block_of(reports, "oracle reports for EUR/USD: 1.0825") || !all_ok("EUR/USD"))
      return false;
  }
  // Governance funds the conversion pool.
  if (!block_of({sign_dev(DevKey::Governance, tx(eurw, "approve", {ValType::U256, ValType::U256},
                                                 {word(fx), num(5'000'000)})),
                 sign_dev(DevKey::Governance, tx(usdw, "approve", {ValType::U256, ValType::U256},
                                                 {word(fx), num(50'000'000'000)})),
                 sign_dev(DevKey::Governance,
                          tx(fx, "provide", {ValType::U256, ValType::U256, ValType::U256},
                             {num(5'000'000), num(50'000'000'000), num(0)}))},
                "governance funds the conversion pool: 50,000.00 EURW and 50,000 USDW") ||
      !all_ok("the pool's funding"))
    return false;

  // Procurement converts the euros at the oracle price and pays the
  // supplier through an escrow: 6,000 and 4,000 USDW milestones.
  std::vector<uint8_t> milestones;
  for (uint64_t m : {6'000u, 4'000u}) {
    uint8_t be[32];
    vm::to_be_bytes(vm::mul(U256::from_u64(m), usd), be);
    milestones.insert(milestones.end(), be, be + 32);
  }
  if (!block_of({sign_dev(DevKey::Carol, tx(eurw, "approve", {ValType::U256, ValType::U256},
                                            {word(fx), num(1'000'000)})),
                 sign_dev(DevKey::Carol,
                          tx(fx, "pay_eur_as_usd", {ValType::U256, ValType::U256, ValType::U256},
                             {word(procurement), num(1'000'000), num(10'700'000'000)}))},
                "procurement converts 10,000.00 EURW to USDW at the oracle price (fee 0.3%)") ||
      !all_ok("the conversion"))
    return false;
  if (!block_of(
          {sign_dev(DevKey::Carol, tx(usdw, "approve", {ValType::U256, ValType::U256},
                                      {word(escrow), num(10'000'000'000)})),
           sign_dev(DevKey::Carol,
                    tx(escrow, "open",
                       {ValType::U256, ValType::U256, ValType::U256, ValType::Buf, ValType::U64,
                        ValType::U64, ValType::U64},
                       {word(supplier), Value::u256(U256{}), word(usdw), Value::buf(milestones),
                        Value::u64(time + 30 * 86'400), Value::u64(0), Value::u64(0)})),
           sign_dev(DevKey::Carol, tx(escrow, "release", {ValType::U64}, {Value::u64(1)}))},
          "procurement opens an escrow for the supplier (dave) and releases milestone 1") ||
      !all_ok("the escrow"))
    return false;
  if (!block_of({sign(supplier_key, tx(escrow, "withdraw", {ValType::U256}, {word(usdw)}))},
                "the supplier withdraws its milestone") ||
      !all_ok("the supplier's withdrawal"))
    return false;
  std::printf(
      "   balances: treasury %s EURW; procurement %s EURW, %s USDW; escrow %s USDW; dave %s "
      "USDW\n",
      money(tokens(eurw, treasury), 2).c_str(), money(tokens(eurw, procurement), 2).c_str(),
      money(tokens(usdw, procurement), 6).c_str(), money(tokens(usdw, escrow), 6).c_str(),
      money(tokens(usdw, supplier), 6).c_str());
  if (tokens(usdw, supplier) != vm::mul(U256::from_u64(6'000), usd))
    return fail("the supplier did not get its milestone");

  // A stream pays the contractor (bob) a cent a second; an hour later he
  // withdraws 36 USDW.
  if (!block_of(
          {sign_dev(DevKey::Carol, tx(usdw, "approve", {ValType::U256, ValType::U256},
                                      {word(streams), num(360'000'000)})),
           sign_dev(
               DevKey::Carol,
               tx(streams, "create", {ValType::U256, ValType::U256, ValType::U256, ValType::U256},
                  {word(contractor), word(usdw),
                   Value::u256(vm::mul(U256::from_u64(10'000),
                                       U256::from_u64(1'000'000'000'000'000'000ull))),
                   num(360'000'000)}))},
          "procurement streams 0.01 USDW a second to the contractor (bob), 360 USDW deposited") ||
      !all_ok("the stream"))
    return false;
  time += 3'598;  // with block_of's 2 seconds: an hour after the stream began
  const U256 before = tokens(usdw, contractor);
  if (!block_of({sign(contractor_key, tx(streams, "withdraw", {ValType::U64}, {Value::u64(1)}))},
                "an hour later the contractor withdraws what has streamed") ||
      !all_ok("the stream's withdrawal"))
    return false;
  std::printf("   contractor: +%s USDW after one hour\n",
              money(vm::sub(tokens(usdw, contractor), before), 6).c_str());
  if (vm::sub(tokens(usdw, contractor), before) != vm::mul(U256::from_u64(36), usd))
    return fail("the stream did not pay 36 USDW for the hour");

  // A large native payment to a new account: the risk engine scores it
  // high, so two approvals are not enough; the third owner's releases it.
  const Address stranger = Address::from_u256(U256::from_u64(0x5A1E5));
  const U256 five_thousand = vm::mul(U256::from_u64(5'000), kUnit);
  if (!block_of({sign_dev(DevKey::Alice, tx(treasury, "propose", propose_types,
                                            {Value::u64(0), word(stranger), Value::u256(U256{}),
                                             Value::u256(five_thousand), num(0), num(0),
                                             Value::u64(0), Value::u64(0), Value::u64(0)}))},
                "owner-alice proposes paying 5,000.0 native to a new account") ||
      !all_ok("the second proposal") ||
      !block_of({approve(DevKey::Alice, 2), approve(DevKey::Bob, 2)}, "two owners approve it") ||
      !all_ok("the second proposal's approvals") ||
      !block_of({execute(2)}, "proposal 2: scored high, held for a third approval") ||
      !all_ok("the held execution") || !has_event(last[0], "HeldForApprovals"))
    return fail("the risky outflow was not held");
  if (!chain.balance(stranger).ok() || !chain.balance(stranger).value().is_zero())
    return fail("the held outflow moved money");
  if (!block_of({approve(DevKey::Governance, 2)}, "governance adds the third approval") ||
      !all_ok("the third approval") || !block_of({execute(2)}, "proposal 2 executes") ||
      !all_ok("the released execution") || chain.balance(stranger).value() != five_thousand)
    return fail("the outflow did not go through with three approvals");
  std::printf("   treasury: %s native left; the new account holds %s\n",
              money(chain.balance(treasury).value(), 18).c_str(),
              money(chain.balance(stranger).value(), 18).c_str());
  return true;
}

// Step 8 of the demo: credit. Owner-bob lends 5,000 USDW in the lending
// pool and owner-alice borrows 3,000 of it against 5 WETH; procurement
// opens a DUSD vault (10 WETH, 12,000 DUSD drawn); ETH falls from 2,000 to
// 1,700 and, once the delayed price has it, a keeper liquidates the vault;
// half an hour into the auction, below the market, governance (with DUSD
// from the peg stability module) buys the collateral that covers the debt
// and the rest goes back to the vault. Thirty days on, the lender's supply
// has earned the borrower's interest.
template <class SignDev, class BlockOf>
bool credit_in_motion(Chain& chain, uint64_t& time, std::map<int, uint64_t>& dev_nonce,
                      SignDev& sign_dev, BlockOf& block_of, const std::vector<Receipt>& last) {
  using contracts::DevKey;
  using vm::ValType;
  auto at = [](uint64_t a) { return Address::from_u256(U256::from_u64(a)); };
  const Address hub = at(contracts::kOracleHubAddress), usdw = at(contracts::kUsdTokenAddress),
                weth = at(contracts::kWethTokenAddress), pool = at(contracts::kLendingPoolAddress),
                dusd = at(contracts::kStablecoinAddress);
  auto who = [](DevKey k) { return address_of(contracts::dev_key(k).pub); };
  auto word = [](const Address& a) { return Value::u256(a.to_u256()); };
  auto num = [](uint64_t v) { return Value::u256(U256::from_u64(v)); };
  auto units = [](uint64_t whole) { return Value::u256(vm::mul(U256::from_u64(whole), kUnit)); };
  auto tx = [](const Address& to, const char* fn, std::vector<ValType> types,
               std::vector<Value> args) {
    Transaction t;
    t.to = to;
    t.data = vm::call_input(vm::selector_of(fn, types), args);
    t.gas_limit = 1'000'000;
    return t;
  };
  auto view = [&](const Address& c, const char* fn, std::vector<ValType> types,
                  std::vector<Value> args, size_t word_index = 0) {
    auto r = chain.call(c, c, vm::call_input(vm::selector_of(fn, types), args), 10'000'000);
    if (!r.ok() || r->status != vm::Status::Ok || r->output.size() < 32 * (word_index + 1))
      return U256{};
    return vm::from_be_bytes(r->output.data() + 32 * word_index);
  };
  auto all_ok = [&](const char* what) {
    for (const Receipt& r : last)
      if (r.status != vm::Status::Ok) return fail(std::string(what) + ": a transaction failed");
    return true;
  };
  auto approve = [&](DevKey k, const Address& token, const Address& spender, const Value& amount) {
    return sign_dev(k,
                    tx(token, "approve", {ValType::U256, ValType::U256}, {word(spender), amount}));
  };
  // ETH/USD and USDC/USD from two reporters; then the delayed prices: a
  // poke on the next hour, another an hour later with fresh reports.
  auto reports = [&](const char* eth) {
    std::vector<Transaction> txs;
    for (DevKey r : {DevKey::Reporter1, DevKey::Reporter2})
      for (std::string q : {std::string("ETH/USD ") + eth, std::string("USDC/USD 1.0")})
        txs.push_back(contracts::report_transaction(
            contracts::dev_key(r), chain.chain_id(), dev_nonce[static_cast<int>(r)]++,
            contracts::parse_price_source(q).value().at(0)));
    return txs;
  };
  auto pokes = [&]() {
    std::vector<Transaction> txs;
    for (uint64_t feed : {contracts::kFeedEthUsd, contracts::kFeedUsdcUsd})
      txs.push_back(
          sign_dev(DevKey::Reporter3, tx(hub, "poke", {ValType::U64}, {Value::u64(feed)})));
    return txs;
  };
  auto to_next_hour = [&]() { time = (time / 3'600 + 1) * 3'600 - 2; };
  auto set_eth = [&](const char* eth, const char* what) {
    if (!block_of(reports(eth), what) || !all_ok("the reports")) return false;
    to_next_hour();
    if (!block_of(pokes(), "on the hour, the delayed prices are poked: next in line") ||
        !all_ok("the pokes"))
      return false;
    to_next_hour();
    std::vector<Transaction> txs = reports(eth);
    for (Transaction& t : pokes()) txs.push_back(t);
    return block_of(txs, "an hour later: reported again and poked, the delayed price is current") &&
           all_ok("the second pokes");
  };
  if (!set_eth("2000", "oracle reports: ETH/USD 2000, USDC/USD 1.0")) return false;

  // The lending pool: a lender and a borrower.
  if (!block_of({approve(DevKey::Bob, usdw, pool, num(5'000'000'000)),
                 sign_dev(DevKey::Bob, tx(pool, "supply", {ValType::U64, ValType::U256},
                                          {Value::u64(2), num(5'000'000'000)}))},
                "owner-bob lends 5,000 USDW in the lending pool (market 2)") ||
      !all_ok("the supply") ||
      !block_of({approve(DevKey::Alice, weth, pool, units(5)),
                 sign_dev(DevKey::Alice, tx(pool, "supply", {ValType::U64, ValType::U256},
                                            {Value::u64(1), units(5)})),
                 sign_dev(DevKey::Alice, tx(pool, "borrow", {ValType::U64, ValType::U256},
                                            {Value::u64(2), num(3'000'000'000)}))},
                "owner-alice supplies 5 WETH and borrows 3,000 USDW against it (limit 7,500)") ||
      !all_ok("the borrow"))
    return false;

  // A DUSD vault, and DUSD for a buyer from the peg stability module.
  if (!block_of(
          {approve(DevKey::Carol, weth, dusd, units(10)),
           sign_dev(DevKey::Carol, tx(dusd, "open", {ValType::U64, ValType::U256, ValType::U256},
                                      {Value::u64(1), units(10), units(12'000)}))},
          "procurement opens a DUSD vault: 10 WETH locked, 12,000 DUSD drawn (limit 13,333)") ||
      !all_ok("the vault") ||
      !block_of({approve(DevKey::Governance, usdw, dusd, num(20'000'000'000)),
                 sign_dev(DevKey::Governance,
                          tx(dusd, "sell_gem", {ValType::U256}, {num(20'000'000'000)}))},
                "governance swaps 20,000 USDW for DUSD in the peg stability module (fee 0.1%)") ||
      !all_ok("the swap"))
    return false;

  // ETH falls: the vault is safe until the delayed price has the fall.
  if (!set_eth("1700", "oracle reports: ETH/USD 1700")) return false;
  const Address vault_owner = who(DevKey::Carol);
  const U256 debt =
      view(dusd, "debt_of", {ValType::U64, ValType::U256}, {Value::u64(1), word(vault_owner)});
  const U256 max_debt =
      view(dusd, "max_debt_of", {ValType::U64, ValType::U256}, {Value::u64(1), word(vault_owner)});
  std::printf("   the vault owes %s DUSD; at 1,700 and a ratio of 150%% it may owe %s\n",
              money(debt, 18).c_str(), money(max_debt, 18).c_str());
  if (!block_of({sign_dev(DevKey::Reporter3, tx(dusd, "bark", {ValType::U64, ValType::U256},
                                                {Value::u64(1), word(vault_owner)}))},
                "a keeper liquidates the vault: a falling-price auction from 120% of the price") ||
      !all_ok("the liquidation"))
    return false;
  time += 1'798;
  if (!block_of({}, "half an hour into the auction")) return false;
  const U256 price = view(dusd, "sale_status", {ValType::U64}, {Value::u64(1)}, 1);
  std::printf("   the auction asks %s DUSD per WETH (from 2040, 1%% off every 90 s)\n",
              money(vm::div(price, U256::from_u64(1'000'000'000)), 18).c_str());
  if (!block_of(
          {sign_dev(
              DevKey::Governance,
              tx(dusd, "take", {ValType::U64, ValType::U256, ValType::U256, ValType::U256},
                 {Value::u64(1), units(10), Value::u256(price), word(who(DevKey::Governance))}))},
          "governance buys the collateral that covers the debt and the penalty") ||
      !all_ok("the take"))
    return false;
  const U256 ink =
      view(dusd, "vault", {ValType::U64, ValType::U256}, {Value::u64(1), word(vault_owner)});
  const U256 ray = vm::mul(kUnit, U256::from_u64(1'000'000'000));
  std::printf("   procurement's vault keeps %s WETH; DUSD: supply %s, surplus %s, bad debt %s\n",
              money(ink, 18).c_str(), money(view(dusd, "books", {}, {}, 0), 18).c_str(),
              money(vm::div(view(dusd, "books", {}, {}, 1), ray), 18).c_str(),
              money(vm::div(view(dusd, "books", {}, {}, 2), ray), 18).c_str());

  // Thirty days on, the lender's supply has earned the borrower's interest.
  const U256 supplied_before = view(pool, "supplied_of", {ValType::U64, ValType::U256},
                                    {Value::u64(2), word(who(DevKey::Bob))});
  time += 30 * 86'400;
  if (!block_of({}, "thirty days later")) return false;
  const U256 supplied = view(pool, "supplied_of", {ValType::U64, ValType::U256},
                             {Value::u64(2), word(who(DevKey::Bob))});
  const U256 owed = view(pool, "debt_of", {ValType::U64, ValType::U256},
                         {Value::u64(2), word(who(DevKey::Alice))});
  std::printf("   lender: %s USDW supplied is now %s; borrower: 3000.000000 borrowed, owes %s\n",
              money(supplied_before, 6).c_str(), money(supplied, 6).c_str(),
              money(owed, 6).c_str());
  if (!vm::gt(supplied, supplied_before)) return fail("the lender earned nothing");
  if (!block_of({approve(DevKey::Alice, usdw, pool, num(3'100'000'000)),
                 sign_dev(DevKey::Alice, tx(pool, "repay_all", {ValType::U64}, {Value::u64(2)}))},
                "owner-alice repays all of it") ||
      !all_ok("the repayment"))
    return false;
  return true;
}

struct Demo {
  std::string dir;
  std::string source;
  int payments = 12;

  bool run() {
    // 1. Compile the token.
    compiler::CompileOptions opts;
    if (const char* env = std::getenv("WRIT_STDLIB")) opts.stdlib_dir = env;
#ifdef WRIT_STDLIB_DIR
    else
      opts.stdlib_dir = WRIT_STDLIB_DIR;
#endif
    auto out = compiler::compile_file(source, opts);
    if (!out.ok) return fail("compiling " + source + ":\n" + out.diagnostics);
    const ContractOutput& token = out.contracts.back();
    std::printf("== compiled %s: contract %s, %zu bytes of bytecode, %zu public functions\n",
                source.c_str(), token.name.c_str(), token.bytecode.size(), token.functions.size());

    // 2. Open the chain: four accounts with deterministic keys, funded at genesis.
    std::vector<Keypair> keys;
    const char* names[] = {"alice", "bob", "carol", "dave"};
    for (uint8_t i = 0; i < 4; ++i) {
      std::array<uint8_t, 32> seed{};
      seed[0] = static_cast<uint8_t>(0xA0 + i);
      keys.push_back(keypair_from_seed(seed));
    }
    // The default genesis (system contracts, development keys) and the
    // demo's four accounts, customers the risk engine knows from the start.
    Genesis genesis = contracts::default_genesis();
    for (const Keypair& k : keys) {
      genesis.accounts.push_back({address_of(k.pub), vm::mul(U256::from_u64(1'000'000), kUnit)});
      contracts::vouch_at_genesis(genesis, address_of(k.pub));
    }
    ContractBook book;  // decodes the token's and the system contracts' events and errors
    book.add_compiled(out);
    book.add_system_contracts();
    Hash256 final_root;
    uint64_t final_height = 0;
    U256 alice_tokens{};
    {
      RocksStoreOptions create;
      create.create = true;  // the demo makes its chain (or goes on with one it made)
      auto store = open_rocksdb_store(dir, create);
      if (!store.ok()) return fail(store.error().message);
      auto opened = Chain::open(std::move(store.value()), genesis);
      if (!opened.ok()) return fail(opened.error().message);
      Chain& chain = *opened.value();
      chain.set_verify_threads(2);
      std::printf("== chain %llu opened in %s: genesis state root %s\n",
                  static_cast<unsigned long long>(chain.chain_id()), dir.c_str(),
                  chain.head().state_root.hex().c_str());
      for (size_t i = 0; i < keys.size(); ++i)
        std::printf("   %-5s %s  balance %s\n", names[i],
                    short_addr(address_of(keys[i].pub)).c_str(),
                    balance_text(chain, address_of(keys[i].pub)).c_str());

      uint64_t time = genesis.timestamp;
      std::vector<uint64_t> nonce(keys.size(), 0);
      auto sign = [&](size_t who, Transaction t) {
        t.chain_id = chain.chain_id();
        t.nonce = nonce[who]++;
        t.gas_price = U256::from_u64(1);
        if (t.gas_limit == 0) t.gas_limit = 200'000;
        t.sign_with(keys[who]);
        // Through the wire format, as a node receives it.
        auto decoded = decode_transaction(t.encode());
        return decoded.ok() ? decoded.value() : t;
      };
      std::vector<Receipt> last_receipts;
      auto print_receipt = [&](const Receipt& r) {
        std::printf("   tx %s…  %-8s gas %6llu", r.tx_hash.hex().substr(0, 12).c_str(),
                    std::string(vm::status_name(r.status)).c_str(),
                    static_cast<unsigned long long>(r.gas_used));
        if (!r.contract.is_zero()) std::printf("  contract %s", short_addr(r.contract).c_str());
        if (r.status == vm::Status::Revert)
          std::printf("  %s", book.revert(book.find_name(token.name), r.output).c_str());
        if (r.risk)
          std::printf(
              "  risk %u, reasons [%s]: %s%s", r.risk->score, reasons_text(*r.risk).c_str(),
              decision_name(r.risk->decision),
              r.risk->hold_id ? (" as hold " + std::to_string(r.risk->hold_id)).c_str() : "");
        std::printf("\n");
        for (const Log& l : r.logs) {
          std::vector<U256> topics;
          for (const Hash256& t : l.topics) topics.push_back(t.to_u256());
          // The demo's accounts by name: "Transfer(from: alice, to: bob, ...)".
          std::string event =
              book.event(book.at(l.address.to_u256()), topics, l.data).value_or("(unknown event)");
          for (size_t i = 0; i < keys.size(); ++i) {
            const std::string full = "0x" + address_of(keys[i].pub).hex();
            for (size_t at; (at = event.find(full)) != std::string::npos;)
              event.replace(at, full.size(), names[i]);
          }
          for (contracts::DevKey k : {contracts::DevKey::Reporter1, contracts::DevKey::Reporter2,
                                      contracts::DevKey::Reporter3, contracts::DevKey::Reviewer,
                                      contracts::DevKey::Governance, contracts::DevKey::Alice,
                                      contracts::DevKey::Bob, contracts::DevKey::Carol}) {
            const std::string full = "0x" + address_of(contracts::dev_key(k).pub).hex();
            for (size_t at; (at = event.find(full)) != std::string::npos;)
              event.replace(at, full.size(), dev_role(k));
          }
          event = name_system_addresses(event);
          std::printf("      event %s\n", event.c_str());
        }
      };

      // 3. Deploy the token (1,000,000 units to alice).
      Transaction deploy;
      deploy.kind = Transaction::Kind::Deploy;
      deploy.code = token.bytecode;
      deploy.data = encode_call(token, "$init", {Value::u256(U256::from_u64(1'000'000))});
      deploy.gas_limit = 2'000'000;
      auto b1 = chain.produce_block({sign(0, deploy)}, time += 2);
      if (!b1.ok()) return fail(b1.error().message);
      if (b1->receipts.empty() || b1->receipts[0].status != vm::Status::Ok)
        return fail("the deploy failed");
      Address token_addr = b1->receipts[0].contract;
      std::printf("== block %llu: deploy\n",
                  static_cast<unsigned long long>(b1->block.header.height));
      print_receipt(b1->receipts[0]);

      // 4. A batch of signed payments in one block.
      std::vector<Transaction> batch;
      for (int i = 0; i < payments; ++i) {
        size_t from = i < 4 ? 0 : static_cast<size_t>(i % 4);
        size_t to = (from + 1 + static_cast<size_t>(i % 3)) % 4;
        if (i % 4 == 3) {  // a plain value transfer
          Transaction t;
          t.to = address_of(keys[to].pub);
          t.value = U256::from_u64(1000 + static_cast<uint64_t>(i));
          t.gas_limit = 200'000;  // scored by the risk engine before it settles
          batch.push_back(sign(from, t));
        } else {  // a token transfer
          Transaction t;
          t.to = token_addr;
          uint64_t amount = i < 4 ? 100'000 : static_cast<uint64_t>(100 * (i + 1));
          t.data = encode_call(token, "transfer",
                               {Value::u256(address_of(keys[to].pub).to_u256()),
                                Value::u256(U256::from_u64(amount))});
          batch.push_back(sign(from, t));
        }
      }
      {  // one that reverts: carol tries to send more tokens than she has
        Transaction t;
        t.to = token_addr;
        t.data = encode_call(token, "transfer",
                             {Value::u256(address_of(keys[0].pub).to_u256()),
                              Value::u256(U256::from_u64(99'000'000))});
        batch.push_back(sign(2, t));
      }
      {  // one that is rejected: a replayed nonce
        Transaction t;
        t.to = address_of(keys[1].pub);
        t.value = U256::from_u64(1);
        t.gas_limit = 200'000;
        Transaction replay = sign(3, t);
        replay.nonce = 0;
        replay.sign_with(keys[3]);
        batch.push_back(replay);
      }
      auto b2 = chain.produce_block(batch, time += 2);
      if (!b2.ok()) return fail(b2.error().message);
      std::printf("== block %llu: %zu payments submitted, %zu executed, %zu rejected\n",
                  static_cast<unsigned long long>(b2->block.header.height), batch.size(),
                  b2->receipts.size(), b2->rejected.size());
      for (const Receipt& r : b2->receipts) print_receipt(r);
      for (const Chain::Rejected& x : b2->rejected)
        std::printf("   tx %s…  rejected: %s\n", x.hash.hex().substr(0, 12).c_str(),
                    x.reason.c_str());

      std::vector<Block> blocks = {b1->block, b2->block};

      // 5. The oracle: two reporters (development keys of the default
      // genesis) report ETH/USD; the second report closes the round at the
      // median. A reader that accepts an hour-old price gets it; an hour and a
      // second later the same read is refused as stale.
      using contracts::DevKey;
      std::map<int, uint64_t> dev_nonce;
      auto sign_dev = [&](DevKey who, Transaction t) {
        t.chain_id = chain.chain_id();
        t.nonce = dev_nonce[static_cast<int>(who)]++;
        t.gas_price = U256::from_u64(1);
        if (t.gas_limit == 0) t.gas_limit = 500'000;
        t.sign_with(contracts::dev_key(who));
        return t;
      };
      auto block_of = [&](const std::vector<Transaction>& txs, const char* what) -> bool {
        auto b = chain.produce_block(txs, time += 2);
        if (!b.ok()) return fail(b.error().message);
        std::printf("== block %llu: %s\n", static_cast<unsigned long long>(b->block.header.height),
                    what);
        for (const Receipt& r : b->receipts) print_receipt(r);
        blocks.push_back(b->block);
        last_receipts = b->receipts;
        return true;
      };
      const Address hub = Address::from_u256(U256::from_u64(contracts::kOracleHubAddress));
      auto quote = [](const char* text) {
        return contracts::parse_price_source(text).value().at(0);
      };
      {
        Transaction r1 = contracts::report_transaction(
            contracts::dev_key(DevKey::Reporter1), chain.chain_id(), 0, quote("ETH/USD 2000.5"));
        Transaction r2 = contracts::report_transaction(
            contracts::dev_key(DevKey::Reporter2), chain.chain_id(), 0, quote("ETH/USD 2001.5"));
        dev_nonce[static_cast<int>(DevKey::Reporter1)] = 1;
        dev_nonce[static_cast<int>(DevKey::Reporter2)] = 1;
        if (!block_of({r1, r2}, "oracle reports for ETH/USD")) return false;
      }
      const std::vector<vm::ValType> price_types = {vm::ValType::U64, vm::ValType::U64};
      auto read_price = [&](uint64_t max_age) {
        return chain.call(hub, hub,
                          vm::call_input(vm::selector_of("price", price_types),
                                         std::vector<Value>{Value::u64(contracts::kFeedEthUsd),
                                                            Value::u64(max_age)}),
                          1'000'000);
      };
      auto fresh = read_price(3600);
      if (!fresh.ok() || fresh->status != vm::Status::Ok)
        return fail("the ETH/USD price cannot be read");
      auto fresh_value = vm::abi_decode(
          std::vector<vm::ValType>{vm::ValType::U256, vm::ValType::U64}, fresh->output);
      if (!fresh_value.ok()) return fail("the ETH/USD price is malformed");
      std::printf(
          "   price(ETH/USD, max age 1h) = %s (the median of 2000.5 and 2001.5)\n",
          compiler::format_param(compiler::AbiParam{"", "wad", {vm::ValType::U256}, false, {}, {}},
                                 fresh_value.value(), *std::make_unique<size_t>(0))
              .c_str());
      if (fresh_value->at(0).word !=
          vm::mul(U256::from_u64(2001), U256::from_u64(1'000'000'000'000'000'000ull)))
        return fail("the round's answer is not the median 2001.0");

      // 6. Payments scored by the risk engine before they settle: alice's
      // payment to bob settles; then carol's key is taken over and pays a
      // burst of large amounts to new accounts: held with its reasons, then
      // refused; the reviewer releases the first hold.
      {
        Transaction t;
        t.to = address_of(keys[1].pub);
        t.value = vm::mul(U256::from_u64(25), kUnit);
        t.gas_limit = 200'000;
        if (!block_of({sign(0, t)}, "alice pays bob: scored, settled")) return false;
        if (!last_receipts[0].risk ||
            last_receipts[0].risk->decision != PaymentRisk::Decision::Settled)
          return fail("alice's payment did not settle");
      }
      uint64_t first_hold = 0;
      size_t held = 0, refused = 0;
      {
        std::vector<Transaction> burst;
        for (uint64_t i = 0; i < 8; ++i) {
          Transaction t;
          t.to = Address::from_u256(U256::from_u64(0xF00D00 + i));
          t.value = vm::mul(U256::from_u64(200), kUnit);
          t.gas_limit = 200'000;
          burst.push_back(sign(2, t));
        }
        if (!block_of(burst, "carol's key taken over: a burst to new accounts")) return false;
        for (const Receipt& r : last_receipts) {
          if (!r.risk) continue;
          if (r.risk->decision == PaymentRisk::Decision::Held) {
            ++held;
            if (!first_hold) first_hold = r.risk->hold_id;
          }
          if (r.risk->decision == PaymentRisk::Decision::Refused) ++refused;
        }
        std::printf("   the burst: %zu held, %zu refused\n", held, refused);
        if (!held || !refused) return fail("the burst was not held and then refused");
      }
      {
        Transaction t;
        t.to = Address::from_u256(U256::from_u64(contracts::kPaymentHoldsAddress));
        t.data =
            vm::call_input(vm::selector_of("release", std::vector<vm::ValType>{vm::ValType::U64}),
                           std::vector<Value>{Value::u64(first_hold)});
        if (!block_of({sign_dev(DevKey::Reviewer, t)}, "the reviewer releases the first hold"))
          return false;
        if (last_receipts[0].status != vm::Status::Ok) return fail("the release failed");
      }
      // Past the feed's heartbeat (1 h) the price is stale for everyone.
      time += 3600;
      if (!block_of({}, "an hour later")) return false;
      auto stale = read_price(3 * 3600);
      if (!stale.ok() || stale->status != vm::Status::Revert)
        return fail("a stale price was served");
      std::printf("   price(ETH/USD, max age 3h) refused: %s\n",
                  book.revert(book.find_name("OracleHub"), stale->output).c_str());

      // 7. Money in motion: the EUR/USD price reported; the conversion pool
      // funded; the treasury pays its procurement officer 10,000.00 EURW by
      // a 2-of-3 proposal; she converts it to USDW at the oracle price and
      // pays the supplier (dave) through an escrow milestone; a stream pays
      // a contractor (bob) per second; a large native payment from the
      // treasury scores high and is held until a third owner approves.
      for (size_t i = 0; i < keys.size(); ++i) {  // the replayed nonce above counted one too many
        auto a = chain.account(address_of(keys[i].pub));
        if (a.ok()) nonce[i] = a->nonce;
      }
      if (!money_in_motion(chain, book, time, dev_nonce, sign, sign_dev, block_of, last_receipts,
                           address_of(keys[3].pub), address_of(keys[1].pub), 1, 3))
        return false;

      // 8. Credit: a lender and a borrower in the lending pool; a DUSD vault
      // liquidated when ETH falls, its auction taken below the market; the
      // lender's interest thirty days on.
      if (!credit_in_motion(chain, time, dev_nonce, sign_dev, block_of, last_receipts))
        return false;

      // 9. Balances, the state root and a verified proof.
      std::printf("== balances after block %llu\n",
                  static_cast<unsigned long long>(chain.head().height));
      for (size_t i = 0; i < keys.size(); ++i) {
        Address a = address_of(keys[i].pub);
        auto q = chain.call(a, token_addr,
                            encode_call(token, "balance_of", {Value::u256(a.to_u256())}), 100'000);
        if (!q.ok()) return fail(q.error().message);
        U256 tokens = q->status == vm::Status::Ok && q->output.size() >= 32
                          ? vm::from_be_bytes(q->output.data())
                          : U256{};
        if (i == 0) alice_tokens = tokens;
        std::printf("   %-5s tokens %10s   native %s\n", names[i],
                    vm::to_dec_string(tokens).c_str(), balance_text(chain, a).c_str());
      }
      final_root = chain.head().state_root;
      final_height = chain.head().height;
      std::printf("== state root at block %llu: %s\n",
                  static_cast<unsigned long long>(final_height), final_root.hex().c_str());
      // alice's token balance: the map (storage field 1) entry at hash2(alice, 1).
      Address alice = address_of(keys[0].pub);
      uint8_t in[64];
      vm::to_be_bytes(alice.to_u256(), in);
      vm::to_be_bytes(U256::from_u64(1), in + 32);
      U256 slot = sha256(std::span<const uint8_t>(in, 64)).to_u256();
      auto proof = chain.prove_storage(token_addr, slot);
      if (!proof.ok()) return fail(proof.error().message);
      bool ok = verify_storage_proof(proof.value());
      std::printf(
          "== proof: token storage slot of alice's balance = %s, %zu steps, %zu bytes, verified "
          "against the root: %s\n",
          vm::to_dec_string(proof->value).c_str(), proof->proof.steps.size(),
          proof->proof.encode().size(), ok ? "yes" : "NO");
      if (!ok || proof->value != alice_tokens) return fail("the proof did not verify");
      auto acct = chain.prove_account(alice);
      if (!acct.ok() || !verify_account_proof(acct.value()))
        return fail("the account proof did not verify");
      std::printf("== proof: alice's account (nonce %llu, balance %s) verified: yes\n",
                  static_cast<unsigned long long>(acct->account->nonce),
                  vm::to_dec_string(acct->account->balance).c_str());

      // 10. A second node (in memory) imports the blocks from their headers
      // and transactions: it re-executes them and holds the same state.
      auto follower = Chain::open(open_memory_store(), genesis);
      if (!follower.ok()) return fail(follower.error().message);
      for (const Block& b : blocks) {
        auto applied = follower.value()->apply_block(b);
        if (!applied.ok()) return fail("follower: " + applied.error().message);
      }
      const bool agrees = follower.value()->head() == chain.head();
      std::printf("== a second node applied blocks 1-%llu: same block hash and state root: %s\n",
                  static_cast<unsigned long long>(final_height), agrees ? "yes" : "NO");
      if (!agrees) return fail("the second node's head differs");
    }
    // 11. Reopen: the chain resumes at the last committed block.
    auto store = open_rocksdb_store(dir);
    if (!store.ok()) return fail(store.error().message);
    auto reopened = Chain::open(std::move(store.value()), genesis);
    if (!reopened.ok()) return fail(reopened.error().message);
    bool same = reopened.value()->head().state_root == final_root &&
                reopened.value()->head().height == final_height;
    std::printf("== reopened %s: head block %llu, same state root: %s\n", dir.c_str(),
                static_cast<unsigned long long>(reopened.value()->head().height),
                same ? "yes" : "NO");
    return same || fail("the reopened chain differs");
  }
};

}  // namespace

int cmd_demo(const std::vector<std::string>& args) {
  Demo d;
  bool temp = true;
#ifdef WRIT_SOURCE_DIR
  d.source = std::string(WRIT_SOURCE_DIR) + "/examples/demo_token.writ";
#else
  d.source = "examples/demo_token.writ";
#endif
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kDemoHelp, stdout);
      return kExitOk;
    } else if (a == "--data" && i + 1 < args.size()) {
      d.dir = args[++i];
      temp = false;
    } else if (a == "--source" && i + 1 < args.size()) {
      d.source = args[++i];
    } else if (a == "--payments" && i + 1 < args.size()) {
      d.payments = std::atoi(args[++i].c_str());
      if (d.payments < 1 || d.payments > 5000) {
        std::fprintf(stderr, "writ demo: --payments takes 1..5000\n");
        return kExitUsage;
      }
    } else {
      std::fprintf(stderr, "writ demo: unknown option %s\n%s", a.c_str(), kDemoHelp);
      return kExitUsage;
    }
  }
  if (temp) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "writ-demo-XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) {
      std::fprintf(stderr, "writ demo: cannot create a temporary directory\n");
      return kExitInput;
    }
    d.dir = buf.data();
  }
  bool ok = d.run();
  if (temp) {
    std::error_code ec;
    std::filesystem::remove_all(d.dir, ec);
  }
  if (ok) std::printf("demo: ok\n");
  return ok ? kExitOk : kExitTrap;
}

}  // namespace writ::cli
