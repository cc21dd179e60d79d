#include "tokenizer/bpe.h"

#include <algorithm>  // push_heap, pop_heap

#include "tokenizer/byte_level.h"  // byte_to_char, append_mapped
#include "util/utf8.h"             // utf8::append, utf8::step

namespace dsmoe::tok {
namespace {

struct Symbol {
  int32_t id;
  int32_t prev;  // index of the previous live symbol, -1 at the start
  int32_t next;  // index of the next live symbol, -1 at the end
  bool live;
};

struct QueuedMerge {
  int32_t rank;
  int32_t pos;
  int32_t new_id;
};

// Heap order: the smallest rank on top, then the smallest position.
bool after(const QueuedMerge& a, const QueuedMerge& b) {
  return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
}

// Scratch reused by every word this thread encodes: no allocation per word once warm.
struct MergeScratch {
  std::vector<int32_t> ids;
  std::vector<Symbol> symbols;
  std::vector<QueuedMerge> heap;
  std::vector<int32_t> result;
  std::string text;
};

MergeScratch& scratch() {
  thread_local MergeScratch s;
  return s;
}

}  // namespace

BpeModel::BpeModel(const StringIdMap* vocab, PairMap merges, BpeOptions options)
    : vocab_(vocab), merges_(std::move(merges)), options_(options) {
  for (int b = 0; b < 256; ++b) {
    std::string c;
    utf8::append(c, byte_level::byte_to_char(static_cast<uint8_t>(b)));
    byte_ids_[b] = vocab_->find(c);
  }
}

void BpeModel::initial_symbols(std::string_view word, std::vector<int32_t>& ids) const {
  ids.clear();
  bool last_unk = false;
  auto push = [&](int32_t id) {
    if (id >= 0) {
      ids.push_back(id);
      last_unk = false;
    } else if (options_.unk_id >= 0 && !(options_.fuse_unk && last_unk)) {
      ids.push_back(options_.unk_id);
      last_unk = true;
    }
  };
  if (options_.byte_level) {
    for (unsigned char b : word) push(byte_ids_[b]);
    return;
  }
  size_t pos = 0;
  while (pos < word.size()) {
    const uint32_t len = utf8::step(word, pos).len;
    push(vocab_->find(word.substr(pos, len)));
    pos += len;
  }
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  const uint64_t hash = hash_bytes(word.data(), word.size());
  if (cache_.lookup(word, hash, out)) return;
  const size_t start = out.size();
  merge(word, out);
  cache_.store(word, hash, out.data() + start, out.size() - start);
}

void BpeModel::merge(std::string_view word, std::vector<int32_t>& out) const {
  MergeScratch& s = scratch();
  if (options_.ignore_merges) {
    std::string_view key = word;
    if (options_.byte_level) {
      s.text.clear();
      byte_level::append_mapped(s.text, word);
      key = s.text;
    }
    const int32_t id = vocab_->find(key);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  initial_symbols(word, s.ids);
  const int32_t n = static_cast<int32_t>(s.ids.size());
  if (n <= 1) {
    out.insert(out.end(), s.ids.begin(), s.ids.end());
    return;
  }
  s.symbols.resize(n);
  s.heap.clear();
  for (int32_t i = 0; i < n; ++i) {
    s.symbols[i] = Symbol{s.ids[i], i - 1, i + 1 < n ? i + 1 : -1, true};
    if (i + 1 < n) {
      if (const PairMap::Merge* m = merges_.find(s.ids[i], s.ids[i + 1]))
        s.heap.push_back(QueuedMerge{m->rank, i, m->id});
    }
  }
  std::make_heap(s.heap.begin(), s.heap.end(), after);
  while (!s.heap.empty()) {
    std::pop_heap(s.heap.begin(), s.heap.end(), after);
    const QueuedMerge top = s.heap.back();
    s.heap.pop_back();
    Symbol& left = s.symbols[top.pos];
    if (!left.live || left.next < 0) continue;
    Symbol& right = s.symbols[left.next];
    const PairMap::Merge* m = merges_.find(left.id, right.id);
    if (m == nullptr || m->id != top.new_id) continue;  // stale entry
    left.id = top.new_id;
    right.live = false;
    left.next = right.next;
    if (right.next >= 0) s.symbols[right.next].prev = top.pos;
    if (left.prev >= 0) {
      if (const PairMap::Merge* pm = merges_.find(s.symbols[left.prev].id, left.id)) {
        s.heap.push_back(QueuedMerge{pm->rank, left.prev, pm->id});
        std::push_heap(s.heap.begin(), s.heap.end(), after);
      }
    }
    if (left.next >= 0) {
      if (const PairMap::Merge* nm = merges_.find(left.id, s.symbols[left.next].id)) {
        s.heap.push_back(QueuedMerge{nm->rank, top.pos, nm->id});
        std::push_heap(s.heap.begin(), s.heap.end(), after);
      }
    }
  }
  for (int32_t i = 0; i >= 0; i = s.symbols[i].next) out.push_back(s.symbols[i].id);
}

}  // namespace dsmoe::tok
