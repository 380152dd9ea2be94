#include "bpf/queue_reader.hpp"

#include <bpf/bpf.h>

namespace fizzhost::bpf {

// A queue map is popped with a NULL key.
bool QueueReader::pop() noexcept { return bpf_map_lookup_and_delete_elem(fd_, nullptr, buffer_.data()) == 0; }

}  // namespace fizzhost::bpf
