#pragma once
// Flat open-addressing hash maps for the tokenizer's hot lookups: token text -> id and
// (left id, right id) -> merge. One contiguous slot array each (no node per entry), which keeps
// loading the 128k-entry DeepSeek vocabulary fast and lookups cache-friendly.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace dsmoe::tok {

// A fast 64-bit hash of a byte string (multiply-xorshift over 8-byte words).
inline uint64_t hash_bytes(const char* p, size_t n) noexcept {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xD6E8FEB86659FD93ull);
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
    p += 8;
    n -= 8;
  }
  uint64_t w = 0;
  std::memcpy(&w, p, n);
  h = (h ^ w) * 0x94D049BB133111EBull;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 32);
}

inline uint64_t mix64(uint64_t x) noexcept {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ull;
  return x ^ (x >> 33);
}

// Byte string -> int32 map. Keys are copied into the map's own arena.
class StringIdMap {
 public:
  void reserve(size_t entries, size_t key_bytes);
  // Inserts or overwrites; returns false when the key was already present (value replaced).
  bool insert(std::string_view key, int32_t value);
  // The value, or -1 when absent.
  int32_t find(std::string_view key) const noexcept { return find(key, hash(key)); }
  // The same with the key's hash() already known (lets a loop prefetch() ahead of its lookups).
  int32_t find(std::string_view key, uint64_t h) const noexcept;
  static uint64_t hash(std::string_view key) noexcept { return hash_bytes(key.data(), key.size()); }
  void prefetch(uint64_t h) const noexcept {
    if (!slots_.empty()) __builtin_prefetch(&slots_[(h >> 32) & (slots_.size() - 1)]);
  }
  size_t size() const noexcept { return size_; }

 private:
  struct Slot {
    uint32_t hash;        // tag(): low 32 bits of the hash, forced odd; 0 marks an empty slot
    uint32_t index_hash;  // high 32 bits, which pick the home slot
    uint32_t off;
    uint32_t len;
    int32_t value;
  };
  void grow();
  // Slot of `key` (or the empty slot where it belongs); `h` is its full 64-bit hash.
  size_t probe(std::string_view key, uint64_t h) const noexcept;
  static uint32_t tag(uint64_t h) noexcept { return static_cast<uint32_t>(h) | 1u; }
  std::vector<Slot> slots_;
  std::string arena_;
  size_t size_ = 0;
};

// (left id, right id) -> (rank, merged id) for BPE merges.
class PairMap {
 public:
  struct Merge {
    int32_t rank;
    int32_t id;
  };
  void reserve(size_t entries);
  // A pair inserted twice keeps the later entry, as Hugging Face's map of merges does.
  void insert(int32_t left, int32_t right, Merge m);
  const Merge* find(int32_t left, int32_t right) const noexcept {
    if (slots_.empty()) return nullptr;
    const uint64_t key = pack(left, right);
    size_t i = mix64(key) & mask_;
    while (true) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s.merge;
      if (s.key == kEmpty) return nullptr;
      i = (i + 1) & mask_;
    }
  }
  size_t size() const noexcept { return size_; }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static uint64_t pack(int32_t a, int32_t b) noexcept {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  struct Slot {
    uint64_t key;
    Merge merge;
  };
  void rehash(size_t capacity);
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace dsmoe::tok
