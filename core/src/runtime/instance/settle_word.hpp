// One word of a classifier's pinned regions and the value it takes once the messages before it are
// settled (written out or counted lost): a ring CPU's tail, or the queue's settled count (see
// runtime/instance/transport_reader.hpp). The transport reader names it; the events output's writer
// thread stores it once the batch holding those messages' lines is settled.
#pragma once

#include <linux/types.h>

#include <atomic>
#include <cstdint>
#include <memory>

namespace fizzhost::runtime {

struct SettleWord {
    std::shared_ptr<const void> keep;  // the mapping the word lives in
    __u64* word = nullptr;  // a __u64 of <fizz/shared.h>
    uint64_t value = 0;

    /// Any thread; words of one source are applied in the order they were named.
    void apply() const noexcept { std::atomic_ref<__u64>(*word).store(value, std::memory_order_release); }
};

/// Gives `w`'s value to the entry of [first, last) that names the same word (a later value of a
/// word replaces one not stored yet); false when none does.
inline bool supersede(SettleWord* first, SettleWord* last, const SettleWord& w) noexcept {
    for (SettleWord* p = last; p-- != first;)
        if (p->word == w.word) {
            p->value = w.value;
            return true;
        }
    return false;
}

}  // namespace fizzhost::runtime
