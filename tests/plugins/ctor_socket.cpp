// A valid fizz decoder whose constructor creates a socket. Confined, the constructor runs under the
// stage 1 filter, which forbids sockets: the module cannot be loaded, and the host says why.
#include <sys/socket.h>
#include <unistd.h>

namespace {

__attribute__((constructor)) void openSocket() {
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    if (fd >= 0) ::close(fd);
}

}  // namespace
