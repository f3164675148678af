// `writ debug --dap`, driven by a scripted Debug Adapter Protocol client: a
// session's requests are framed as a client frames them, the adapter runs
// them in order, and every response and event it sends back is checked
// (success, bodies, the stopped events' reasons), as are malformed frames.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string frame(const json& j) {
  const std::string body = j.dump();
  return "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// A temporary project made by `writ init`.
struct Project {
  fs::path dir;
  Project() {
    dir = fs::temp_directory_path() / ("writ-dap-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string cmd =
        std::string("cd '") + dir.string() + "' && '" + WRIT_BINARY + "' init demo > /dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }
  ~Project() { fs::remove_all(dir); }
  fs::path demo() const { return dir / "demo"; }
};

struct AdapterRun {
  int exit_code = -1;
  std::vector<json> messages;  // what the adapter sent, in order
  std::string stderr_text;
};

// Runs the adapter in `cwd` on `input` (raw bytes, frames or not).
AdapterRun run_adapter(const fs::path& cwd, const std::string& input) {
  const fs::path in = cwd / "dap.in", out = cwd / "dap.out", err = cwd / "dap.err";
  std::ofstream(in, std::ios::binary) << input;
  const std::string cmd = "cd '" + cwd.string() + "' && '" + WRIT_BINARY + "' debug --dap < '" +
                          in.string() + "' > '" + out.string() + "' 2> '" + err.string() + "'";
  AdapterRun r;
  const int status = std::system(cmd.c_str());
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream o(out, std::ios::binary);
  std::stringstream ss;
  ss << o.rdbuf();
  const std::string text = ss.str();
  for (size_t i = 0; i < text.size();) {
    const size_t h = text.find("\r\n\r\n", i);
    if (h == std::string::npos) break;
    const std::string header = text.substr(i, h - i);
    EXPECT_EQ(header.rfind("Content-Length: ", 0), 0u) << header;
    const size_t n = std::stoul(header.substr(16));
    r.messages.push_back(json::parse(text.substr(h + 4, n)));
    i = h + 4 + n;
  }
  std::ifstream e(err);
  std::stringstream es;
  es << e.rdbuf();
  r.stderr_text = es.str();
  return r;
}

json request(int seq, const std::string& command, json arguments = json::object()) {
  return {{"seq", seq}, {"type", "request"}, {"command", command}, {"arguments", arguments}};
}

// The response to request `seq`.
const json& response(const AdapterRun& r, int seq) {
  for (const json& m : r.messages)
    if (m.value("type", "") == "response" && m.value("request_seq", -1) == seq) return m;
  static const json kNone = json::object();
  ADD_FAILURE() << "no response to request " << seq;
  return kNone;
}

// The stopped events, in order.
std::vector<json> stops(const AdapterRun& r) {
  std::vector<json> out;
  for (const json& m : r.messages)
    if (m.value("type", "") == "event" && m.value("event", "") == "stopped")
      out.push_back(m["body"]);
  return out;
}

std::string storage_value(const json& variables_response, const std::string& name) {
  for (const json& v : variables_response["body"]["variables"])
    if (v["name"] == name) return v["value"].get<std::string>();
  return "(absent)";
}

TEST(Dap, ASessionThroughATestWithBreakpointsStepsBackAndStorage) {
  Project p;
  const std::string counter = (p.demo() / "src" / "counter.writ").string();
  std::string in;
  int seq = 0;
  in += frame(request(++seq, "initialize", {{"adapterID", "writ"}}));                         // 1
  in += frame(request(++seq, "launch", {{"args", {"--test", "test_increment_counts_up"}}}));  // 2
  in += frame(request(++seq, "setBreakpoints",
                      {{"source", {{"path", counter}}}, {"breakpoints", {{{"line", 11}}}}}));  // 3
  in += frame(request(++seq, "configurationDone"));                                            // 4
  in += frame(request(++seq, "threads"));                                                      // 5
  in += frame(request(++seq, "continue", {{"threadId", 1}}));                                  // 6
  in += frame(request(++seq, "stackTrace", {{"threadId", 1}}));                                // 7
  in += frame(request(++seq, "scopes", {{"frameId", 0}}));                                     // 8
  in += frame(request(++seq, "variables", {{"variablesReference", 2}}));                       // 9
  in += frame(request(++seq, "next", {{"threadId", 1}}));                                      // 10
  in += frame(request(++seq, "variables", {{"variablesReference", 2}}));                       // 11
  in += frame(request(++seq, "stepBack", {{"threadId", 1}}));                                  // 12
  in += frame(request(++seq, "variables", {{"variablesReference", 2}}));                       // 13
  in += frame(request(++seq, "reverseContinue", {{"threadId", 1}}));                           // 14
  in += frame(request(++seq, "stepIn", {{"threadId", 1}}));                                    // 15
  in += frame(request(++seq, "stepOut", {{"threadId", 1}}));                                   // 16
  in += frame(request(++seq, "bogus"));                                                        // 17
  in += frame(request(++seq, "disconnect"));                                                   // 18
  const AdapterRun r = run_adapter(p.demo(), in);
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;

  const json& init = response(r, 1);
  EXPECT_TRUE(init["success"].get<bool>());
  EXPECT_TRUE(init["body"]["supportsStepBack"].get<bool>());
  EXPECT_TRUE(init["body"]["supportsConditionalBreakpoints"].get<bool>());
  EXPECT_TRUE(response(r, 2)["success"].get<bool>()) << r.stderr_text;
  EXPECT_TRUE(response(r, 3)["body"]["breakpoints"][0]["verified"].get<bool>());
  EXPECT_EQ(response(r, 5)["body"]["threads"][0]["id"], 1);
  const json& trace = response(r, 7)["body"];
  ASSERT_EQ(trace["stackFrames"].size(), 2u);
  EXPECT_EQ(trace["stackFrames"][0]["name"], "Counter.increment");
  EXPECT_EQ(trace["stackFrames"][0]["line"], 11);
  EXPECT_EQ(trace["stackFrames"][0]["source"]["path"], counter);
  EXPECT_EQ(trace["stackFrames"][1]["name"], "CounterTest.test_increment_counts_up");
  EXPECT_EQ(response(r, 8)["body"]["scopes"][1]["name"], "Storage");
  EXPECT_EQ(storage_value(response(r, 9), "count"), "0");   // at the breakpoint, before the write
  EXPECT_EQ(storage_value(response(r, 11), "count"), "1");  // a line later
  EXPECT_EQ(storage_value(response(r, 13), "count"), "0");  // stepped back
  EXPECT_FALSE(response(r, 17)["success"].get<bool>());
  EXPECT_EQ(response(r, 17)["message"], "unsupported request 'bogus'");
  EXPECT_TRUE(response(r, 18)["success"].get<bool>());

  const std::vector<json> s = stops(r);
  ASSERT_EQ(s.size(), 7u);  // entry, continue, next, stepBack, reverseContinue, stepIn, stepOut
  EXPECT_EQ(s[0]["reason"], "entry");
  EXPECT_EQ(s[1]["reason"], "breakpoint");
  EXPECT_EQ(s[2]["reason"], "step");
  EXPECT_EQ(s[3]["reason"], "step");
  EXPECT_EQ(s[4]["description"], "start of the trace");  // no earlier hit of line 11
  // Sequence numbers rise by one, responses and events alike.
  for (size_t k = 0; k < r.messages.size(); ++k) EXPECT_EQ(r.messages[k]["seq"], k + 1);
}

TEST(Dap, LocalsOfAContractCallAndEvaluate) {
  Project p;
  const std::string token = std::string(WRIT_SOURCE_DIR) + "/tests/fixtures/token.writ";
  std::string in;
  in += frame(request(1, "initialize"));
  in += frame(request(
      2, "launch",
      {{"args",
        {token, "--call", "transfer", "--arg", "0xb0b", "--arg", "5", "--init-arg", "1000"}}}));
  in += frame(request(3, "configurationDone"));
  in += frame(request(4, "variables", {{"variablesReference", 1}}));
  in += frame(request(5, "evaluate", {{"expression", "amount"}}));
  in += frame(request(6, "evaluate", {{"expression", "nothing"}}));
  in += frame(request(7, "variables", {{"variablesReference", 99}}));
  in += frame(request(8, "disconnect"));
  const AdapterRun r = run_adapter(p.dir, in);
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  const json& locals = response(r, 4)["body"]["variables"];
  ASSERT_GE(locals.size(), 2u);
  EXPECT_EQ(locals[0]["name"], "to");
  EXPECT_EQ(locals[0]["value"], "0xb0b");
  EXPECT_EQ(locals[1]["name"], "amount");
  EXPECT_EQ(locals[1]["type"], "u256");
  EXPECT_EQ(locals[1]["value"], "5");
  EXPECT_EQ(response(r, 5)["body"]["result"], "5");
  EXPECT_FALSE(response(r, 6)["success"].get<bool>());
  EXPECT_FALSE(response(r, 7)["success"].get<bool>());
}

TEST(Dap, BadInputGetsAnErrorNotACrash) {
  Project p;
  {  // A body that is not JSON, and requests before a launch: errors, and the session goes on.
    std::string in = "Content-Length: 5\r\n\r\n{bad}";
    in += frame(request(2, "stackTrace"));
    in += frame(request(3, "launch", {{"args", {"--test", "test_nothing_is_called_this"}}}));
    in += frame(request(4, "disconnect"));
    const AdapterRun r = run_adapter(p.demo(), in);
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    ASSERT_GE(r.messages.size(), 4u);
    EXPECT_FALSE(r.messages[0]["success"].get<bool>());
    EXPECT_EQ(r.messages[0]["message"], "malformed message: not a JSON request with a command");
    EXPECT_EQ(response(r, 2)["message"], "no program: launch first");
    EXPECT_FALSE(response(r, 3)["success"].get<bool>());
    // The reason is in the response, which the client shows, and still on stderr.
    const std::string why = response(r, 3)["message"].get<std::string>();
    EXPECT_EQ(why.rfind("launch failed: writ debug: no test test_nothing_is_called_this", 0), 0u)
        << why;
    EXPECT_NE(r.stderr_text.find("no test test_nothing_is_called_this"), std::string::npos);
    EXPECT_TRUE(response(r, 4)["success"].get<bool>());
  }
  {  // A header without a length, and a length past the limit: the framing is lost, said, exit 3.
    for (const std::string& in : {std::string("Content-Type: x\r\n\r\n{}"),
                                  std::string("Content-Length: 99999999999\r\n\r\n{}"),
                                  std::string("Content-Length: 50\r\n\r\n{\"seq\":1}")}) {
      const AdapterRun r = run_adapter(p.demo(), in);
      EXPECT_EQ(r.exit_code, 3) << in;
      ASSERT_EQ(r.messages.size(), 1u) << in;
      EXPECT_EQ(r.messages[0]["event"], "output");
    }
  }
  {  // The end of the input ends the session cleanly.
    const AdapterRun r = run_adapter(p.demo(), "");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_TRUE(r.messages.empty());
  }
}

}  // namespace
