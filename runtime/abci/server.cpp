// The ABCI socket server: a thread per connection, each reading framed
// requests and writing their responses in order.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "writ/runtime/abci.hpp"
#include "writ/runtime/node.hpp"

namespace writ::runtime::abci {

namespace {

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

Server::Server(App& app, ServerOptions options) : app_(app), options_(std::move(options)) {}

Server::~Server() {
  stop();
  for (std::thread& t : threads_)
    if (t.joinable()) t.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

Status Server::start() {
  const std::string& a = options_.address;
  if (a.rfind("unix://", 0) == 0) {
    const std::string path = a.substr(7);
    sockaddr_un sa{};
    if (path.empty() || path.size() >= sizeof sa.sun_path)
      return Status::failure("--addr " + a + ": a socket path of 1 to " +
                             std::to_string(sizeof sa.sun_path - 1) + " bytes");
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.data(), path.size());
    ::unlink(path.c_str());
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
        ::listen(listen_fd_, 16) != 0)
      return Status::failure("cannot listen on " + a + ": " + std::strerror(errno));
    bound_ = a;
    return Status::success();
  }
  if (a.rfind("tcp://", 0) != 0)
    return Status::failure("--addr " + a + ": tcp://HOST:PORT or unix://PATH");
  auto ep = parse_loopback_endpoint(a.substr(6));
  if (!ep.ok()) return Status::failure("--addr " + a + ": " + ep.error().message);
  const bool v6 = ep.value().host.find(':') != std::string::npos;
  listen_fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return Status::failure(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage ss{};
  socklen_t len;
  if (v6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(ep.value().port);
    inet_pton(AF_INET6, ep.value().host.c_str(), &s6->sin6_addr);
    len = sizeof *s6;
  } else {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(ep.value().port);
    inet_pton(AF_INET, ep.value().host.c_str(), &s4->sin_addr);
    len = sizeof *s4;
  }
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
      ::listen(listen_fd_, 16) != 0)
    return Status::failure("cannot listen on " + a + ": " + std::strerror(errno));
  sockaddr_storage got{};
  socklen_t got_len = sizeof got;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&got), &got_len);
  const uint16_t port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&got)->sin6_port
                                 : reinterpret_cast<sockaddr_in*>(&got)->sin_port);
  Endpoint bound = ep.value();
  bound.port = port;
  bound_ = "tcp://" + bound.to_string();
  return Status::success();
}

std::string Server::address() const {
  return bound_;
}

void Server::run() {
  while (!stopping_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, 200);
    if (r <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    connections_.fetch_add(1);
    std::lock_guard<std::mutex> g(mu_);
    open_.push_back(fd);
    threads_.emplace_back([this, fd] { serve(fd); });
  }
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> g(mu_);
    for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
    threads.swap(threads_);
  }
  for (std::thread& t : threads) t.join();
}

void Server::stop() {
  stopping_.store(true);
}

void Server::serve(int fd) {
  std::string buf;
  std::vector<char> chunk(1 << 16);
  bool open = true;
  while (open) {
    // Every whole frame that arrived, answered in order.
    size_t at = 0;
    for (;;) {
      std::string_view payload;
      size_t used = 0;
      std::string why;
      const FrameStatus st = read_frame(std::string_view(buf).substr(at), payload, used, why);
      if (st == FrameStatus::kMore) break;
      if (st == FrameStatus::kBad) {
        std::fprintf(stderr, "writ abci: a connection sent %s: closed\n", why.c_str());
        write_all(fd, frame(exception_response("refused " + why)));
        open = false;
        break;
      }
      if (!write_all(fd, frame(app_.handle(payload)))) {
        open = false;
        break;
      }
      at += used;
    }
    if (!open) break;
    buf.erase(0, at);
    const ssize_t n = ::recv(fd, chunk.data(), chunk.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buf.append(chunk.data(), static_cast<size_t>(n));
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    open_.erase(std::remove(open_.begin(), open_.end(), fd), open_.end());
  }
  ::close(fd);
}

}  // namespace writ::runtime::abci
