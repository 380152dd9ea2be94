// `fizzhost classify`: runs a plugin's real BPF program on frames from chosen source addresses
// (BPF_PROG_TEST_RUN) and prints what its decoder makes of the messages, one JSON object a line.
#include "cli/commands.hpp"

#include "bpf/test_run.hpp"
#include "plugin/catalog.hpp"
#include "runtime/classifier.hpp"
#include "runtime/event_writer.hpp"
#include "runtime/frames.hpp"
#include "util/error.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>

namespace fizzhost::cli {
namespace {

class Collector : public runtime::MessageHandler {
public:
    explicit Collector(const plugin::Plugin& p) : plugin_(p) {}
    void onMessage(const void* data, uint32_t size) noexcept override {
        fizzhost_event e{};
        fizzhost_field_value values[FIZZHOST_MAX_FIELDS];
        if (plugin_.decode(data, size, e, values) != 0) {
            ++undecodable;
            return;
        }
        events.push_back(e);
        fields.push_back(fieldsJson(values));
    }
    // `,"fields":{...}` for a plugin that declares fields, else nothing.
    std::string fieldsJson(const fizzhost_field_value* values) const {
        if (plugin_.fields().empty()) return {};
        runtime::EventTemplate tpl(runtime::EventFormat::Json, {}, {}, plugin_.fields());
        std::string out(tpl.maxLine(), '\0');
        out.resize(tpl.formatFields(values, out.data()));
        return out.substr(1);  // formatFields starts with the source's closing quote
    }
    std::vector<fizzhost_event> events;
    std::vector<std::string> fields;
    size_t undecodable = 0;

private:
    const plugin::Plugin& plugin_;
};

}  // namespace

int classifyCommand(const ClassifyOptions& opts) {
    std::vector<uint32_t> addrs;
    for (const auto& a : opts.addresses) {
        auto v = runtime::parseAddress(a);
        if (!v) {
            spdlog::error("classify: '{}' is not an IPv4 address (dotted quad, or a 32-bit number)", a);
            return 2;
        }
        addrs.push_back(*v);
    }
    plugin::Catalog catalog(opts.dir.resolved(), plugin::FilePolicy::forProcess(opts.dir.allowInsecure));
    catalog.rescan();
    auto plugin = catalog.find(opts.plugin);
    auto classifier = runtime::Classifier::load(plugin, {});
    Collector collector(*plugin);
    classifier->setHandler(&collector);

    auto classifyOne = [&](uint32_t addr) {
        auto frame = runtime::udpFrame(addr);
        auto result = bpf::testRun(classifier->programFd(), frame);
        collector.events.clear();
        collector.fields.clear();
        classifier->drain(SIZE_MAX);
        const std::string src = runtime::formatAddress(addr);
        if (collector.events.empty()) fmt::print("{{\"src\":\"{}\",\"kind\":null}}\n", src);
        for (size_t i = 0; i < collector.events.size(); ++i)
            fmt::print("{{\"src\":\"{}\",\"kind\":\"{}\"{}}}\n", runtime::formatAddress(collector.events[i].src_addr),
                       plugin->kindName(collector.events[i].kind), collector.fields[i]);
        if (result.retval != 2 /* XDP_PASS */)
            spdlog::warn("classify: {} returned verdict {} for {} (classifiers should pass every frame)",
                         plugin->name(), result.retval, src);
    };

    if (!opts.addresses.empty()) {
        for (uint32_t a : addrs) classifyOne(a);
    } else {
        std::string line;
        size_t lineNo = 0;
        while (std::getline(std::cin, line)) {
            ++lineNo;
            auto first = line.find_first_not_of(" \t\r");
            if (first == std::string::npos || line[first] == '#') continue;
            auto last = line.find_last_not_of(" \t\r");
            std::string text = line.substr(first, last - first + 1);
            auto v = runtime::parseAddress(text);
            if (!v) {
                spdlog::error("classify: stdin line {}: '{}' is not an IPv4 address", lineNo, text);
                return 2;
            }
            classifyOne(*v);
        }
    }
    std::fflush(stdout);
    if (collector.undecodable)
        spdlog::error("classify: {} message(s) from {} could not be decoded", collector.undecodable, plugin->name());
    return collector.undecodable ? 1 : 0;
}

}  // namespace fizzhost::cli
