// The control socket's path: nothing but a stale socket is ever deleted, and the folder holding it
// must not let another user swap in a spoofed one. Kernel-free: runs unprivileged.
#include "service/control_server.hpp"
#include "support/daemon_process.hpp"
#include "util/error.hpp"
#include "support/config_text.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>
#include <fstream>

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

// A status that says which server answered.
service::ControlServer::StatusFn answer(int n) {
    return [n] {
        runtime::HostStatus s;
        s.stateRoot = "host " + std::to_string(n);
        return s;
    };
}

// A socket file nobody listens on, as a killed host leaves behind.
void makeStaleSocket(const std::filesystem::path& path) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
    REQUIRE(fd);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path.c_str());
    REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
}

}  // namespace

TEST_CASE("control socket: a file, a folder, a FIFO or a symlink at the path is refused and left alone", "[unit]") {
    TempDir dir;
    const auto path = dir.path() / "c.sock";
    SECTION("regular file") {
        std::ofstream(path) << "precious";
        const auto err = errorOf([&] { service::ControlServer s(path, answer(1)); });
        CHECK_THAT(err, Contains("holds a regular file, not a socket"));
        CHECK_THAT(errorOf([&] { service::checkControlSocketPath(path); }), Contains("a regular file"));
        std::ifstream in(path);
        std::string text;
        in >> text;
        CHECK(text == "precious");
    }
    SECTION("empty folder") {
        std::filesystem::create_directory(path);
        CHECK_THAT(errorOf([&] { service::ControlServer s(path, answer(1)); }), Contains("holds a folder"));
        CHECK(std::filesystem::is_directory(path));
    }
    SECTION("FIFO") {
        REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
        CHECK_THAT(errorOf([&] { service::ControlServer s(path, answer(1)); }), Contains("holds a FIFO"));
        CHECK(std::filesystem::is_fifo(path));
    }
    SECTION("symlink to a stale socket") {
        makeStaleSocket(dir.path() / "real.sock");
        std::filesystem::create_symlink(dir.path() / "real.sock", path);
        CHECK_THAT(errorOf([&] { service::ControlServer s(path, answer(1)); }), Contains("holds a symbolic link"));
        CHECK(std::filesystem::is_symlink(path));
    }
}

TEST_CASE("control socket: a stale socket is replaced, a live one is refused and keeps answering", "[unit]") {
    TempDir dir;
    const auto path = dir.path() / "c.sock";
    makeStaleSocket(path);
    CHECK_THAT(service::checkControlSocketPath(path)[0], Contains("stale socket"));
    {
        service::ControlServer first(path, answer(1));
        CHECK(service::queryStatus(path)["state_root"] == "host 1");
        CHECK_THAT(service::checkControlSocketPath(path)[0], Contains("a running host answers"));
        CHECK_THAT(errorOf([&] { service::ControlServer second(path, answer(2)); }), Contains("another fizzhost is running"));
        CHECK(service::queryStatus(path)["state_root"] == "host 1");
    }
    CHECK_FALSE(std::filesystem::exists(path));  // removed on the way out

    // What replaced our socket while we ran is not ours to delete.
    {
        service::ControlServer s(path, answer(3));
        std::filesystem::remove(path);
        std::ofstream(path) << "someone else's";
    }
    CHECK(std::filesystem::is_regular_file(path));
}

TEST_CASE("control socket: its folder is created 0755 when missing and refused when others may write to it",
          "[unit]") {
    TempDir dir;
    SECTION("missing folders are created, writable by the owner only") {
        const auto path = dir.path() / "run" / "fizzhost" / "c.sock";
        CHECK_THAT(service::checkControlSocketPath(path)[0], Contains("does not exist; fizzhost creates it"));
        service::ControlServer s(path, answer(1));
        for (const auto& folder : {dir.path() / "run", dir.path() / "run" / "fizzhost"}) {
            struct stat st {};
            REQUIRE(::stat(folder.c_str(), &st) == 0);
            CHECK((st.st_mode & 022) == 0);
            CHECK(st.st_uid == geteuid());
        }
        CHECK(service::queryStatus(path)["state_root"] == "host 1");
    }
    SECTION("a folder writable by others or by its group") {
        const mode_t mode = GENERATE(0777, 0775, 01777);
        INFO("mode " << std::oct << mode);
        const auto folder = dir.path() / "shared";
        std::filesystem::create_directory(folder);
        REQUIRE(::chmod(folder.c_str(), mode) == 0);
        const auto path = folder / "c.sock";
        const auto err = errorOf([&] { service::ControlServer s(path, answer(1)); });
        CHECK_THAT(err, Contains("its folder '" + folder.string() + "' is writable by"));
        CHECK_THAT(err, Contains("chmod go-w"));
        CHECK_THAT(errorOf([&] { service::checkControlSocketPath(path); }), Contains("is writable by"));
        CHECK_FALSE(std::filesystem::exists(path));
    }
    SECTION("a folder above it that others may write to, unless it is sticky") {
        const auto open = dir.path() / "open";
        std::filesystem::create_directories(open / "run");
        REQUIRE(::chmod(open.c_str(), 0777) == 0);
        CHECK_THAT(errorOf([&] { service::ControlServer s(open / "run" / "c.sock", answer(1)); }),
                   Contains("folder above it '" + open.string() + "' is writable by others"));
        REQUIRE(::chmod(open.c_str(), 01777) == 0);  // like /tmp
        service::ControlServer s(open / "run" / "c.sock", answer(1));
        CHECK(service::queryStatus(open / "run" / "c.sock")["state_root"] == "host 1");
    }
}
