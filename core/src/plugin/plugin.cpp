#include "plugin/plugin.hpp"

#include "bpf/unique_fd.hpp"
#include "util/error.hpp"

#include <fizz/shared.h>

#include <boost/dll/shared_library.hpp>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <regex>

namespace fizzhost::plugin {
namespace {

std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

FileIdentity identityOf(const struct stat& st) {
    return {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size),
            int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

// Copies the module into an anonymous memory file and returns it. The dynamic loader hands back the
// already-loaded copy for a path (and an inode) it knows, so a rebuilt plugin dropped in place would
// silently keep running the old code; a fresh memfd is always a new object to it. Reading from the
// fd we checked also closes the window between the ownership check and the load.
UniqueFd privateCopy(int fd, const std::filesystem::path& file, size_t size) {
    UniqueFd mem(memfd_create(("fizzplugin:" + file.filename().string()).c_str(), MFD_CLOEXEC));
    if (!mem) throwErrno("plugin file " + quoted(file) + ": memfd_create", errno);
    char buf[1 << 16];
    size_t copied = 0;
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throwErrno("plugin file " + quoted(file) + ": read", errno);
        }
        if (n == 0) break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = ::write(mem.get(), buf + off, n - off);
            if (w < 0) throwErrno("plugin file " + quoted(file) + ": copy to memory", errno);
            off += w;
        }
        copied += size_t(n);
    }
    if (copied != size) throw Error("plugin file " + quoted(file) + " changed while being read", EAGAIN);
    return mem;
}

}  // namespace

std::string Plugin::abiVersion() const { return std::to_string(abiMajor_) + "." + std::to_string(abiMinor_); }

std::string_view Plugin::kindName(uint32_t k) const {
    static thread_local std::string fallback;
    if (k < kinds_.size()) return kinds_[k];
    fallback = "kind" + std::to_string(k);
    return fallback;
}

void Plugin::validate(const fizzhost_plugin_descriptor& d, const std::filesystem::path& file) {
    const std::string where = "plugin file " + quoted(file);
    if (d.magic != FIZZHOST_PLUGIN_MAGIC) throw Error(where + ": not a fizzhost plugin (bad descriptor magic)", EINVAL);
    const std::string host = std::to_string(FIZZHOST_PLUGIN_ABI_MAJOR) + "." + std::to_string(FIZZHOST_PLUGIN_ABI_MINOR);
    const std::string found = std::to_string(d.abi_major) + "." + std::to_string(d.abi_minor);
    if (d.abi_major != FIZZHOST_PLUGIN_ABI_MAJOR || d.abi_minor > FIZZHOST_PLUGIN_ABI_MINOR)
        throw Error(where + ": built for plugin ABI " + found + ", this host expects ABI " + host +
                        " (same major, minor at most " + std::to_string(FIZZHOST_PLUGIN_ABI_MINOR) +
                        "); rebuild the plugin against this fizzhost's SDK",
                    EPROTO);
    if (d.struct_size < sizeof(fizzhost_plugin_descriptor))
        throw Error(where + ": descriptor is " + std::to_string(d.struct_size) + " bytes, ABI " + found + " needs " +
                        std::to_string(sizeof(fizzhost_plugin_descriptor)),
                    EPROTO);
    auto require = [&](const char* s, const char* field) {
        if (s == nullptr || *s == 0) throw Error(where + ": descriptor field '" + field + "' is empty", EINVAL);
    };
    require(d.name, "name");
    require(d.version, "version");
    require(d.program, "program");
    require(d.message_map, "message_map");
    static const std::regex kName("[A-Za-z0-9_-]{1,64}");
    if (!std::regex_match(d.name, kName))
        throw Error(where + ": plugin name '" + d.name + "' is not [A-Za-z0-9_-]{1,64}", EINVAL);
    static const std::regex kSemver("[0-9]+\\.[0-9]+\\.[0-9]+([-+][0-9A-Za-z.+-]*)?");
    if (!std::regex_match(d.version, kSemver))
        throw Error(where + ": plugin '" + d.name + "' version '" + d.version + "' is not semver", EINVAL);
    if (d.message_size == 0) throw Error(where + ": plugin '" + d.name + "' declares a message size of 0", EINVAL);
    if (d.kind_count == 0 || d.kind_count > FIZZ_MAX_KINDS || d.kinds == nullptr)
        throw Error(where + ": plugin '" + d.name + "' declares " + std::to_string(d.kind_count) +
                        " message kinds (1.." + std::to_string(FIZZ_MAX_KINDS) + " allowed)",
                    EINVAL);
    for (uint32_t i = 0; i < d.kind_count; ++i)
        if (d.kinds[i] == nullptr || *d.kinds[i] == 0)
            throw Error(where + ": plugin '" + d.name + "' kind " + std::to_string(i) + " has no name", EINVAL);
    if (d.bpf_object == nullptr || d.bpf_object_size == 0)
        throw Error(where + ": plugin '" + d.name + "' embeds no BPF object", EINVAL);
    if (d.decode == nullptr) throw Error(where + ": plugin '" + d.name + "' has no decode function", EINVAL);
}

std::shared_ptr<const Plugin> Plugin::load(const std::filesystem::path& file, const FilePolicy& policy) {
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) throwErrno("plugin file " + quoted(file) + ": open", errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throwErrno("plugin file " + quoted(file) + ": stat", errno);
    if (!S_ISREG(st.st_mode)) throw Error("plugin file " + quoted(file) + " is not a regular file", EINVAL);
    checkOwnership(policy, file, st);
    checkFolder(policy, std::filesystem::absolute(file).parent_path());

    UniqueFd copy = privateCopy(fd.get(), file, size_t(st.st_size));
    auto library = std::make_shared<boost::dll::shared_library>();
    boost::dll::fs::error_code ec;
    library->load("/proc/self/fd/" + std::to_string(copy.get()),
                  boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
    if (ec) throw Error("plugin file " + quoted(file) + ": cannot load module: " + ec.message(), ENOEXEC);
    if (!library->has(FIZZHOST_PLUGIN_ENTRY_SYMBOL))
        throw Error("plugin file " + quoted(file) + ": not a fizzhost plugin (no '" FIZZHOST_PLUGIN_ENTRY_SYMBOL
                    "' entry point)",
                    ENOENT);
    auto entry = library->get<const fizzhost_plugin_descriptor*()>(FIZZHOST_PLUGIN_ENTRY_SYMBOL);
    const fizzhost_plugin_descriptor* d = entry();
    if (d == nullptr) throw Error("plugin file " + quoted(file) + ": entry point returned no descriptor", EINVAL);
    validate(*d, file);

    std::shared_ptr<Plugin> p(new Plugin());
    p->memfd_ = std::move(copy);
    p->library_ = std::move(library);
    p->path_ = std::filesystem::absolute(file).lexically_normal();
    p->identity_ = identityOf(st);
    p->name_ = d->name;
    p->version_ = d->version;
    p->program_ = d->program;
    p->messageMap_ = d->message_map;
    p->messageSize_ = d->message_size;
    p->abiMajor_ = d->abi_major;
    p->abiMinor_ = d->abi_minor;
    for (uint32_t i = 0; i < d->kind_count; ++i) p->kinds_.emplace_back(d->kinds[i]);
    p->object_ = d->bpf_object;
    p->objectSize_ = size_t(d->bpf_object_size);
    p->decode_ = d->decode;
    return p;
}

}  // namespace fizzhost::plugin
