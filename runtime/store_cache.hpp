// A bounded read cache in front of a Store (see store_cache.cpp). Internal.
#pragma once

#include <memory>

#include "writ/runtime/store.hpp"

namespace writ::runtime {

std::unique_ptr<Store> with_read_cache(std::unique_ptr<Store> inner, size_t max_entries);

}  // namespace writ::runtime
