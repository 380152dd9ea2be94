#include "plugin/plugin.hpp"

#include "plugin/elf_module.hpp"
#include "plugin/module_hash.hpp"
#include "util/error.hpp"

#include <fizz/shared.h>

#include <boost/dll/shared_library.hpp>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

namespace fizzhost::plugin {
namespace {

std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

// Copies the checked bytes into an anonymous memory file, sealed so that nothing (not even this
// process) can change them between the checks and the load. The dynamic loader hands back the
// already-loaded copy for a path (and an inode) it knows, so a rebuilt plugin dropped in place would
// silently keep running the old code; a fresh memfd is always a new object to it.
UniqueFd sealedCopy(const ModuleFile& m) {
    const std::string where = "plugin file " + quoted(m.path);
    UniqueFd mem(memfd_create(("fizzplugin:" + m.path.filename().string()).c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!mem) throwErrno(where + ": memfd_create", errno);
    for (size_t off = 0; off < m.bytes.size();) {
        ssize_t w = ::write(mem.get(), m.bytes.data() + off, m.bytes.size() - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            throwErrno(where + ": copy to memory", errno);
        }
        off += size_t(w);
    }
    if (::fcntl(mem.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
        throwErrno(where + ": seal the private copy", errno);
    return mem;
}

std::string describe(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
}

// The runtime descriptor must say what the metadata record said: the catalog listed, indexed and
// chose the plugin by the record, and the host must run exactly that.
void requireAgreement(const Plugin& p, const PluginInfo& info) {
    const std::string where = "plugin file " + quoted(info.path) + ": descriptor disagrees with the metadata record: ";
    auto differ = [&](const char* what, const std::string& a, const std::string& b) {
        if (a != b) throw Error(where + what + " '" + a + "' vs '" + b + "'", EINVAL);
    };
    differ("name", p.name(), info.name);
    differ("version", p.version(), info.version);
    differ("program", p.program(), info.program);
    differ("message map", p.messageMap(), info.messageMap);
    differ("message size", std::to_string(p.messageSize()), std::to_string(info.messageSize));
    differ("ABI", p.abiVersion(), info.abiVersion());
    differ("kinds", describe(p.kinds()), describe(info.kinds));
    if (p.fields() != info.fields) throw Error(where + "fields differ", EINVAL);
}

}  // namespace

std::string Plugin::abiVersion() const { return std::to_string(abiMajor_) + "." + std::to_string(abiMinor_); }

std::string_view Plugin::kindName(uint32_t k) const {
    static thread_local std::string fallback;
    if (k < kinds_.size()) return kinds_[k];
    fallback = "kind" + std::to_string(k);
    return fallback;
}

int Plugin::decode(const void* raw, uint32_t size, fizzhost_event& out, fizzhost_field_value* fields) const noexcept {
    if (decodeFields_ == nullptr) return decode_(raw, size, &out);
    const uint32_t n = uint32_t(fields_.size());
    for (uint32_t i = 0; i < n; ++i) fields[i].set = 0;
    return decodeFields_(raw, size, &out, fields, n);
}

int Plugin::decode(const void* raw, uint32_t size, fizzhost_event& out) const noexcept {
    fizzhost_field_value scratch[FIZZHOST_MAX_FIELDS];
    return decode(raw, size, out, scratch);
}

void Plugin::validate(const fizzhost_plugin_descriptor& d, const std::filesystem::path& file) {
    const std::string where = "plugin file " + quoted(file);
    if (d.magic != FIZZHOST_PLUGIN_MAGIC) throw Error(where + ": not a fizzhost plugin (bad descriptor magic)", EINVAL);
    checkAbi(d.abi_major, d.abi_minor, d.struct_size, descriptorSizes(), "descriptor", where);
    auto require = [&](const char* s, const char* field) {
        if (s == nullptr || *s == 0) throw Error(where + ": descriptor field '" + field + "' is empty", EINVAL);
    };
    require(d.name, "name");
    require(d.version, "version");
    require(d.program, "program");
    require(d.message_map, "message_map");
    checkPluginName(d.name, where);
    checkPluginVersion(d.name, d.version, where);
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
    if (d.abi_minor >= 1) {  // members ABI 1.1 added; read only when the plugin's minor has them
        if (d.field_count > FIZZHOST_MAX_FIELDS || (d.field_count != 0 && d.fields == nullptr))
            throw Error(where + ": plugin '" + d.name + "' declares " + std::to_string(d.field_count) +
                            " fields (at most " + std::to_string(FIZZHOST_MAX_FIELDS) + ")",
                        EINVAL);
        if (d.decode_fields == nullptr)
            throw Error(where + ": plugin '" + d.name + "' has no decode_fields function", EINVAL);
    }
}

std::shared_ptr<const Plugin> Plugin::load(const ModuleFile& module, const PluginInfo& info) {
    const std::string where = "plugin file " + quoted(module.path);
    UniqueFd copy = sealedCopy(module);
    auto library = std::make_shared<boost::dll::shared_library>();
    boost::dll::fs::error_code ec;
    library->load("/proc/self/fd/" + std::to_string(copy.get()),
                  boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
    if (ec) throw Error(where + ": cannot load module: " + ec.message(), ENOEXEC);
    if (!library->has(FIZZHOST_PLUGIN_ENTRY_SYMBOL))
        throw Error(where + ": not a fizzhost plugin (no '" FIZZHOST_PLUGIN_ENTRY_SYMBOL "' entry point)", ENOENT);
    auto entry = library->get<const fizzhost_plugin_descriptor*()>(FIZZHOST_PLUGIN_ENTRY_SYMBOL);
    const fizzhost_plugin_descriptor* d = entry();
    if (d == nullptr) throw Error(where + ": entry point returned no descriptor", EINVAL);
    validate(*d, module.path);
    if (!info.hasMetadata && d->abi_minor >= 1)
        throw Error(where + ": an ABI " + std::to_string(d->abi_major) + "." + std::to_string(d->abi_minor) +
                        " module without its metadata record ('" FIZZHOST_METADATA_SECTION "')",
                    EINVAL);

    std::shared_ptr<Plugin> p(new Plugin());
    p->memfd_ = std::move(copy);
    p->library_ = std::move(library);
    p->path_ = std::filesystem::absolute(module.path).lexically_normal();
    p->identity_ = module.identity;
    p->sha256_ = sha256Hex(module.bytes);
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
    if (d->abi_minor >= 1) {
        for (uint32_t i = 0; i < d->field_count; ++i) {
            const auto& f = d->fields[i];
            const void* nul = std::memchr(f.name, 0, sizeof f.name);
            if (!nul) throw Error(where + ": field " + std::to_string(i) + " name is not NUL-terminated", EINVAL);
            p->fields_.push_back({std::string(f.name, static_cast<const char*>(nul)), fizzhost_field_type(f.type)});
        }
        p->decodeFields_ = d->decode_fields;
    }
    if (info.hasMetadata) {
        requireAgreement(*p, info);
    } else if (p->name_ != info.name) {
        throw Error(where + ": an ABI 1.0 module is known by its file name, but its descriptor names plugin '" +
                        p->name_ + "'; rename the file to '" + p->name_ + ".so'",
                    EINVAL);
    }
    return p;
}

std::shared_ptr<const Plugin> Plugin::load(const std::filesystem::path& file, const FilePolicy& policy) {
    ModuleFile module = readModuleFile(file, policy);
    ElfModule elf = inspectElf(module.bytes, "plugin file " + quoted(file));
    PluginInfo info = readPluginInfo(module, elf);
    return load(module, info);
}

}  // namespace fizzhost::plugin
