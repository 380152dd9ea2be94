#include "cli/capture.hpp"

#include "util/error.hpp"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

namespace fizzhost::cli {
namespace {

struct PcapClose {
    void operator()(pcap_t* p) const noexcept { pcap_close(p); }
};

std::string linkTypeText(int dlt) {
    const char* name = pcap_datalink_val_to_name(dlt);
    const char* description = pcap_datalink_val_to_description(dlt);
    std::string text = name ? name : "unknown";
    if (description) text += std::string(" (") + description + ")";
    return text + ", link type " + std::to_string(dlt);
}

}  // namespace

size_t readCapture(const std::filesystem::path& path, const CaptureFn& fn) {
    const std::string where = "capture '" + path.string() + "'";
    // O_NONBLOCK: a FIFO or a device named as a capture must not hang the command.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) throwErrno(where + ": open", errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int err = errno;
        ::close(fd);
        throwErrno(where + ": stat", err);
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Error(where + " is not a regular file", EINVAL);
    }
    std::FILE* stream = ::fdopen(fd, "rb");
    if (!stream) {
        const int err = errno;
        ::close(fd);
        throwErrno(where + ": fdopen", err);
    }
    return readCapture(stream, path.string(), fn);
}

size_t readCapture(std::FILE* stream, const std::string& name, const CaptureFn& fn) {
    const std::string where = "capture '" + name + "'";
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    // On success pcap_close closes the stream; on failure it is still ours.
    std::unique_ptr<pcap_t, PcapClose> pcap(pcap_fopen_offline(stream, errbuf));
    if (!pcap) {
        std::fclose(stream);
        throw Error(where + ": not a readable pcap or pcapng file: " + errbuf, EINVAL);
    }
    const int dlt = pcap_datalink(pcap.get());
    if (dlt != DLT_EN10MB)
        throw Error(where + ": frames are " + linkTypeText(dlt) +
                        ", not Ethernet; XDP classifies Ethernet frames (capture on the interface itself, "
                        "not 'any', or convert with editcap -T ether)",
                    EINVAL);
    size_t number = 0;
    for (;;) {
        pcap_pkthdr* header = nullptr;
        const u_char* data = nullptr;
        const int rc = pcap_next_ex(pcap.get(), &header, &data);
        if (rc == PCAP_ERROR_BREAK) return number;  // end of file
        if (rc != 1)
            throw Error(where + ": frame " + std::to_string(number + 1) + ": " + pcap_geterr(pcap.get()) +
                            " (the file ends early: truncated or still being written?)",
                        EIO);
        ++number;
        fn(CaptureFrame{number, {data, header->caplen}, header->len});
    }
}

}  // namespace fizzhost::cli
