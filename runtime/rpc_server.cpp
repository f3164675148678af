// The dev node's HTTP/1.1 server and client on POSIX sockets (contract in
// node.hpp; request heads are parsed by http.hpp).
#include "writ/runtime/node.hpp"

#include "http.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace writ::runtime {

using SteadyClock = std::chrono::steady_clock;

// ---- socket I/O ------------------------------------------------------------------------------

namespace {

using Deadline = SteadyClock::time_point;

// Rounded up, so that a poll() for this long ends at or after the deadline.
int remaining_ms(Deadline d) {
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(d - SteadyClock::now()).count();
  return ms <= 0 ? 0 : static_cast<int>(std::min<long long>(ms, 1'000'000));
}

// Waits for `events` on fd until the deadline. false on timeout or error.
bool wait_fd(int fd, short events, Deadline deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int ms = remaining_ms(deadline);
    int n = ::poll(&p, 1, ms);
    if (n > 0) return true;
    if (n == 0 && SteadyClock::now() >= deadline) return false;
    if (n < 0 && errno != EINTR) return false;
  }
}

bool send_all(int fd, std::string_view data, Deadline deadline) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_fd(fd, POLLOUT, deadline)) return false;
      continue;
    }
    return false;
  }
  return true;
}

enum class RecvResult { Data, Eof, Timeout, Error };

// Appends what arrives next (up to `cap` bytes) to `buf`.
RecvResult recv_some(int fd, std::string& buf, size_t cap, Deadline deadline) {
  char tmp[16384];
  for (;;) {
    ssize_t n = ::recv(fd, tmp, std::min(sizeof tmp, cap), MSG_DONTWAIT);
    if (n > 0) {
      buf.append(tmp, static_cast<size_t>(n));
      return RecvResult::Data;
    }
    if (n == 0) return RecvResult::Eof;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return RecvResult::Error;
    if (!wait_fd(fd, POLLIN, deadline))
      return SteadyClock::now() >= deadline ? RecvResult::Timeout : RecvResult::Error;
  }
}

void set_nonblocking(int fd) {
  int fl = ::fcntl(fd, F_GETFL, 0);
  if (fl >= 0) ::fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

std::string http_response(int status, std::string_view body) {
  std::string r = "HTTP/1.1 " + std::to_string(status) + " " + http_reason_phrase(status) + "\r\n";
  if (status == 405) r += "Allow: POST\r\n";
  if (!body.empty()) r += "Content-Type: application/json\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  r += body;
  return r;
}

// The body of an HTTP-level error: a JSON-RPC error (code -32600, invalid
// request) with no id, so that JSON-RPC clients read it like any other.
std::string http_error_body(const std::string& why) {
  const nlohmann::json j = {{"jsonrpc", "2.0"},
                            {"id", nullptr},
                            {"error", {{"code", -32600}, {"message", "HTTP: " + why}}}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

// ---- HTTP server ------------------------------------------------------------------------------
//
// One thread (run()) owns every connection: it polls them all, reads requests
// as their bytes arrive, writes replies as the sockets take them, and keeps
// each connection's deadline. A connection costs its buffers and nothing
// else while it is slow. A request read whole goes to a pool of `workers`
// threads, which run the handler and hand the reply back. A connection's
// slot is freed the moment its reply is written.

namespace {

struct Job {
  uint64_t conn;
  std::string body;
};
struct Answer {
  uint64_t conn;
  std::string reply;  // empty: the reply could not be made; close the connection
};

}  // namespace

struct RpcServer::Impl {
  explicit Impl(RpcServer& s) : server(s), opts(s.opts_) {}

  RpcServer& server;
  const ServerOptions& opts;

  // ---- shared by the serving thread and the workers, under mu
  std::mutex mu;
  std::condition_variable work;
  std::deque<Job> jobs;         // requests read whole, oldest first
  std::vector<Answer> answers;  // replies for the serving thread to write
  bool closing = false;         // workers leave once `jobs` is empty

  // ---- the interval block producer (block_interval_ms > 0), under tick_mu
  std::mutex tick_mu;
  std::condition_variable tick;
  bool tick_stop = false;

  // ---- the serving thread's own
  enum class State : uint8_t {
    Reading,   // receiving its request
    Working,   // its request is with the workers (not polled)
    Writing,   // sending its reply
    Draining,  // replied and half-closed: reading until the client closes
  };
  struct Conn {
    int fd = -1;
    State state = State::Reading;
    bool counted = true;  // holds one of max_connections (a refused one does not)
    Deadline deadline;    // of the current state
    std::string in;       // the request so far
    size_t body_at = std::string::npos;
    size_t length = 0;
    std::string out;  // the reply, from `sent` on still to write
    size_t sent = 0;
  };
  using ConnIt = std::map<uint64_t, Conn>::iterator;
  std::map<uint64_t, Conn> conns;  // by id: the workers' answers name their connection
  uint64_t next_id = 1;
  size_t counted = 0;   // connections holding a slot
  size_t draining = 0;  // connections in State::Draining
  Deadline accept_pause{};
  std::vector<pollfd> fds;    // of the current poll round ...
  std::vector<uint64_t> ids;  // ... and the connections they are, from conn_fds on
  size_t conn_fds = 0;

  std::chrono::milliseconds io_timeout() const {
    return std::chrono::milliseconds(opts.io_timeout_ms);
  }
  // After its reply, a connection is read (and what arrives dropped) until
  // the client closes, for at most this long: closing a socket with unread
  // bytes sends a reset, which can destroy the reply before it is read.
  std::chrono::milliseconds linger() const {
    return std::chrono::milliseconds(std::min(opts.io_timeout_ms, 1000));
  }

  void wake() {
    char b = 1;
    ssize_t n = ::write(server.wake_[1], &b, 1);  // full pipe: a wake-up is pending anyway
    (void)n;
  }

  void serve();
  void worker();
  void ticker();
  bool poll_round(bool accepting, int timeout_ms);
  void accept_all();
  void check_deadlines();
  void take_answers();
  bool read_some(uint64_t id, Conn& c);
  bool write_some(Conn& c);
  bool reply(Conn& c, std::string text);
  bool refuse(Conn& c, int status, const std::string& why) {
    return reply(c, http_response(status, http_error_body(why)));
  }
  std::string headers_too_large() const {
    return "request line and headers exceed " + std::to_string(opts.max_header) + " bytes";
  }
  void start_drain(Conn& c);
  ConnIt close_conn(ConnIt it);
};

RpcServer::RpcServer(RpcHandler& handler, ServerOptions opts)
    : handler_(&handler), opts_(std::move(opts)), impl_(std::make_unique<Impl>(*this)) {}

RpcServer::RpcServer(ServerOptions opts)
    : opts_(std::move(opts)), impl_(std::make_unique<Impl>(*this)) {}

RpcServer::~RpcServer() {
  stop();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (wake_[0] >= 0) ::close(wake_[0]);
  if (wake_[1] >= 0) ::close(wake_[1]);
}

Endpoint RpcServer::endpoint() const {
  auto e = parse_loopback_endpoint(opts_.bind);
  Endpoint out = e.ok() ? e.value() : Endpoint{"127.0.0.1", 0};
  out.port = port_;
  return out;
}

Status RpcServer::start() {
  if (listen_fd_ >= 0) return Status::failure("the server is already started");
  auto ep = parse_loopback_endpoint(opts_.bind);
  if (!ep.ok()) return Status::failure(ep.error().message);
  bool v6 = ep->host.find(':') != std::string::npos;
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::failure(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc;
  if (v6) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(ep->port);
    inet_pton(AF_INET6, ep->host.c_str(), &a.sin6_addr);
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(ep->port);
    inet_pton(AF_INET, ep->host.c_str(), &a.sin_addr);
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  // A deep backlog: bursts of connections wait in the kernel until the
  // serving thread accepts them, rather than being refused.
  if (rc != 0 || ::listen(fd, SOMAXCONN) != 0) {
    std::string why = std::strerror(errno);
    ::close(fd);
    return Status::failure("cannot listen on " + ep->to_string() + ": " + why);
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                   : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
    ::close(fd);
    return Status::failure(std::string("pipe: ") + std::strerror(errno));
  }
  set_nonblocking(fd);
  listen_fd_ = fd;
  return Status::success();
}

void RpcServer::stop() {
  stopping_.store(true);
  if (wake_[1] >= 0) {
    char b = 1;
    ssize_t n = ::write(wake_[1], &b, 1);  // full pipe: a wake-up is pending anyway
    (void)n;
  }
}

void RpcServer::run() {
  if (listen_fd_ < 0 || handler_ == nullptr) return;
  impl_->serve();
}

void RpcServer::Impl::worker() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu);
      work.wait(lock, [&] { return !jobs.empty() || closing; });
      if (jobs.empty()) return;
      job = std::move(jobs.front());
      jobs.pop_front();
    }
    Answer a{job.conn, {}};
    try {
      std::string body = server.handler_->handle(job.body);  // never throws
      a.reply = http_response(body.empty() ? 204 : 200, body);
      server.served_.fetch_add(1);
    } catch (...) {
      // Out of memory or the like: the connection is closed unanswered.
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      answers.push_back(std::move(a));
    }
    wake();
  }
}

void RpcServer::Impl::ticker() {
  const auto interval = std::chrono::milliseconds(opts.block_interval_ms);
  std::unique_lock<std::mutex> lock(tick_mu);
  while (!tick.wait_for(lock, interval, [&] { return tick_stop; })) {
    lock.unlock();
    try {
      server.handler_->produce_pending();
    } catch (...) {
      // Out of memory: the queue is dropped (as a failed commit drops it).
    }
    wake();  // the serving thread checks exit_after_blocks
    lock.lock();
  }
}

void RpcServer::Impl::serve() {
  const auto started = SteadyClock::now();
  {
    std::lock_guard<std::mutex> lock(mu);
    closing = false;
  }
  std::vector<std::thread> pool;
  for (unsigned i = 0; i < std::max(1u, opts.workers); ++i) pool.emplace_back([this] { worker(); });
  std::thread producer;
  if (opts.block_interval_ms > 0) {
    {
      std::lock_guard<std::mutex> lock(tick_mu);
      tick_stop = false;
    }
    producer = std::thread([this] { ticker(); });
  }

  while (!server.stopping_.load()) {
    int timeout = 250;
    if (opts.exit_after_ms > 0)
      timeout =
          std::min(timeout, remaining_ms(started + std::chrono::milliseconds(opts.exit_after_ms)));
    if (!poll_round(true, timeout)) break;
    if (server.stopping_.load()) break;
    if (opts.exit_after_blocks > 0 && server.handler_->blocks_produced() >= opts.exit_after_blocks)
      break;
    if (opts.exit_after_ms > 0 &&
        SteadyClock::now() - started >= std::chrono::milliseconds(opts.exit_after_ms))
      break;
  }
  server.stopping_.store(true);

  // Shutting down: new clients are refused from now on; connections still
  // sending their request are cut; requests not yet started get 503; those
  // being answered finish, and every reply is written (each within its
  // deadline).
  ::close(server.listen_fd_);
  server.listen_fd_ = -1;
  if (producer.joinable()) {
    {
      std::lock_guard<std::mutex> lock(tick_mu);
      tick_stop = true;
    }
    tick.notify_all();
    producer.join();
  }
  for (auto it = conns.begin(); it != conns.end();)
    it = it->second.state == State::Reading ? close_conn(it) : std::next(it);
  {
    std::lock_guard<std::mutex> lock(mu);
    for (const Job& j : jobs)
      answers.push_back({j.conn, http_response(503, http_error_body("the node is shutting down"))});
    jobs.clear();
    closing = true;
  }
  work.notify_all();
  for (auto& w : pool) w.join();
  // What was queued (and answered with its hash) goes into a last block or
  // blocks, as the period would have made them, before the database closes.
  if (opts.block_interval_ms > 0) {
    try {
      while (server.handler_->pending() > 0 && server.handler_->produce_pending() > 0) continue;
    } catch (...) {
      // Out of memory: the queue is dropped, as the ticker drops it.
    }
  }
  while (!conns.empty())
    if (!poll_round(false, 250)) break;
  for (auto it = conns.begin(); it != conns.end();) it = close_conn(it);
  std::lock_guard<std::mutex> lock(mu);
  answers.clear();
}

// One poll() over the connections (and the listening socket when
// `accepting`); handles whatever is ready and whatever deadline passed.
// false: poll failed.
bool RpcServer::Impl::poll_round(bool accepting, int timeout_ms) {
  fds.clear();
  ids.clear();
  fds.push_back({server.wake_[0], POLLIN, 0});
  const bool listening = accepting && SteadyClock::now() >= accept_pause;
  if (listening) fds.push_back({server.listen_fd_, POLLIN, 0});
  conn_fds = fds.size();
  Deadline until = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  if (accepting && !listening) until = std::min(until, accept_pause);
  for (auto& [id, c] : conns) {
    if (c.state == State::Working) continue;  // the workers have it
    until = std::min(until, c.deadline);
    fds.push_back({c.fd, static_cast<short>(c.state == State::Writing ? POLLOUT : POLLIN), 0});
    ids.push_back(id);
  }
  const int n = ::poll(fds.data(), fds.size(), remaining_ms(until));
  if (n < 0 && errno != EINTR) return false;
  if (n > 0 && (fds[0].revents & POLLIN)) {
    char drain[64];
    while (::read(server.wake_[0], drain, sizeof drain) > 0) {
    }
  }
  take_answers();
  for (size_t i = conn_fds; n > 0 && i < fds.size(); ++i) {
    if (!fds[i].revents) continue;
    auto it = conns.find(ids[i - conn_fds]);
    if (it == conns.end()) continue;
    Conn& c = it->second;
    bool keep = true;
    if (c.state == State::Reading) {
      keep = read_some(it->first, c);
    } else if (c.state == State::Writing) {
      keep = write_some(c);
    } else if (c.state == State::Draining) {
      char sink[16384];
      ssize_t got;
      while ((got = ::recv(c.fd, sink, sizeof sink, MSG_DONTWAIT)) > 0) {
      }
      keep = got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
    }
    if (!keep) close_conn(it);
  }
  check_deadlines();
  if (listening && n > 0 && (fds[1].revents & POLLIN)) accept_all();
  return true;
}

void RpcServer::Impl::accept_all() {
  for (;;) {
    int fd = ::accept4(server.listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      // Out of descriptors: pending clients wait in the backlog a while.
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
        accept_pause = SteadyClock::now() + std::chrono::milliseconds(100);
      return;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const uint64_t id = next_id++;
    Conn& c = conns[id];
    c.fd = fd;
    c.deadline = SteadyClock::now() + io_timeout();
    if (counted < opts.max_connections) {
      ++counted;
      continue;
    }
    // Refused with a reply the client can read, then drained like any
    // other: never a reset.
    c.counted = false;
    if (!refuse(c, 503, "too many connections")) close_conn(conns.find(id));
  }
}

void RpcServer::Impl::check_deadlines() {
  const auto now = SteadyClock::now();
  for (auto it = conns.begin(); it != conns.end();) {
    Conn& c = it->second;
    if (c.state == State::Working || now < c.deadline) {
      ++it;
      continue;
    }
    // Too slow: told so (408), then closed like any other reply.
    if (c.state == State::Reading && !c.in.empty() &&
        refuse(c, 408,
               "request not received within " + std::to_string(opts.io_timeout_ms) + " ms")) {
      ++it;
      continue;
    }
    it = close_conn(it);  // silent, a reply nobody takes, or done draining
  }
}

void RpcServer::Impl::take_answers() {
  std::vector<Answer> done;
  {
    std::lock_guard<std::mutex> lock(mu);
    done.swap(answers);
  }
  for (Answer& a : done) {
    auto it = conns.find(a.conn);
    if (it == conns.end()) continue;
    if (a.reply.empty() || !reply(it->second, std::move(a.reply))) close_conn(it);
  }
}

// Reads what has arrived; hands a whole request to the workers. false: the
// connection is to be closed.
bool RpcServer::Impl::read_some(uint64_t id, Conn& c) {
  const size_t head_cap = opts.max_header + 4;
  char tmp[16384];
  bool eof = false;
  for (;;) {
    // Never more than the request needs (a pipelined next one is not read).
    const size_t need = c.body_at == std::string::npos ? head_cap + 1 : c.body_at + c.length;
    const size_t want = need - std::min(need, c.in.size());
    if (want == 0) break;
    ssize_t n = ::recv(c.fd, tmp, std::min(sizeof tmp, want), MSG_DONTWAIT);
    if (n == 0) {
      eof = true;
      break;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return false;
    }
    c.in.append(tmp, static_cast<size_t>(n));
    if (c.body_at != std::string::npos) continue;
    c.body_at = http_header_end(c.in);
    if (c.body_at == std::string::npos) continue;
    if (c.body_at > head_cap) return refuse(c, 431, headers_too_large());
    HttpHead head;
    std::string why;
    if (int status =
            parse_http_head(std::string_view(c.in).substr(0, c.body_at), opts.max_body, head, why))
      return refuse(c, status, why);
    c.length = *head.content_length;
    if (head.expect_continue && c.in.size() - c.body_at < c.length) {
      // A fresh socket's buffer takes these 25 bytes at once.
      static constexpr std::string_view k100 = "HTTP/1.1 100 Continue\r\n\r\n";
      (void)::send(c.fd, k100.data(), k100.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
  }
  if (c.body_at == std::string::npos) {
    if (c.in.size() > head_cap) return refuse(c, 431, headers_too_large());
    return !eof;  // the client went away before the end of its headers
  }
  if (c.in.size() < c.body_at + c.length) return !eof;
  {
    std::lock_guard<std::mutex> lock(mu);
    jobs.push_back(Job{id, c.in.substr(c.body_at, c.length)});
  }
  work.notify_one();
  c.state = State::Working;
  c.in.clear();
  c.in.shrink_to_fit();
  return true;
}

// Writes what the socket takes; once all is written, drains. false: the
// connection is to be closed.
bool RpcServer::Impl::write_some(Conn& c) {
  while (c.sent < c.out.size()) {
    ssize_t n =
        ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    return false;
  }
  // Many connections draining at once would hold many descriptors: past
  // max_connections of them, a finished one is closed outright.
  if (draining >= opts.max_connections) return false;
  start_drain(c);
  return true;
}

bool RpcServer::Impl::reply(Conn& c, std::string text) {
  c.state = State::Writing;
  c.out = std::move(text);
  c.sent = 0;
  c.in.clear();
  c.in.shrink_to_fit();
  c.deadline = SteadyClock::now() + io_timeout();
  return write_some(c);
}

void RpcServer::Impl::start_drain(Conn& c) {
  ::shutdown(c.fd, SHUT_WR);
  if (c.counted) --counted;  // its slot is free at once
  c.counted = false;
  c.state = State::Draining;
  c.deadline = SteadyClock::now() + linger();
  ++draining;
}

RpcServer::Impl::ConnIt RpcServer::Impl::close_conn(ConnIt it) {
  ::close(it->second.fd);
  if (it->second.counted) --counted;
  if (it->second.state == State::Draining) --draining;
  return conns.erase(it);
}

// ---- HTTP client --------------------------------------------------------------------------------

Result<HttpReply> http_post(const Endpoint& to, std::string_view path, std::string_view body,
                            int timeout_ms) {
  if (!is_loopback_host(to.host))
    return vm::error_at(0, to.to_string() + ": not a loopback address");
  const Deadline deadline = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  bool v6 = to.host.find(':') != std::string::npos;
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return vm::error_at(0, std::string("socket: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  int rc;
  if (v6) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(to.port);
    inet_pton(AF_INET6, to.host.c_str(), &a.sin6_addr);
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(to.port);
    inet_pton(AF_INET, to.host.c_str(), &a.sin_addr);
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  if (rc != 0 && errno != EINPROGRESS)
    return vm::error_at(0, "cannot connect to " + to.to_string() + ": " + std::strerror(errno));
  if (rc != 0) {
    if (!wait_fd(fd, POLLOUT, deadline))
      return vm::error_at(0, "cannot connect to " + to.to_string() + ": timed out");
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0)
      return vm::error_at(0, "cannot connect to " + to.to_string() + ": " + std::strerror(err));
  }
  std::string req =
      "POST " + std::string(path.empty() ? "/" : path) + " HTTP/1.1\r\nHost: " + to.to_string() +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n";
  req += body;
  if (!send_all(fd, req, deadline))
    return vm::error_at(0, "sending to " + to.to_string() + " failed or timed out");
  // Read until the peer closes or the announced body is complete.
  std::string buf;
  constexpr size_t kMaxReply = 64u << 20;
  for (;;) {
    size_t at = http_header_end(buf);
    if (at != std::string::npos) {
      std::string head = ascii_lower(buf.substr(0, at));
      size_t cl = head.find("\ncontent-length:");
      if (cl != std::string::npos) {
        size_t n = std::strtoull(head.c_str() + cl + 16, nullptr, 10);
        // An interim 100 Continue has no length; the final reply follows it.
        if (buf.size() - at >= n && head.rfind("http/1.1 100", 0) != 0) break;
      }
    }
    if (buf.size() > kMaxReply)
      return vm::error_at(0, "reply from " + to.to_string() + " is too large");
    RecvResult r = recv_some(fd, buf, kMaxReply, deadline);
    if (r == RecvResult::Eof) break;
    if (r == RecvResult::Timeout)
      return vm::error_at(
          0, "no reply from " + to.to_string() + " within " + std::to_string(timeout_ms) + " ms");
    if (r == RecvResult::Error)
      return vm::error_at(0, "reading from " + to.to_string() + ": " + std::strerror(errno));
  }
  // Skip interim 1xx replies.
  size_t start = 0;
  for (;;) {
    std::string_view rest(buf.data() + start, buf.size() - start);
    if (rest.substr(0, 9) != "HTTP/1.1 " && rest.substr(0, 9) != "HTTP/1.0 ")
      return vm::error_at(0, "malformed reply from " + to.to_string());
    size_t at = http_header_end(rest);
    if (at == std::string::npos) return vm::error_at(0, "truncated reply from " + to.to_string());
    HttpReply out;
    out.status = std::atoi(std::string(rest.substr(9, 3)).c_str());
    if (out.status >= 100 && out.status < 200) {
      start += at;
      continue;
    }
    std::string head = ascii_lower(std::string(rest.substr(0, at)));
    out.body = std::string(rest.substr(at));
    size_t cl = head.find("\ncontent-length:");
    if (cl != std::string::npos) {
      size_t n = std::strtoull(head.c_str() + cl + 16, nullptr, 10);
      if (out.body.size() < n) return vm::error_at(0, "truncated reply from " + to.to_string());
      out.body.resize(n);
    }
    return out;
  }
}

}  // namespace writ::runtime
