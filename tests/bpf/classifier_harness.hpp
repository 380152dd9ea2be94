// Runs a plugin's real BPF program on frames with BPF_PROG_TEST_RUN and collects what its decoder
// makes of the messages.
#pragma once

#include "bpf/test_run.hpp"
#include "plugin/catalog.hpp"
#include "runtime/classifier.hpp"

#include <memory>
#include <string>
#include <vector>

namespace fizzhost::test {

class ClassifierHarness : public runtime::MessageHandler {
public:
    explicit ClassifierHarness(const std::string& plugin, runtime::ClassifierOptions opts = {},
                               const std::string& dir = FIZZHOST_PLUGIN_DIR)
        : catalog_(dir, plugin::FilePolicy{}) {
        catalog_.rescan();
        plugin_ = catalog_.find(plugin);
        classifier_ = runtime::Classifier::load(plugin_, opts);
        classifier_->setHandler(this);
    }

    struct Result {
        uint32_t verdict = 0;
        std::vector<fizzhost_event> events;
        size_t undecodable = 0;
    };

    Result run(const std::vector<uint8_t>& frame) {
        Result r;
        r.verdict = bpf::testRun(classifier_->programFd(), frame).retval;
        events_.clear();
        undecodable_ = 0;
        classifier_->drain(SIZE_MAX);
        r.events = events_;
        r.undecodable = undecodable_;
        return r;
    }

    void onMessage(const void* data, uint32_t size) noexcept override {
        fizzhost_event e{};
        if (plugin_->decode(data, size, e) == 0) events_.push_back(e);
        else ++undecodable_;
    }

    const plugin::Plugin& plugin() const { return *plugin_; }
    runtime::Classifier& classifier() { return *classifier_; }

private:
    plugin::Catalog catalog_;
    std::shared_ptr<const plugin::Plugin> plugin_;
    std::unique_ptr<runtime::Classifier> classifier_;
    std::vector<fizzhost_event> events_;
    size_t undecodable_ = 0;
};

}  // namespace fizzhost::test
