#pragma once
// A bounded, thread-safe cache from a pre-tokenized word (its raw bytes) to its BPE ids. Most words
// in running text repeat, so the merge loop runs once per distinct word. Sharded by hash, each shard
// behind its own mutex; a full shard is emptied and refilled (no per-entry allocation, no eviction
// bookkeeping).
#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace dsmoe::tok {

class WordCache {
 public:
  static constexpr size_t kMaxWordBytes = 256;  // longer words are not cached (as in HF)

  WordCache();
  // Appends the cached ids of `word` to `out` and returns true, or returns false on a miss.
  bool lookup(std::string_view word, uint64_t hash, std::vector<int32_t>& out) const;
  void store(std::string_view word, uint64_t hash, const int32_t* ids, size_t n) const;

 private:
  static constexpr size_t kShards = 16;
  static constexpr size_t kSlotsPerShard = 8192;  // at most half used
  struct Slot {
    uint64_t hash;  // 0 = empty
    uint32_t key_off, key_len;
    uint32_t ids_off, ids_len;
  };
  struct Shard {
    std::mutex mu;
    std::vector<Slot> slots;
    std::string keys;
    std::vector<int32_t> ids;
    size_t used = 0;
  };
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace dsmoe::tok
