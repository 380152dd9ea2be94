// deploy/kubernetes without a cluster: the ConfigMap's fizzhost.toml is a configuration the host
// accepts (with the config watch on, since a ConfigMap cannot send SIGHUP), and the DaemonSet grants
// exactly the capabilities the systemd unit bounds the host to (tested in test_service_systemd.cpp).
#include "config/config_loader.hpp"
#include "support/netns.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

std::string readSource(const std::string& relative) {
    std::ifstream in(std::string(FIZZHOST_SOURCE_DIR) + "/" + relative);
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The block scalar under `key: |` in a YAML text, its indentation removed.
std::string blockScalar(const std::string& yaml, const std::string& key) {
    std::istringstream in(yaml);
    std::string line, out;
    size_t indent = std::string::npos;
    bool inside = false;
    while (std::getline(in, line)) {
        if (!inside) {
            inside = line.find(key + ": |") != std::string::npos;
            continue;
        }
        const size_t first = line.find_first_not_of(' ');
        if (first == std::string::npos) {
            out += "\n";
            continue;
        }
        if (indent == std::string::npos) indent = first;
        if (first < indent) break;
        out += line.substr(indent) + "\n";
    }
    return out;
}

}  // namespace

TEST_CASE("the Kubernetes ConfigMap holds a config the host accepts, watching itself", "[unit]") {
    const std::string toml = blockScalar(readSource("deploy/kubernetes/configmap.yaml"), "fizzhost.toml");
    INFO(toml);
    REQUIRE_FALSE(toml.empty());
    auto cfg = config::parseConfig(toml, "/etc/fizzhost/fizzhost.toml", "/usr/lib/fizzhost/plugins");
    CHECK(cfg.service.watchConfig);
    CHECK(cfg.metrics.listen == "0.0.0.0:9464");
    CHECK(cfg.controlSocket == "/run/fizzhost/fizzhost.sock");
    CHECK(cfg.interfaces.size() == 1);
}

TEST_CASE("the DaemonSet grants the unit's capabilities, mounts bpffs and /run/fizzhost, and is annotated "
          "for scraping",
          "[unit]") {
    const std::string ds = readSource("deploy/kubernetes/daemonset.yaml");
    const std::string unit = readSource("packaging/systemd/fizzhost.service.in");
    std::smatch m;
    REQUIRE(std::regex_search(unit, m, std::regex("\nCapabilityBoundingSet=([A-Z_ ]+)\n")));
    std::set<std::string> unitCaps;
    std::istringstream words(m[1]);
    for (std::string w; words >> w;) unitCaps.insert(w.substr(4));  // CAP_BPF -> BPF
    REQUIRE(std::regex_search(ds, m, std::regex("add: \\[([^\\]]*)\\]")));
    std::set<std::string> podCaps;
    const std::string list = m[1];
    const std::regex quoted("\"([A-Z_]+)\"");
    for (std::sregex_iterator it(list.begin(), list.end(), quoted), end; it != end; ++it)
        podCaps.insert((*it)[1]);
    CHECK(podCaps == unitCaps);
    CHECK_THAT(ds, Contains("drop: [\"ALL\"]"));
    CHECK_THAT(ds, Contains("hostNetwork: true"));
    CHECK_THAT(ds, Contains("path: /sys/fs/bpf"));
    CHECK_THAT(ds, Contains("path: /run/fizzhost"));
    CHECK_THAT(ds, Contains("path: /var/lib/fizzhost"));  // [decoders] root: the workers' chroot folders
    CHECK_THAT(ds, Contains("prometheus.io/scrape: \"true\""));
    CHECK_THAT(ds, Contains("prometheus.io/port: \"9464\""));
    CHECK_THAT(ds, Contains("name: fizzhost-config"));
}
