#include "plugin/module_code.hpp"

#include "plugin/plugin.hpp"
#include "util/error.hpp"

#include <boost/dll/shared_library.hpp>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace fizzhost::plugin {
namespace {

// Copies the checked bytes into an anonymous memory file, sealed so that nothing (not even this
// process) can change them between the checks and the load. The dynamic loader hands back the
// already-loaded copy for a path (and an inode) it knows, so a rebuilt plugin dropped in place would
// silently keep running the old code; a fresh memfd is always a new object to it.
UniqueFd sealedCopy(std::span<const unsigned char> bytes, const std::filesystem::path& path) {
    const std::string where = "plugin file '" + path.string() + "'";
    UniqueFd mem(memfd_create(("fizzplugin:" + path.filename().string()).c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!mem) throwErrno(where + ": memfd_create", errno);
    for (size_t off = 0; off < bytes.size();) {
        ssize_t w = ::write(mem.get(), bytes.data() + off, bytes.size() - off);
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

}  // namespace

ModuleCode::~ModuleCode() = default;

std::shared_ptr<const ModuleCode> ModuleCode::load(std::span<const unsigned char> bytes,
                                                   const std::filesystem::path& path) {
    const std::string where = "plugin file '" + path.string() + "'";
    std::shared_ptr<ModuleCode> code(new ModuleCode());
    code->memfd_ = sealedCopy(bytes, path);
    code->library_ = std::make_shared<boost::dll::shared_library>();
    boost::dll::fs::error_code ec;
    code->library_->load("/proc/self/fd/" + std::to_string(code->memfd_.get()),
                         boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
    if (ec) throw Error(where + ": cannot load module: " + ec.message(), ENOEXEC);
    if (!code->library_->has(FIZZHOST_PLUGIN_ENTRY_SYMBOL))
        throw Error(where + ": not a fizzhost plugin (no '" FIZZHOST_PLUGIN_ENTRY_SYMBOL "' entry point)", ENOENT);
    auto entry = code->library_->get<const fizzhost_plugin_descriptor*()>(FIZZHOST_PLUGIN_ENTRY_SYMBOL);
    const fizzhost_plugin_descriptor* d = entry();
    if (d == nullptr) throw Error(where + ": entry point returned no descriptor", EINVAL);
    Plugin::validate(*d, path);
    code->descriptor_ = d;
    code->decode_ = d->decode;
    if (d->abi_minor >= 1) code->decodeFields_ = d->decode_fields;
    return code;
}

int ModuleCode::decode(const void* raw, uint32_t size, fizzhost_event& out, fizzhost_field_value* fields,
                       uint32_t fieldCount) const noexcept {
    if (decodeFields_ == nullptr) return decode_(raw, size, &out);
    for (uint32_t i = 0; i < fieldCount; ++i) fields[i].set = 0;
    return decodeFields_(raw, size, &out, fields, fieldCount);
}

}  // namespace fizzhost::plugin
