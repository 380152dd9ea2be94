#include "bpf/link_uapi.hpp"

#include <sys/syscall.h>
#include <unistd.h>

namespace fizzhost::bpf::uapi {

long sys(int cmd, void* attr, unsigned size) { return ::syscall(__NR_bpf, cmd, attr, size); }

}  // namespace fizzhost::bpf::uapi
