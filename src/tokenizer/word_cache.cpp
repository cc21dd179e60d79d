#include "tokenizer/word_cache.h"

#include <algorithm>  // fill
#include <cstring>    // memcmp

namespace dsmoe::tok {

WordCache::WordCache() {
  for (Shard& s : shards_) s.slots.assign(kSlotsPerShard, Slot{0, 0, 0, 0, 0});
}

bool WordCache::lookup(std::string_view word, uint64_t hash, std::vector<int32_t>& out) const {
  hash |= 1;
  Shard& s = shards_[hash >> 60];
  std::lock_guard<std::mutex> lock(s.mu);
  size_t i = hash & (kSlotsPerShard - 1);
  while (true) {
    const Slot& e = s.slots[i];
    if (e.hash == 0) return false;
    if (e.hash == hash && e.key_len == word.size() &&
        std::memcmp(s.keys.data() + e.key_off, word.data(), word.size()) == 0) {
      out.insert(out.end(), s.ids.begin() + e.ids_off, s.ids.begin() + e.ids_off + e.ids_len);
      return true;
    }
    i = (i + 1) & (kSlotsPerShard - 1);
  }
}

void WordCache::store(std::string_view word, uint64_t hash, const int32_t* ids, size_t n) const {
  if (word.size() > kMaxWordBytes) return;
  hash |= 1;
  Shard& s = shards_[hash >> 60];
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.used * 2 >= kSlotsPerShard) {
    // Full: start over rather than track recency. Capacities are kept, so refilling allocates
    // nothing.
    std::fill(s.slots.begin(), s.slots.end(), Slot{0, 0, 0, 0, 0});
    s.keys.clear();
    s.ids.clear();
    s.used = 0;
  }
  size_t i = hash & (kSlotsPerShard - 1);
  while (s.slots[i].hash != 0) {
    const Slot& e = s.slots[i];
    if (e.hash == hash && e.key_len == word.size() &&
        std::memcmp(s.keys.data() + e.key_off, word.data(), word.size()) == 0)
      return;  // another thread stored it first
    i = (i + 1) & (kSlotsPerShard - 1);
  }
  s.slots[i] = Slot{hash, static_cast<uint32_t>(s.keys.size()), static_cast<uint32_t>(word.size()),
                    static_cast<uint32_t>(s.ids.size()), static_cast<uint32_t>(n)};
  s.keys.append(word);
  s.ids.insert(s.ids.end(), ids, ids + n);
  ++s.used;
}

}  // namespace dsmoe::tok
