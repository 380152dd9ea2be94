// StopEvent: what a thread blocked on one fd wakes for.
#include "util/stop_event.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <future>

using fizzhost::StopEvent;
using fizzhost::UniqueFd;

namespace {

struct Pipe {
    UniqueFd read, write;
    Pipe() {
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        read.reset(fds[0]);
        write.reset(fds[1]);
    }
};

}  // namespace

TEST_CASE("a StopEvent wakes a blocked wait; raised wins over a readable fd and stays raised", "[unit][threads]") {
    Pipe p;
    StopEvent stop("test");
    auto waiting = std::async(std::launch::async, [&] { return stop.wait(p.read.get()); });
    CHECK(waiting.wait_for(std::chrono::milliseconds(50)) == std::future_status::timeout);  // blocked
    stop.raise();
    CHECK(waiting.get() == StopEvent::Wake::Stopped);

    REQUIRE(::write(p.write.get(), "x", 1) == 1);
    CHECK(stop.wait(p.read.get()) == StopEvent::Wake::Stopped);  // both ready: the stop is taken
}

TEST_CASE("a StopEvent's wait returns Readable when the fd has data or its writer closed", "[unit]") {
    Pipe p;
    StopEvent stop("test");
    REQUIRE(::write(p.write.get(), "x", 1) == 1);
    CHECK(stop.wait(p.read.get()) == StopEvent::Wake::Readable);
    char c;
    REQUIRE(::read(p.read.get(), &c, 1) == 1);
    p.write.reset();
    CHECK(stop.wait(p.read.get()) == StopEvent::Wake::Readable);  // hung up: the reader sees EOF
}
