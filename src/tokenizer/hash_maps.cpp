#include "tokenizer/hash_maps.h"

#include <bit>  // bit_ceil

namespace dsmoe::tok {

void StringIdMap::reserve(size_t entries, size_t key_bytes) {
  arena_.reserve(key_bytes);
  const size_t want = std::bit_ceil(entries * 2 + 16);
  if (want <= slots_.size()) return;
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(want, Slot{0, 0, 0, 0, 0});
  for (const Slot& s : old) {
    if (s.hash == 0) continue;
    const size_t mask = slots_.size() - 1;
    size_t i = s.index_hash & mask;
    while (slots_[i].hash != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void StringIdMap::grow() { reserve(slots_.empty() ? 64 : slots_.size(), arena_.capacity()); }

size_t StringIdMap::probe(std::string_view key, uint64_t h) const noexcept {
  const size_t mask = slots_.size() - 1;
  const uint32_t t = tag(h);
  size_t i = (h >> 32) & mask;
  while (true) {
    const Slot& s = slots_[i];
    if (s.hash == 0) return i;
    if (s.hash == t && s.len == key.size() &&
        std::memcmp(arena_.data() + s.off, key.data(), key.size()) == 0)
      return i;
    i = (i + 1) & mask;
  }
}

bool StringIdMap::insert(std::string_view key, int32_t value) {
  if ((size_ + 1) * 2 > slots_.size()) grow();
  const uint64_t h = hash_bytes(key.data(), key.size());
  Slot& s = slots_[probe(key, h)];
  if (s.hash != 0) {
    s.value = value;
    return false;
  }
  s = Slot{tag(h), static_cast<uint32_t>(h >> 32), static_cast<uint32_t>(arena_.size()),
           static_cast<uint32_t>(key.size()), value};
  arena_.append(key);
  ++size_;
  return true;
}

int32_t StringIdMap::find(std::string_view key, uint64_t h) const noexcept {
  if (slots_.empty()) return -1;
  const Slot& s = slots_[probe(key, h)];
  return s.hash == 0 ? -1 : s.value;
}

void PairMap::reserve(size_t entries) {
  const size_t want = std::bit_ceil(entries * 2 + 16);
  if (want > slots_.size()) rehash(want);
}

void PairMap::rehash(size_t capacity) {
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(capacity, Slot{kEmpty, {0, 0}});
  mask_ = capacity - 1;
  for (const Slot& s : old) {
    if (s.key == kEmpty) continue;
    size_t i = mix64(s.key) & mask_;
    while (slots_[i].key != kEmpty) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

void PairMap::insert(int32_t left, int32_t right, Merge m) {
  if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.empty() ? 64 : slots_.size() * 2);
  const uint64_t key = pack(left, right);
  size_t i = mix64(key) & mask_;
  while (slots_[i].key != kEmpty) {
    if (slots_[i].key == key) {
      slots_[i].merge = m;
      return;
    }
    i = (i + 1) & mask_;
  }
  slots_[i] = Slot{key, m};
  ++size_;
}

}  // namespace dsmoe::tok
