// The oracle feeder: what a reporter's node runs to sign and submit price
// reports to the oracle hub (docs/contracts/oracle.md).
//
//   auto quotes = parse_price_source("ETH/USD 2000.5\nEUR/USD 1.0825\n");
//   for (const PriceQuote& q : quotes.value())
//     txs.push_back(report_transaction(key, chain_id, nonce++, q));
//
// A price source is text, one quote per line: a feed (its name in the
// default genesis, such as ETH/USD, or its numeric id) and a price as a
// decimal number of quote units per base unit (up to 18 decimals, never
// rounded). Blank lines and lines starting with '#' are skipped. Errors
// name the line.
#pragma once

#include <string_view>
#include <vector>

#include "writ/runtime/transaction.hpp"
#include "writ/vm/result.hpp"

namespace writ::contracts {

struct PriceQuote {
  uint64_t feed = 0;
  vm::U256 price{};  // wad: 18 decimals
};

// A feed by name (the default genesis's: ETH/USD, EUR/USD, USDC/USD) or id.
vm::Result<uint64_t> parse_feed(std::string_view text);
// A positive decimal price as a wad ("2000.5", "0.000001"); at most 18
// decimals and at most the hub's MAX_PRICE (10^18).
vm::Result<vm::U256> parse_price(std::string_view text);
vm::Result<std::vector<PriceQuote>> parse_price_source(std::string_view text);

// The signed transaction that reports `q` to the oracle hub at its fixed address.
runtime::Transaction report_transaction(const runtime::Keypair& key, uint64_t chain_id,
                                        uint64_t nonce, const PriceQuote& q,
                                        uint64_t gas_limit = 500'000,
                                        const vm::U256& gas_price = vm::U256::from_u64(1));

}  // namespace writ::contracts
