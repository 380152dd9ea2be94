#include "decoder/worker_host.hpp"

#include "util/error.hpp"

#include <spdlog/spdlog.h>

#include <cstring>

namespace fizzhost::decoder {
namespace {

using protocol::ChannelHeader;
using protocol::ControlBlock;

constexpr std::chrono::milliseconds kFirstBackoff{10};

template <size_t N>
std::string text(const char (&a)[N]) {
    const void* nul = std::memchr(a, 0, N);
    if (!nul) return "(longer than " + std::to_string(N - 1) + " characters)";
    return std::string(a, static_cast<const char*>(nul));
}

}  // namespace

WorkerHost::WorkerHost(std::shared_ptr<const plugin::Plugin> plugin, const WorkerEnvironment& env)
    : plugin_(std::move(plugin)), env_(env), who_(plugin_->describe()),
      area_(protocol::Mode::Decode, plugin_->messageSize(), uint32_t(plugin_->fields().size()),
            plugin_->name() + "@" + plugin_->version()),
      root_(env.root, plugin_->moduleBytes(), plugin_->sha256(), who_) {
    stats_.plugin = plugin_->name();
    stats_.version = plugin_->version();
    stats_.sha256 = plugin_->sha256();
    stats_.file = plugin_->path();
    verdicts_.back() = "its decoder's worker failed (more distinct reasons than are kept; see the log)";
}

WorkerHost::~WorkerHost() { process_.reset(); }

void WorkerHost::spawn(Clock::time_point now) {
    area_.resetWorkerReport();
    killedForHang_ = false;
    described_ = false;
    process_ = std::make_unique<WorkerProcess>(env_, protocol::Mode::Decode, root_.dir().string(), root_.fileName(),
                                               area_.fd(), who_);
    startedAt_ = progressSince_ = now;
    progressAtStart_ = lastProgress_ = area_.control().progress.load(std::memory_order_relaxed);
    ++stats_.starts;
    stats_.pid = process_->pid();
}

void WorkerHost::start() {
    std::lock_guard lock(mutex_);
    spawn(Clock::now());
    const auto failure = awaitState(*process_, area_.control(), protocol::State::Ready, kLoadDeadline, env_.memoryLimit);
    if (failure) {
        process_.reset();
        throw Error(who_ + ": its decoder could not start in a confined worker (user '" + env_.user + "'): " +
                        failure->reason,
                    ECHILD);
    }
    if (auto why = disagreement()) {
        process_.reset();
        throw Error(who_ + ": " + *why, EINVAL);
    }
    described_ = true;
}

std::optional<std::string> WorkerHost::disagreement() const {
    const protocol::Description& d = area_.control().description;
    const fizzhost_plugin_metadata& r = d.record;
    const std::string why = "its descriptor, as the confined worker read it, disagrees with what the host read from "
                            "the file: ";
    if (d.magic != FIZZHOST_PLUGIN_MAGIC) return why + "bad descriptor magic";
    try {
        plugin::checkAbi(d.abiMajor, d.abiMinor, d.structSize, plugin::descriptorSizes(), "descriptor", "descriptor");
    } catch (const Error& e) {
        return why + e.what();
    }
    auto differ = [&](const char* what, const std::string& a, const std::string& b) -> std::optional<std::string> {
        if (a == b) return std::nullopt;
        return why + what + " '" + a + "' vs '" + b + "'";
    };
    std::optional<std::string> out;
    const auto& p = *plugin_;
    const std::string abi = std::to_string(d.abiMajor) + "." + std::to_string(d.abiMinor);
    std::string kinds, theirKinds, fields, theirFields;
    for (const auto& k : p.kinds()) kinds += k + ",";
    for (uint32_t k = 0; k < std::min<uint32_t>(r.kind_count, FIZZHOST_MAX_KINDS); ++k) theirKinds += text(r.kinds[k]) + ",";
    if (r.kind_count > FIZZHOST_MAX_KINDS) theirKinds += "(" + std::to_string(r.kind_count) + " kinds)";
    for (const auto& f : p.fields()) fields += f.name + ":" + std::to_string(f.type) + ",";
    const uint32_t fieldCount = d.abiMinor >= 1 ? d.fieldCount : 0;
    for (uint32_t f = 0; f < std::min<uint32_t>(fieldCount, FIZZHOST_MAX_FIELDS); ++f)
        theirFields += text(r.fields[f].name) + ":" + std::to_string(r.fields[f].type) + ",";
    if (fieldCount > FIZZHOST_MAX_FIELDS) theirFields += "(" + std::to_string(fieldCount) + " fields)";
    for (auto check : {differ("name", text(r.name), p.name()), differ("version", text(r.version), p.version()),
                       differ("program", text(r.program), p.program()),
                       differ("message map", text(r.message_map), p.messageMap()),
                       differ("message size", std::to_string(r.message_size), std::to_string(p.messageSize())),
                       differ("ABI", abi, p.abiVersion()), differ("kinds", theirKinds, kinds),
                       differ("fields", theirFields, fields)})
        if (check) return check;
    return std::nullopt;
}

uint32_t WorkerHost::attach() {
    std::lock_guard lock(mutex_);
    uint32_t index;
    if (!free_.empty()) {
        index = free_.back();
        free_.pop_back();
    } else if (next_ < protocol::kMaxChannels) {
        index = next_++;
    } else {
        throw Error(who_ + ": more than " + std::to_string(protocol::kMaxChannels) +
                        " message sources use this plugin's decoder at once",
                    EMFILE);
    }
    ControlBlock& c = area_.control();
    protocol::channelAt(area_.base(), c, index)->active.store(1, std::memory_order_release);
    if (c.channelLimit.load(std::memory_order_relaxed) < index + 1)
        c.channelLimit.store(index + 1, std::memory_order_release);
    ++stats_.channels;
    return index;
}

void WorkerHost::detach(uint32_t index) noexcept {
    std::lock_guard lock(mutex_);
    protocol::channelAt(area_.base(), area_.control(), index)->active.store(0, std::memory_order_release);
    free_.push_back(index);
    --stats_.channels;
}

size_t WorkerHost::channels() const {
    std::lock_guard lock(mutex_);
    return stats_.channels;
}

DecoderStats WorkerHost::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

std::string_view WorkerHost::verdict(uint32_t index) const noexcept {
    if (index == kMaxVerdicts - 1) return verdicts_.back();
    if (index < verdictCount_.load(std::memory_order_acquire)) return verdicts_[index];
    return "the decoder's worker failed";
}

uint32_t WorkerHost::verdictIndex(const std::string& reason) {
    const uint32_t n = verdictCount_.load(std::memory_order_relaxed);
    for (uint32_t i = 0; i < n; ++i)
        if (verdicts_[i] == reason) return i;
    if (n + 1 >= kMaxVerdicts) return kMaxVerdicts - 1;
    verdicts_[n] = reason;
    verdictCount_.store(n + 1, std::memory_order_release);  // published after the text is in place
    return n;
}

bool WorkerHost::pending() const noexcept {
    const ControlBlock& c = area_.control();
    const uint32_t limit = std::min(c.channelLimit.load(std::memory_order_relaxed), protocol::kMaxChannels);
    for (uint32_t i = 0; i < limit; ++i) {
        const ChannelHeader* ch = protocol::channelAt(area_.base(), c, i);
        if (ch->active.load(std::memory_order_relaxed) &&
            ch->done.load(std::memory_order_relaxed) < ch->head.load(std::memory_order_relaxed))
            return true;
    }
    return false;
}

// Marks every message waiting in an active channel undecodable (the decoder is disabled).
void WorkerHost::failPending(uint32_t verdict) noexcept {
    ControlBlock& c = area_.control();
    const uint32_t limit = std::min(c.channelLimit.load(std::memory_order_relaxed), protocol::kMaxChannels);
    for (uint32_t i = 0; i < limit; ++i) {
        ChannelHeader* ch = protocol::channelAt(area_.base(), c, i);
        if (!ch->active.load(std::memory_order_acquire)) continue;
        const uint64_t head = ch->head.load(std::memory_order_acquire);
        uint64_t done = ch->done.load(std::memory_order_relaxed);
        if (done >= head) continue;
        stats_.undecodable["disabled"] += head - done;
        for (; done < head; ++done) {
            protocol::SlotOutput* slot = protocol::outputAt(ch, c, done);
            slot->rc = protocol::kRcWorkerFailure;
            slot->event = {verdict, 0, 0};
        }
        ch->done.store(head, std::memory_order_release);
    }
}

// The worker died while decoding the message it recorded: its first strike, or its second (then
// the host writes the verdict into the slot and moves done past it).
bool WorkerHost::strike(const Failure& failure, bool& onMessage) {
    ControlBlock& c = area_.control();
    const uint32_t index = c.currentChannel.load(std::memory_order_relaxed);
    const uint64_t seq = c.currentSeq.load(std::memory_order_relaxed);
    if (index >= std::min(c.channelLimit.load(std::memory_order_relaxed), protocol::kMaxChannels)) return false;
    ChannelHeader* ch = protocol::channelAt(area_.base(), c, index);
    const uint64_t done = ch->done.load(std::memory_order_relaxed), head = ch->head.load(std::memory_order_acquire);
    if (!ch->active.load(std::memory_order_relaxed) || seq < done || seq >= head) return false;
    onMessage = true;
    if (!strike_ || strike_->channel != index || strike_->seq != seq) {
        strike_ = Strike{index, seq};
        return false;
    }
    strike_.reset();
    const uint32_t verdict = verdictIndex("its decoder " + failure.reason + ", twice on this message");
    protocol::SlotOutput* slot = protocol::outputAt(ch, c, seq);
    slot->rc = protocol::kRcWorkerFailure;
    slot->event = {verdict, 0, 0};
    // [done, seq) were decoded by the worker that died (it records a message only after finishing
    // the one before); they stand.
    ch->done.store(seq + 1, std::memory_order_release);
    ++stats_.undecodable[failure.category];
    spdlog::warn("{}: message {} of decoder channel {} counted undecodable: its decoder {} on it twice", who_, seq,
                 index, failure.reason);
    return true;
}

void WorkerHost::onDeath(const WorkerExit& exit, Clock::time_point now) {
    ControlBlock& c = area_.control();
    const Failure failure = describeDeath(c, {exit, killedForHang_, hungFor_, env_.memoryLimit});
    const bool decoding = c.state.load(std::memory_order_acquire) == uint32_t(protocol::State::Ready) &&
                          c.phase.load(std::memory_order_relaxed) == uint32_t(protocol::Phase::Decoding);
    const pid_t pid = process_->pid();
    process_.reset();
    ++stats_.restarts;
    stats_.lastReason = failure.reason;
    stats_.pid = 0;
    bool onMessage = false;  // it died while decoding a message still pending
    const bool verdict = decoding && strike(failure, onMessage);
    // It finished at least one message (the one it died on does not count).
    const bool progressed = c.progress.load(std::memory_order_relaxed) - progressAtStart_ > (onMessage ? 1u : 0u);

    // Workers that die young back off, unless the message that killed them is now out of the way.
    youngDeaths_ = progressed || verdict ? 0 : youngDeaths_ + 1;
    restarts_.push_back(now);
    while (!restarts_.empty() && now - restarts_.front() > kRestartWindow) restarts_.pop_front();
    if (restarts_.size() >= kMaxRestarts) {
        disabled_ = true;
        disabledUntil_ = restarts_.front() + kRestartWindow;
        stats_.disabled = true;
        stats_.disabledReason = "its decoder's worker ended " + std::to_string(restarts_.size()) + " times within " +
                                std::to_string(kRestartWindow.count()) + " s; the last " + failure.reason;
        spdlog::error("{}: decoder worker (pid {}) {}; {}: every message is undecodable until the window passes",
                      who_, pid, failure.reason, stats_.disabledReason);
        return;
    }
    const auto backoff = youngDeaths_ <= 1 ? std::chrono::milliseconds(0)
                                           : std::min(kMaxBackoff, kFirstBackoff * (1u << std::min(youngDeaths_ - 2, 10u)));
    nextStart_ = now + backoff;
    spdlog::warn("{}: decoder worker (pid {}) {}; restarting{}", who_, pid, failure.reason,
                 backoff.count() ? " in " + std::to_string(backoff.count()) + " ms" : "");
}

void WorkerHost::supervise(Clock::time_point now) noexcept {
    try {
        std::lock_guard lock(mutex_);
        ControlBlock& c = area_.control();
        if (process_) {
            if (auto exit = process_->poll()) {
                onDeath(*exit, now);
            } else if (c.state.load(std::memory_order_acquire) != uint32_t(protocol::State::Ready)) {
                if (!killedForHang_ && now - startedAt_ > kLoadDeadline) {
                    killedForHang_ = true;
                    hungFor_ = std::chrono::duration_cast<std::chrono::milliseconds>(now - startedAt_);
                    process_->kill();  // reaped by a later call
                }
            } else {
                if (!described_) {
                    described_ = true;
                    if (auto why = disagreement()) {
                        process_->killAndWait();
                        process_.reset();
                        disabled_ = stats_.disabled = true;
                        disabledUntil_ = now + kRestartWindow;
                        stats_.disabledReason = *why;
                        spdlog::error("{}: {}; decoder disabled", who_, *why);
                    }
                }
                const uint64_t progress = c.progress.load(std::memory_order_relaxed);
                if (process_ && (progress != lastProgress_ || !pending())) {
                    if (progress > progressAtStart_ + 1) youngDeaths_ = 0;  // past the one it may die on
                    lastProgress_ = progress;
                    progressSince_ = now;
                } else if (process_ && !killedForHang_ && now - progressSince_ > env_.deadline) {
                    killedForHang_ = true;
                    hungFor_ = std::chrono::duration_cast<std::chrono::milliseconds>(now - progressSince_);
                    process_->kill();
                }
            }
        }
        if (process_) return;
        if (disabled_ && now >= disabledUntil_) {
            disabled_ = stats_.disabled = false;
            restarts_.clear();
            spdlog::info("{}: decoder enabled again", who_);
        }
        if (disabled_) {
            failPending(verdictIndex("its decoder is disabled: " + stats_.disabledReason));
        } else if (now >= nextStart_) {
            try {
                spawn(now);
            } catch (const Error& e) {
                // Counted like a death: backoff, and the restart bound.
                process_.reset();
                ++stats_.restarts;
                stats_.lastReason = e.what();
                ++youngDeaths_;
                nextStart_ = now + std::min(kMaxBackoff, kFirstBackoff * (1u << std::min(youngDeaths_, 10u)));
                spdlog::error("{}", e.what());
            }
        }
    } catch (...) {
        // Logging or a string ran out of memory: the next call tries again.
    }
}

}  // namespace fizzhost::decoder
