#include "decoder/decoder_service.hpp"

#include "decoder/module_root.hpp"
#include "decoder/worker_host.hpp"
#include "util/error.hpp"

#include <spdlog/spdlog.h>

namespace fizzhost::decoder {

DecoderService::DecoderService(DecoderSettings settings, bool allowInsecure)
    : settings_(std::move(settings)), allowInsecure_(allowInsecure) {}

DecoderService::~DecoderService() {
    std::lock_guard lock(mutex_);
    workers_.clear();  // channels still open keep their WorkerHost (and its worker) alive
}

const WorkerEnvironment& DecoderService::environment() {
    std::lock_guard lock(mutex_);
    if (!env_) env_ = WorkerEnvironment::resolve(settings_, allowInsecure_);
    return *env_;
}

std::unique_ptr<DecoderChannel> DecoderService::open(std::shared_ptr<const plugin::Plugin> plugin) {
    if (!plugin) throw Error("decoder channel: no plugin", EINVAL);
    if (settings_.isolation == DecoderIsolation::None) {
        std::shared_ptr<const plugin::ModuleCode> code;
        {
            std::lock_guard lock(mutex_);
            code = inProcess_[plugin->sha256()].lock();
        }
        if (!code) {
            code = plugin->loadCode();
            std::lock_guard lock(mutex_);
            inProcess_[plugin->sha256()] = code;
        }
        return std::unique_ptr<DecoderChannel>(new DecoderChannel(plugin, std::move(code)));
    }

    const WorkerEnvironment& env = environment();
    std::shared_ptr<WorkerHost> worker;
    {
        std::lock_guard lock(mutex_);
        if (auto it = workers_.find(plugin->sha256()); it != workers_.end()) worker = it->second;
    }
    if (!worker) {
        // Started outside the lock: the first start waits for the worker (up to kLoadDeadline), and
        // supervise() must not wait behind it.
        auto fresh = std::make_shared<WorkerHost>(plugin, env);
        fresh->start();
        std::lock_guard lock(mutex_);
        auto [it, inserted] = workers_.emplace(plugin->sha256(), fresh);
        worker = it->second;  // another thread may have started one meanwhile: use that, drop ours
        if (inserted)
            spdlog::debug("{}: decoder confined in worker pid {} (user '{}', memory {} MiB, deadline {} ms)",
                         plugin->describe(), worker->stats().pid, env.user, env.memoryLimit >> 20,
                         env.deadline.count());
    }
    return std::unique_ptr<DecoderChannel>(new DecoderChannel(plugin, std::move(worker)));
}

void DecoderService::supervise(std::chrono::steady_clock::time_point now) noexcept {
    std::unique_lock lock(mutex_, std::try_to_lock);
    if (!lock) return;  // open() is inserting a worker; the next round supervises
    for (auto it = workers_.begin(); it != workers_.end();) {
        // Only the map holds it: no channel uses this module any more, and only open() (under the
        // lock) makes new ones. Its destructor kills the worker.
        if (it->second.use_count() == 1 && it->second->channels() == 0) {
            it = workers_.erase(it);
            continue;
        }
        it->second->supervise(now);
        ++it;
    }
}

void DecoderService::sweepStale() noexcept {
    if (settings_.isolation == DecoderIsolation::None) return;
    if (const size_t n = ModuleRoot::sweepStale(settings_.root))
        spdlog::info("decoder root '{}': removed {} folder(s) left by a process that died", settings_.root.string(), n);
}

std::vector<DecoderStats> DecoderService::stats() const {
    std::lock_guard lock(mutex_);
    std::vector<DecoderStats> out;
    for (const auto& [sha, worker] : workers_) out.push_back(worker->stats());
    return out;
}

}  // namespace fizzhost::decoder
