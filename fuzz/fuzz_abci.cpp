// libFuzzer target over the ABCI++ application's input: the bytes a
// CometBFT connection sends, as frames, each handled by the app.
//
// For every input it checks:
//   1. framing never crashes: a frame is found, more is needed, or the
//      stream is refused (a length that is no varint, or over kMaxFrame),
//      and a frame re-framed is the same bytes;
//   2. every frame's payload gets a Response that parses and has a kind;
//   3. the app never commits a block it did not finalize: its height moves
//      only on a Commit after a FinalizeBlock, by one.
// A broken invariant calls abort(): libFuzzer reports it as a crash.
//
// Seeds (fuzz/corpus/abci): CometBFT's sequence for a chain's start and a
// block with a payment, written by this binary when WRIT_FUZZ_ABCI_SEEDS
// names a directory.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "abci.pb.h"
#include "writ/runtime/abci.hpp"

namespace {

using namespace writ::runtime;
namespace pb = ::writ::abci;

const char kGenesis[] =
    "{\"chain_id\": 7, \"timestamp\": 1700000000, \"accounts\": [{\"address\": "
    "\"0x8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394\", \"balance\": "
    "\"1000000000\"}]}";

abci::App& app() {
  static abci::App* a = [] {
    const std::string dir =
        (std::filesystem::temp_directory_path() / ("writ-fuzz-abci-" + std::to_string(::getpid())))
            .string();
    std::filesystem::remove_all(dir);
    abci::AppOptions o;
    o.data_dir = dir;
    o.genesis_json = kGenesis;
    o.log = [](const std::string&) {};
    return new abci::App(o);
  }();
  return *a;
}

std::string request(const pb::Request& r) {
  return abci::frame(r.SerializeAsString());
}

void write_seeds(const char* dir) {
  std::filesystem::create_directories(dir);
  pb::Request info, init, fin, commit, check;
  info.mutable_info()->set_version("0.38.26");
  init.mutable_init_chain()->set_chain_id("fuzz");
  init.mutable_init_chain()->set_app_state_bytes(kGenesis);
  fin.mutable_finalize_block()->set_height(1);
  fin.mutable_finalize_block()->mutable_time()->set_seconds(1700000005);
  fin.mutable_finalize_block()->add_txs("not a transaction");
  commit.mutable_commit();
  check.mutable_check_tx()->set_tx("junk");
  const std::string seeds[] = {
      request(info) + request(init),
      request(info) + request(init) + request(fin) + request(commit),
      request(check) + request(info),
  };
  for (size_t i = 0; i < std::size(seeds); ++i)
    std::ofstream(std::string(dir) + "/seed" + std::to_string(i) + ".abci", std::ios::binary)
        << seeds[i];
}

uint64_t height(abci::App& a) {
  auto lock = a.lock();
  return a.chain() ? a.chain()->head().height : 0;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("WRIT_FUZZ_ABCI_SEEDS")) {
    write_seeds(dir);
    std::printf("fuzz_abci: seeds written to %s\n", dir);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  abci::App& a = app();
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  bool finalized;  // a block is staged (perhaps by an earlier input)
  {
    auto lock = a.lock();
    finalized = a.chain() && a.chain()->staged();
  }
  for (int frames = 0; frames < 64; ++frames) {
    std::string_view payload;
    size_t used = 0;
    std::string why;
    const abci::FrameStatus st = abci::read_frame(rest, payload, used, why);
    if (st != abci::FrameStatus::kFrame) {
      if (st == abci::FrameStatus::kBad && why.empty()) std::abort();
      break;
    }
    {  // framed again, it reads back the same
      const std::string again = abci::frame(payload);
      std::string_view p2;
      size_t used2 = 0;
      if (abci::read_frame(again, p2, used2, why) != abci::FrameStatus::kFrame || p2 != payload ||
          used2 != again.size())
        std::abort();
    }
    pb::Request req;
    const bool parsed = req.ParseFromArray(payload.data(), static_cast<int>(payload.size()));
    const uint64_t before = height(a);
    pb::Response res;
    if (!res.ParseFromString(a.handle(payload)) || res.value_case() == pb::Response::VALUE_NOT_SET)
      std::abort();
    const uint64_t after = height(a);
    if (parsed && req.value_case() == pb::Request::kFinalizeBlock &&
        res.value_case() == pb::Response::kFinalizeBlock)
      finalized = true;
    const bool committed = parsed && req.value_case() == pb::Request::kCommit &&
                           res.value_case() == pb::Response::kCommit;
    if (after != before && !(committed && finalized && after == before + 1)) std::abort();
    if (committed) finalized = false;
    rest.remove_prefix(used);
  }
  return 0;
}
