// Runs a plugin's real BPF program on frames with BPF_PROG_TEST_RUN and collects what its decoder
// makes of the messages.
#pragma once

#include "bpf/test_run.hpp"
#include "plugin/catalog.hpp"
#include "runtime/instance/classifier.hpp"
#include "runtime/instance/transport_reader.hpp"

#include <memory>
#include <string>
#include <vector>

namespace fizzhost::test {

class ClassifierHarness {
public:
    explicit ClassifierHarness(const std::string& plugin, runtime::ClassifierOptions opts = {},
                               const std::string& dir = FIZZHOST_PLUGIN_DIR)
        : catalog_(dir, plugin::FilePolicy{}) {
        catalog_.rescan();
        plugin_ = catalog_.find(plugin);
        classifier_ = runtime::Classifier::load(plugin_, opts);
        reader_ = std::make_unique<runtime::TransportReader>(*classifier_);
    }

    struct Result {
        uint32_t verdict = 0;
        std::vector<fizzhost_event> events;
        size_t undecodable = 0;
    };

    Result run(const std::vector<uint8_t>& frame) {
        Result r;
        r.verdict = bpf::testRun(classifier_->programFd(), frame).retval;
        drain(SIZE_MAX, r);
        return r;
    }

    /// Decodes up to `max` waiting messages into `into`; returns how many were taken.
    size_t drain(size_t max, Result& into) {
        return reader_->drain(max, [&](const void* data, uint32_t size) {
            fizzhost_event e{};
            if (plugin_->decode(data, size, e) == 0) into.events.push_back(e);
            else ++into.undecodable;
        });
    }
    fizz_counters counters() const { return reader_->counters(); }

    const plugin::Plugin& plugin() const { return *plugin_; }
    runtime::Classifier& classifier() { return *classifier_; }

private:
    plugin::Catalog catalog_;
    std::shared_ptr<const plugin::Plugin> plugin_;
    std::unique_ptr<runtime::Classifier> classifier_;
    std::unique_ptr<runtime::TransportReader> reader_;
};

}  // namespace fizzhost::test
