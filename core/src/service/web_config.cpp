#include "service/web_config.hpp"
#include "service/web_config_keys.hpp"

#include "service/tls_context.hpp"
#include "util/error.hpp"
#include "util/file_trust.hpp"
#include "util/text.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include <algorithm>
#include <array>
#include <set>
#include <span>

namespace fizzhost::service {
namespace {

constexpr size_t kMaxFileSize = 1 << 20;
constexpr std::array<std::string_view, 2> kTopKeys = {"tls_server_config", "basic_auth_users"};
constexpr std::array<std::string_view, 6> kTlsKeys = {"cert_file",      "key_file",    "client_auth_type",
                                                      "client_ca_file", "min_version", "max_version"};
constexpr std::array<std::string_view, 5> kAuthTypes = {"NoClientCert", "RequestClientCert", "RequireAnyClientCert",
                                                        "VerifyClientCertIfGiven", "RequireAndVerifyClientCert"};

std::string joined(std::span<const std::string_view> words) {
    std::string out;
    for (auto w : words) out += (out.empty() ? "" : ", ") + std::string(w);
    return out;
}

// libyaml's parser and document, released whatever happens.
struct Parser {
    yaml_parser_t p{};
    Parser() { yaml_parser_initialize(&p); }
    ~Parser() { yaml_parser_delete(&p); }
};
struct Document {
    yaml_document_t d{};
    bool loaded = false;
    ~Document() {
        if (loaded) yaml_document_delete(&d);
    }
};

class Reader {
public:
    Reader(std::string name, yaml_document_t& doc, std::filesystem::path base)
        : name_(std::move(name)), doc_(doc), base_(std::move(base)) {}

    std::string at(const yaml_node_t* n) const {
        return name_ + ":" + std::to_string(n->start_mark.line + 1) + ":" + std::to_string(n->start_mark.column + 1);
    }
    [[noreturn]] void fail(const yaml_node_t* n, std::string_view key, const std::string& problem) const {
        throw Error(at(n) + ": " + (key.empty() ? std::string() : std::string(key) + ": ") + problem, EINVAL);
    }
    const yaml_node_t* node(int index) const { return yaml_document_get_node(&doc_, index); }

    static bool isNull(const yaml_node_t* n) {
        if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
        const std::string_view v = text(n);
        return v.empty() || v == "~" || v == "null" || v == "Null" || v == "NULL";
    }
    static std::string_view text(const yaml_node_t* n) {
        return {reinterpret_cast<const char*>(n->data.scalar.value), n->data.scalar.length};
    }
    std::string scalar(const yaml_node_t* n, std::string_view key) const {
        if (n->type != YAML_SCALAR_NODE) fail(n, key, "expected a text value, got a " + std::string(kind(n)));
        return std::string(text(n));
    }
    static std::string_view kind(const yaml_node_t* n) {
        return n->type == YAML_MAPPING_NODE ? "mapping" : n->type == YAML_SEQUENCE_NODE ? "list" : "text value";
    }

    // The pairs of a mapping node, keys checked to be text and not repeated.
    template <typename Fn>
    void mapping(const yaml_node_t* n, std::string_view key, Fn&& each) const {
        if (n->type != YAML_MAPPING_NODE) fail(n, key, "expected a mapping, got a " + std::string(kind(n)));
        std::set<std::string> seen;
        for (auto* pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; ++pair) {
            const yaml_node_t* k = node(pair->key);
            const yaml_node_t* v = node(pair->value);
            const std::string name = scalar(k, key);
            const std::string path = key.empty() ? name : std::string(key) + "." + printable(name);
            if (!seen.insert(name).second) fail(k, path, "given twice");
            each(printable(name), name, k, v, path);
        }
    }

    std::filesystem::path file(const yaml_node_t* n, std::string_view key) const {
        const std::string v = scalar(n, key);
        if (v.empty()) fail(n, key, "a path must not be empty");
        if (hasHiddenCharacters(v)) fail(n, key, "a path must not contain control or invisible characters");
        const std::filesystem::path p(v);
        return (p.is_absolute() ? p : base_ / p).lexically_normal();
    }

private:
    std::string name_;
    yaml_document_t& doc_;
    std::filesystem::path base_;
};

int tlsVersion(const Reader& r, const yaml_node_t* n, std::string_view key) {
    const std::string v = r.scalar(n, key);
    if (v == "TLS10") return TLS1_VERSION;
    if (v == "TLS11") return TLS1_1_VERSION;
    if (v == "TLS12") return TLS1_2_VERSION;
    if (v == "TLS13") return TLS1_3_VERSION;
    r.fail(n, key, "expected TLS10, TLS11, TLS12 or TLS13, got '" + printable(v) + "'");
}

TlsServerConfig readTls(const Reader& r, const yaml_node_t* n) {
    TlsServerConfig t;
    bool cert = false, key = false, ca = false;
    r.mapping(n, "tls_server_config", [&](const std::string& shown, const std::string& name, const yaml_node_t* k,
                                          const yaml_node_t* v, const std::string& path) {
        if (std::find(kTlsKeys.begin(), kTlsKeys.end(), name) == kTlsKeys.end())
            r.fail(k, path, "'" + shown + "' is not supported by fizzhost (it reads " + joined(kTlsKeys) +
                                "); remove it rather than have it ignored");
        if (Reader::isNull(v)) return;
        if (name == "cert_file") t.certFile = r.file(v, path), t.certAt = r.at(v), cert = true;
        if (name == "key_file") t.keyFile = r.file(v, path), t.keyAt = r.at(v), key = true;
        if (name == "client_ca_file") t.clientCaFile = r.file(v, path), t.caAt = r.at(v), ca = true;
        if (name == "min_version") t.minVersion = tlsVersion(r, v, path);
        if (name == "max_version") t.maxVersion = tlsVersion(r, v, path);
        if (name == "client_auth_type") {
            t.clientAuthType = r.scalar(v, path);
            if (std::find(kAuthTypes.begin(), kAuthTypes.end(), t.clientAuthType) == kAuthTypes.end())
                r.fail(v, path, "expected one of " + joined(kAuthTypes) + ", got '" + printable(t.clientAuthType) + "'");
        }
    });
    if (!cert || !key) r.fail(n, "tls_server_config", "needs both cert_file and key_file");
    if (t.maxVersion != 0 && t.maxVersion < t.minVersion) r.fail(n, "tls_server_config", "max_version is below min_version");
    const bool verifies = t.clientAuthType == "VerifyClientCertIfGiven" || t.clientAuthType == "RequireAndVerifyClientCert";
    if (verifies && !ca) r.fail(n, "tls_server_config", "client_auth_type " + t.clientAuthType + " needs client_ca_file");
    if (ca && !verifies)
        r.fail(n, "tls_server_config",
               "client_ca_file is given but client_auth_type " + t.clientAuthType +
                   " verifies no client certificate; use VerifyClientCertIfGiven or RequireAndVerifyClientCert");
    return t;
}

}  // namespace

bool isBcryptHash(std::string_view h) {
    if (h.size() != 60 || h[0] != '$' || h[1] != '2' || (h[2] != 'a' && h[2] != 'b' && h[2] != 'y') || h[3] != '$' ||
        h[6] != '$' || !std::isdigit(static_cast<unsigned char>(h[4])) || !std::isdigit(static_cast<unsigned char>(h[5])))
        return false;
    const int cost = (h[4] - '0') * 10 + (h[5] - '0');
    if (cost < 4 || cost > 31) return false;
    return std::all_of(h.begin() + 7, h.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '/';
    });
}

WebConfig parseWebConfig(std::string_view text, const std::filesystem::path& source) {
    const std::string name = printable(source.string());
    WebConfig cfg;
    cfg.source = source;
    Parser parser;
    yaml_parser_set_input_string(&parser.p, reinterpret_cast<const unsigned char*>(text.data()), text.size());
    Document doc;
    if (!yaml_parser_load(&parser.p, &doc.d))
        throw Error(name + ":" + std::to_string(parser.p.problem_mark.line + 1) + ":" +
                        std::to_string(parser.p.problem_mark.column + 1) + ": not YAML: " +
                        (parser.p.problem ? parser.p.problem : "unreadable") +
                        (parser.p.context ? std::string(" ") + parser.p.context : std::string()),
                    EINVAL);
    doc.loaded = true;
    const yaml_node_t* root = yaml_document_get_root_node(&doc.d);
    if (!root) return cfg;  // an empty file: plain HTTP, no auth
    {
        Document next;
        if (yaml_parser_load(&parser.p, &next.d)) {
            next.loaded = true;
            if (const yaml_node_t* more = yaml_document_get_root_node(&next.d))
                throw Error(name + ":" + std::to_string(more->start_mark.line + 1) + ": a second YAML document; the web "
                                                                                    "config is one",
                            EINVAL);
        }
    }
    const Reader r(name, doc.d, std::filesystem::absolute(source).parent_path());
    if (Reader::isNull(root)) return cfg;
    r.mapping(root, "", [&](const std::string& shown, const std::string& key, const yaml_node_t* k,
                            const yaml_node_t* v, const std::string& path) {
        if (std::find(kTopKeys.begin(), kTopKeys.end(), key) == kTopKeys.end())
            r.fail(k, path, "'" + shown + "' is not supported by fizzhost (it reads " + joined(kTopKeys) +
                                "); remove it rather than have it ignored");
        if (Reader::isNull(v)) return;
        if (key == "tls_server_config") cfg.tls = readTls(r, v);
        if (key == "basic_auth_users")
            r.mapping(v, path, [&](const std::string& user, const std::string& raw, const yaml_node_t* uk,
                                   const yaml_node_t* hv, const std::string& at) {
                if (raw.empty() || raw.find(':') != std::string::npos || hasHiddenCharacters(raw))
                    r.fail(uk, at, "'" + user + "' is not a user name (no ':', no control characters)");
                const std::string hash = r.scalar(hv, at);
                if (!isBcryptHash(hash))
                    r.fail(hv, at, "not a bcrypt hash ($2y$10$ and 53 more characters; htpasswd -nBC 10 USER makes one)");
                cfg.users[raw] = hash;
            });
    });
    return cfg;
}

std::string WebSettings::describe() const {
    std::string out = tls ? "TLS (client certificates: " + clientAuth + ")" : "plain HTTP";
    out += users.empty() ? ", no auth" : ", basic auth (" + std::to_string(users.size()) + " user(s))";
    return out;
}

std::shared_ptr<const WebSettings> loadWebSettings(const std::optional<std::filesystem::path>& file,
                                                   bool allowInsecure) {
    auto settings = std::make_shared<WebSettings>();
    if (!file) return settings;
    const std::string what = printable(file->string()) + ": cannot read the web config";
    const CheckedFile checked = openChecked(*file, "web config file", "web config folder", what);
    if (!S_ISREG(checked.st.st_mode)) throw Error(what + ": not a regular file", EINVAL);
    if (!checked.problems.empty()) {
        if (!allowInsecure)
            throw Error(checked.problems.front() + "; it decides who may read the metrics. " + trustRule(), EPERM);
        for (const auto& p : checked.problems) spdlog::warn("INSECURE: {}; read anyway (--allow-insecure-plugins)", p);
    }
    std::string text;
    char buf[8192];
    for (ssize_t n; (n = ::read(checked.fd.get(), buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throwErrno(what, errno);
        text.append(buf, size_t(n));
        if (text.size() > kMaxFileSize) throw Error(what + ": larger than 1 MiB", EFBIG);
    }
    const WebConfig cfg = parseWebConfig(text, *file);
    settings->source = *file;
    settings->users = cfg.users;
    if (!cfg.users.empty()) {
        // Same cost as a real user's hash, so "no such user" and "wrong password" take as long.
        settings->dummyHash = cfg.users.begin()->second.substr(0, 7) + std::string(53, '.');
    }
    if (cfg.tls) {
        settings->tls = makeTlsContext(*cfg.tls);
        settings->clientAuth = cfg.tls->clientAuthType;
    }
    return settings;
}

std::span<const std::string_view> webConfigTopKeys() { return kTopKeys; }
std::span<const std::string_view> webConfigTlsKeys() { return kTlsKeys; }

}  // namespace fizzhost::service
