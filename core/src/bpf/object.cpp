#include "bpf/object.hpp"

#include "util/error.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <sstream>

namespace fizzhost::bpf {
namespace {

// Large enough for the tail of any realistic verifier log; since Linux 6.4 the kernel keeps the
// end of a log that does not fit (a "rotating" log), which is where the rejection reason is.
constexpr size_t kVerifierLogSize = 4 << 20;
// Lines of the verifier log quoted in an error message; the full log goes to the debug log.
constexpr size_t kVerifierLogTailLines = 40;

int libbpfPrint(enum libbpf_print_level level, const char* format, va_list args) {
    static auto logger = [] {
        auto existing = spdlog::get("libbpf");
        return existing ? existing : spdlog::stderr_color_mt("libbpf");
    }();
    char buf[1024];
    int n = vsnprintf(buf, sizeof buf, format, args);
    size_t len = strnlen(buf, sizeof buf);
    if (len > 0 && buf[len - 1] == '\n') buf[len - 1] = 0;  // spdlog adds its own
    switch (level) {
    case LIBBPF_WARN: logger->warn("{}", buf); break;
    case LIBBPF_INFO: logger->debug("{}", buf); break;
    default: logger->trace("{}", buf); break;
    }
    return n;
}

std::string logTail(const char* log, size_t maxLines) {
    std::string text(log);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    size_t pos = text.size();
    for (size_t lines = 0; lines < maxLines && pos != std::string::npos && pos > 0; ++lines)
        pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos || pos == 0) return text;
    return "...\n" + text.substr(pos + 1);
}

}  // namespace

void installLibbpfLogger() {
    static std::once_flag once;
    std::call_once(once, [] { libbpf_set_print(libbpfPrint); });
}

std::string_view Map::name() const { return bpf_map__name(map_); }
int Map::fd() const { return bpf_map__fd(map_); }
uint32_t Map::type() const { return bpf_map__type(map_); }
uint32_t Map::keySize() const { return bpf_map__key_size(map_); }
uint32_t Map::valueSize() const { return bpf_map__value_size(map_); }
uint32_t Map::flags() const { return bpf_map__map_flags(map_); }

void Map::setMaxEntries(uint32_t entries) {
    if (int err = bpf_map__set_max_entries(map_, entries))
        throwErrno("map '" + std::string(name()) + "': set max_entries to " + std::to_string(entries), err);
}

void Map::setValueSize(uint32_t bytes) {
    if (int err = bpf_map__set_value_size(map_, bytes))
        throwErrno("map '" + std::string(name()) + "': set value size to " + std::to_string(bytes), err);
}

void Map::reuseFd(int fd) {
    if (int err = bpf_map__reuse_fd(map_, fd))
        throwErrno("map '" + std::string(name()) + "': reuse fd " + std::to_string(fd), err);
}

void Map::setInitialValue(const void* data, size_t size) {
    if (int err = bpf_map__set_initial_value(map_, data, size))
        throwErrno("map '" + std::string(name()) + "': set initial value of " + std::to_string(size) +
                       " bytes (map value is " + std::to_string(valueSize()) + ")",
                   err);
}

std::string_view Program::name() const { return bpf_program__name(prog_); }
int Program::fd() const { return bpf_program__fd(prog_); }
bool Program::isXdp() const { return bpf_program__type(prog_) == BPF_PROG_TYPE_XDP; }
uint32_t Program::type() const { return bpf_program__type(prog_); }
uint32_t Program::expectedAttachType() const { return bpf_program__expected_attach_type(prog_); }
uint32_t Program::flags() const { return bpf_program__flags(prog_); }

void Program::setType(uint32_t progType, uint32_t expectedAttachType) {
    if (int err = bpf_program__set_type(prog_, bpf_prog_type(progType)))
        throwErrno("program '" + std::string(name()) + "': set type " + std::to_string(progType), err);
    if (int err = bpf_program__set_expected_attach_type(prog_, bpf_attach_type(expectedAttachType)))
        throwErrno("program '" + std::string(name()) + "': set expected attach type " + std::to_string(expectedAttachType),
                   err);
}

void Program::setFlags(uint32_t flags) {
    if (int err = bpf_program__set_flags(prog_, flags))
        throwErrno("program '" + std::string(name()) + "': set load flags " + std::to_string(flags), err);
}

void Program::setAutoload(bool autoload) {
    if (int err = bpf_program__set_autoload(prog_, autoload))
        throwErrno("program '" + std::string(name()) + "': set autoload", err);
}

Object Object::openMemory(std::span<const unsigned char> elf, const std::string& name) {
    installLibbpfLogger();
    // Not zeroed: the kernel writes the log (NUL-terminated) only when a load fails, so its pages
    // are never touched on success. Zeroing 4 MiB cost every load ~1,000 page faults.
    auto log = std::make_unique_for_overwrite<char[]>(kVerifierLogSize);
    log[0] = 0;
    LIBBPF_OPTS(bpf_object_open_opts, opts);
    opts.object_name = name.c_str();
    // Level 0 with a buffer: libbpf asks the kernel for a log only when a load fails.
    opts.kernel_log_buf = log.get();
    opts.kernel_log_size = kVerifierLogSize;
    opts.kernel_log_level = 0;
    bpf_object* obj = bpf_object__open_mem(elf.data(), elf.size(), &opts);
    if (!obj) throwErrno("BPF object '" + name + "': open", errno);
    return Object(obj, name, std::move(log), kVerifierLogSize);
}

Object::Object(bpf_object* obj, std::string name, std::unique_ptr<char[]> log, size_t logSize)
    : obj_(obj), name_(std::move(name)), log_(std::move(log)), logSize_(logSize) {}

Object::Object(Object&& other) noexcept
    : obj_(std::exchange(other.obj_, nullptr)), name_(std::move(other.name_)), log_(std::move(other.log_)),
      logSize_(other.logSize_) {}

Object& Object::operator=(Object&& other) noexcept {
    if (this != &other) {
        destroy();
        obj_ = std::exchange(other.obj_, nullptr);
        name_ = std::move(other.name_);
        log_ = std::move(other.log_);
        logSize_ = other.logSize_;
    }
    return *this;
}

Object::~Object() { destroy(); }

void Object::destroy() noexcept {
    if (obj_) bpf_object__close(obj_);
    obj_ = nullptr;
}

std::optional<Map> Object::findMap(std::string_view name) const {
    bpf_map* map = bpf_object__find_map_by_name(obj_, std::string(name).c_str());
    if (!map) return std::nullopt;
    return Map(map);
}

std::optional<Program> Object::findProgram(std::string_view name) const {
    bpf_program* prog = bpf_object__find_program_by_name(obj_, std::string(name).c_str());
    if (!prog) return std::nullopt;
    return Program(prog);
}

std::optional<Map> Object::findSectionMap(std::string_view section) const {
    // libbpf names global-data maps after their section, prefixed with a truncated object name for
    // the default sections; a suffix match covers both spellings.
    bpf_map* map;
    bpf_object__for_each_map(map, obj_) {
        std::string_view n = bpf_map__name(map);
        if (n.size() >= section.size() && n.substr(n.size() - section.size()) == section) return Map(map);
    }
    return std::nullopt;
}

std::vector<std::string> Object::programNames() const {
    std::vector<std::string> names;
    bpf_program* prog;
    bpf_object__for_each_program(prog, obj_) names.emplace_back(bpf_program__name(prog));
    return names;
}

void Object::load() {
    log_[0] = 0;
    int err = bpf_object__load(obj_);
    if (err == 0) return;
    std::string what = "BPF object '" + name_ + "': load: " + errnoText(err);
    if (log_[0]) {
        spdlog::debug("verifier log of '{}':\n{}", name_, log_.get());
        what += "\nverifier log (end):\n" + logTail(log_.get(), kVerifierLogTailLines);
    } else {
        what += " (the kernel gave no verifier log; see libbpf messages above)";
    }
    throw Error(what, err < 0 ? -err : err);
}

}  // namespace fizzhost::bpf
