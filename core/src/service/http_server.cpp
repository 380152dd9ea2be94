#include "service/http_server.hpp"

#include "service/http_connection.hpp"
#include "service/http_request.hpp"
#include "service/password_check.hpp"
#include "service/tls_context.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <array>
#include <climits>
#include <map>
#include <unordered_map>

namespace fizzhost::service {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint64_t kListenId = 0, kStopId = 1, kVerdictId = 2, kFirstConnectionId = 16;
constexpr auto kReportInterval = std::chrono::seconds(10);
constexpr auto kLinger = std::chrono::seconds(1);
constexpr std::string_view kMetricsType = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kTextType = "text/plain; charset=utf-8";
constexpr std::string_view kAskForLogin = "WWW-Authenticate: Basic realm=\"fizzhost\", charset=\"UTF-8\"\r\n";

using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

struct Bound {
    UniqueFd fd;
    int port = 0;
    std::string address;
};

Bound bindListener(const std::string& listen) {
    const std::string what = "[metrics] listen = \"" + printable(listen) + "\": cannot serve /metrics there";
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos) throw Error(what + ": expected HOST:PORT", EINVAL);
    std::string host = listen.substr(0, colon);
    const std::string port = listen.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) host = "127.0.0.1";  // no host: this machine only; all addresses must be asked for
    addrinfo hints{};
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
        throw Error(what + ": " + ::gai_strerror(rc), EINVAL);
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> hold(found, ::freeaddrinfo);
    Bound b;
    b.fd.reset(::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!b.fd) throwErrno(what + ": socket", errno);
    const int one = 1;
    ::setsockopt(b.fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(b.fd.get(), found->ai_addr, found->ai_addrlen) != 0) throwErrno(what + ": bind", errno);
    if (::listen(b.fd.get(), SOMAXCONN) != 0) throwErrno(what + ": listen", errno);
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(b.fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) throwErrno(what + ": getsockname", errno);
    const bool v6 = ss.ss_family == AF_INET6;
    b.port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    b.address = (v6 ? "[" + host + "]" : host) + ":" + std::to_string(b.port);
    return b;
}

}  // namespace

class HttpServer::Loop {
public:
    Loop(HttpServer& server, UniqueFd listen, std::string path, Body body, HttpLimits limits)
        : server_(server), listen_(std::move(listen)), path_(std::move(path)), body_(std::move(body)), limits_(limits) {
        epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
        stop_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
        spare_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        if (!epoll_ || !stop_) throwErrno("metrics: epoll", errno);
        watch(listen_.get(), kListenId, EPOLLIN);
        watch(stop_.get(), kStopId, EPOLLIN);
        watch(passwords_.fd(), kVerdictId, EPOLLIN);
        if (RAND_bytes(salt_.data(), int(salt_.size())) != 1) throw Error("metrics: no random bytes: " + tlsErrors(), EIO);
    }

    void stop() {
        const uint64_t one = 1;
        [[maybe_unused]] ssize_t n = ::write(stop_.get(), &one, sizeof one);
    }

    void run() {
        epoll_event events[64];
        for (;;) {
            const int n = ::epoll_wait(epoll_.get(), events, 64, timeoutMs());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                spdlog::error("metrics: epoll_wait: {}; /metrics is no longer served", errnoText(errno));
                return;
            }
            for (int i = 0; i < n; ++i) {
                const uint64_t id = events[i].data.u64;
                if (id == kStopId) return;
                if (id == kListenId) acceptAll();
                else if (id == kVerdictId) takeVerdicts();
                else if (auto it = conns_.find(id); it != conns_.end()) drive(*it->second);
            }
            expire();
            std::erase_if(conns_, [](const auto& kv) { return kv.second->closed; });
        }
    }

private:
    using Conn = HttpConnection;
    using State = HttpConnection::State;

    void watch(int fd, uint64_t id, uint32_t events) {
        epoll_event ev{};
        ev.events = events;
        ev.data.u64 = id;
        if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) throwErrno("metrics: epoll_ctl", errno);
    }

    int timeoutMs() const {
        auto next = Clock::time_point::max();
        for (const auto& [id, c] : conns_)
            if (!c->closed) next = std::min(next, c->deadline);
        if (next == Clock::time_point::max()) return -1;
        const auto ms = std::chrono::ceil<std::chrono::milliseconds>(next - Clock::now()).count();
        return int(std::clamp<long long>(ms, 0, 1000));
    }

    void acceptAll() {
        for (;;) {
            UniqueFd fd(::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
            if (!fd) {
                if (errno == EINTR || errno == ECONNABORTED) continue;
                if ((errno == EMFILE || errno == ENFILE) && spare_) {
                    // Out of descriptors: take the connection with the one kept for this and close
                    // it, or the level-triggered listener would wake the loop for ever.
                    spare_.reset();
                    UniqueFd drop(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
                    spare_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
                    ++server_.counters_.refused;
                    report();
                    if (drop) continue;
                }
                return;
            }
            ++server_.counters_.accepted;
            if (open() >= limits_.maxConnections && !makeRoom()) {
                ++server_.counters_.refused;
                report();
                continue;  // closed at once: it never waits in front of anyone
            }
            auto c = std::make_unique<Conn>();
            c->id = nextId_++;
            c->fd = std::move(fd);
            c->since = Clock::now();
            c->deadline = c->since + limits_.requestTimeout;
            if (const auto settings = server_.settings(); settings->tls) {
                c->ssl.reset(SSL_new(settings->tls.get()));
                if (!c->ssl || SSL_set_fd(c->ssl.get(), c->fd.get()) != 1) {
                    ERR_clear_error();
                    continue;
                }
                SSL_set_accept_state(c->ssl.get());
            }
            // Edge-triggered: every handler reads and writes until EAGAIN, so no edge is lost.
            watch(c->fd.get(), c->id, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
            conns_.emplace(c->id, std::move(c));
        }
    }

    size_t open() const {
        return size_t(std::count_if(conns_.begin(), conns_.end(), [](const auto& kv) { return !kv.second->closed; }));
    }

    // The connection waiting longest for its request makes room; one being answered never does.
    bool makeRoom() {
        Conn* oldest = nullptr;
        for (auto& [id, c] : conns_)
            if (!c->closed && (c->state == State::Reading || c->state == State::Draining) &&
                (!oldest || c->since < oldest->since))
                oldest = c.get();
        if (!oldest) return false;
        oldest->close();
        ++server_.counters_.displaced;
        report();
        return true;
    }

    void report() {
        const auto now = Clock::now();
        if (now < nextReport_) return;
        nextReport_ = now + kReportInterval;
        spdlog::warn("metrics: {} connection(s) at once, the most max_connections allows: {} closed for newer ones "
                     "and {} refused so far (said at most every {} s)",
                     open(), server_.counters_.displaced.load(), server_.counters_.refused.load(),
                     kReportInterval.count());
    }

    void drive(Conn& c) {
        if (c.closed) return;
        if (c.ssl && !c.handshaken && c.handshake() != Io::Ready) return;
        for (;;) {
            if (c.closed || c.state == State::Authorizing) return;
            if (c.state == State::Draining) {
                c.drain();
                return;
            }
            if (c.state == State::Writing) {
                if (c.flush() != Io::Ready) return;
                if (c.closeAfter && c.ssl) return c.close();
                if (c.closeAfter) {
                    ::shutdown(c.fd.get(), SHUT_WR);
                    c.state = State::Draining;
                    c.deadline = Clock::now() + kLinger;
                    continue;
                }
                c.state = State::Reading;
                c.since = Clock::now();
                c.deadline = c.since + limits_.requestTimeout;
            }
            HeadParse p = parseRequestHead(c.in);
            if (p.status == HeadStatus::Incomplete) {
                if (c.readMore() != Io::Ready) return;
                continue;
            }
            if (p.status != HeadStatus::Complete) {
                reply(c, p.status == HeadStatus::TooLarge ? 431 : 400, false);
                continue;
            }
            c.in.erase(0, p.consumed);
            handle(c, std::move(p.request));
        }
    }

    void handle(Conn& c, HttpRequest req) {
        const auto settings = server_.settings();
        if (!settings->users.empty()) {
            auto creds = req.authorization ? basicCredentials(*req.authorization) : std::nullopt;
            if (!creds) return unauthorized(c, req);
            const Digest d = digest(creds->second);
            if (knownLogin(settings, creds->first, d)) return answer(c, req);
            const auto user = settings->users.find(creds->first);
            const bool known = user != settings->users.end();
            if (!passwords_.submit(c.id, known ? user->second : settings->dummyHash, std::move(creds->second)))
                return reply(c, 503, false, req.method == "HEAD", "Retry-After: 1\r\n");
            c.state = State::Authorizing;
            c.deadline = Clock::now() + limits_.responseTimeout;
            c.pending = std::move(req);
            c.checkedWith = settings;
            c.login = std::move(creds->first);
            c.loginDigest = d;
            c.knownUser = known;
            return;
        }
        answer(c, req);
    }

    void answer(Conn& c, const HttpRequest& req) {
        const bool head = req.method == "HEAD";
        if (req.method != "GET" && !head) return reply(c, 405, req.keepAlive, false, "Allow: GET, HEAD\r\n");
        if (req.path != path_) return reply(c, 404, req.keepAlive, head);
        std::string body;
        try {
            body = body_();
        } catch (const std::exception& e) {
            spdlog::warn("metrics: building the exposition failed: {}", e.what());
            return reply(c, 500, false, head);
        }
        ++server_.counters_.served;
        reply(c, 200, req.keepAlive, head, {}, body, kMetricsType);
    }

    void unauthorized(Conn& c, const HttpRequest& req) {
        ++server_.counters_.authRefused;
        reply(c, 401, req.keepAlive, req.method == "HEAD", kAskForLogin);
    }

    void reply(Conn& c, int status, bool keepAlive, bool headOnly = false, std::string_view headers = {},
               std::string_view body = {}, std::string_view type = kTextType) {
        const std::string reason = std::string(reasonPhrase(status)) + "\n";
        ++c.requests;
        keepAlive = keepAlive && c.requests < kMaxRequestsPerConnection;
        c.out = httpResponse(status, type, status == 200 ? body : std::string_view(reason), keepAlive, headOnly, headers);
        c.sent = 0;
        c.state = State::Writing;
        c.closeAfter = !keepAlive;
        c.deadline = Clock::now() + limits_.responseTimeout;
    }

    void takeVerdicts() {
        for (const auto& [ticket, ok] : passwords_.results()) {
            auto it = conns_.find(ticket);
            if (it == conns_.end() || it->second->closed || it->second->state != State::Authorizing) continue;
            Conn& c = *it->second;
            c.checkedWith.reset();
            if (ok && c.knownUser) {
                remember(server_.settings(), c.login, c.loginDigest);
                answer(c, c.pending);
            } else {
                unauthorized(c, c.pending);
            }
            drive(c);
        }
    }

    Digest digest(const std::string& password) const {
        std::string salted(reinterpret_cast<const char*>(salt_.data()), salt_.size());
        salted += password;
        Digest d{};
        SHA256(reinterpret_cast<const unsigned char*>(salted.data()), salted.size(), d.data());
        OPENSSL_cleanse(salted.data(), salted.size());
        return d;
    }

    // Logins that matched, per user, for the settings they were checked against (a reload that
    // changes the users forgets them all).
    bool knownLogin(const std::shared_ptr<const WebSettings>& s, const std::string& user, const Digest& d) const {
        if (s != loginsFor_) return false;
        const auto it = logins_.find(user);
        return it != logins_.end() && CRYPTO_memcmp(it->second.data(), d.data(), d.size()) == 0;
    }
    void remember(const std::shared_ptr<const WebSettings>& s, const std::string& user, const Digest& d) {
        if (s != loginsFor_) {
            logins_.clear();
            loginsFor_ = s;
        }
        if (s->users.count(user)) logins_[user] = d;  // bounded by the users configured
    }

    void expire() {
        const auto now = Clock::now();
        for (auto& [id, c] : conns_) {
            if (c->closed || now < c->deadline) continue;
            if (c->state == State::Draining) {
                c->close();
                continue;
            }
            ++server_.counters_.timedOut;
            if (c->state == State::Reading && !c->in.empty() && (!c->ssl || c->handshaken)) {
                c->out = httpResponse(408, kTextType, "Request Timeout\n", false);
                c->sent = 0;
                c->flush();  // once, without waiting: the deadline is the deadline
            }
            c->close();
        }
    }

    HttpServer& server_;
    UniqueFd listen_, epoll_, stop_, spare_;
    std::string path_;
    Body body_;
    HttpLimits limits_;
    PasswordCheck passwords_;
    std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
    uint64_t nextId_ = kFirstConnectionId;
    std::array<unsigned char, 16> salt_{};
    std::shared_ptr<const WebSettings> loginsFor_;
    std::map<std::string, Digest> logins_;
    Clock::time_point nextReport_{};
};

HttpServer::HttpServer(const std::string& listen, std::string path, Body body, HttpLimits limits,
                       std::shared_ptr<const WebSettings> settings)
    : settings_(settings ? std::move(settings) : std::make_shared<const WebSettings>()) {
    Bound b = bindListener(listen);
    port_ = b.port;
    address_ = b.address;
    loop_ = std::make_unique<Loop>(*this, std::move(b.fd), std::move(path), std::move(body), limits);
    thread_ = std::thread([this] { loop_->run(); });
}

HttpServer::~HttpServer() {
    loop_->stop();
    thread_.join();
}

void HttpServer::setSettings(std::shared_ptr<const WebSettings> settings) {
    std::lock_guard lock(settingsMutex_);
    settings_ = std::move(settings);
}

std::shared_ptr<const WebSettings> HttpServer::settings() const {
    std::lock_guard lock(settingsMutex_);
    return settings_;
}

}  // namespace fizzhost::service
