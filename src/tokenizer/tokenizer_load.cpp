// Building a Tokenizer from tokenizer.json. Loading the 8 MB DeepSeek-V3 file is dominated by
// simdjson's parse; the maps are sized once up front and filled without per-entry allocation.
#include <algorithm>  // max
#include <array>
#include <fstream>    // ifstream

#include "tokenizer/byte_level.h"     // append_unmapped
#include "tokenizer/tokenizer_impl.h"
#include "util/error.h"               // Error
#include "util/json.h"                // json::Document, accessors

namespace dsmoe {
namespace {

constexpr int64_t kMaxTokenId = (1 << 24) - 1;  // far above any real vocabulary; bounds memory

[[noreturn]] void format_error(const std::string& msg) { throw Error(ErrorCode::kFormat, msg); }

json::Object as_object(json::Element e, const std::string& ctx) {
  json::Object o;
  if (e.get_object().get(o) != simdjson::SUCCESS) format_error(ctx + ": expected an object");
  return o;
}

// True when `o` has `key` with a non-null value (then stored in `e`).
bool present(json::Object o, std::string_view key, json::Element& e) {
  return o.at_key(key).get(e) == simdjson::SUCCESS && !e.is_null();
}

int32_t checked_id(int64_t id, const std::string& ctx) {
  if (id < 0 || id > kMaxTokenId)
    format_error(ctx + ": token id " + std::to_string(id) + " is out of range [0, " +
                 std::to_string(kMaxTokenId) + "]");
  return static_cast<int32_t>(id);
}

struct PendingToken {
  uint32_t off, len;
  int32_t id;
};

void read_vocab(Tokenizer::Impl& t, json::Object model, const std::string& ctx,
                std::vector<PendingToken>& pending, int32_t& max_id) {
  const std::string vctx = ctx + ": field 'model.vocab'";
  const json::Object vocab = json::get_object(model, "vocab", ctx + ": field 'model'");
  const size_t n = vocab.size();
  pending.reserve(n);
  size_t key_bytes = 0;
  for (auto [key, value] : vocab) key_bytes += key.size();
  t.text_arena.reserve(key_bytes + 65536);
  t.vocab.reserve(n, key_bytes);
  for (auto [key, value] : vocab) {
    int64_t raw;
    if (value.get_int64().get(raw) != simdjson::SUCCESS)
      format_error(vctx + ": token '" + std::string(key) + "': expected an integer id");
    const int32_t id = checked_id(raw, vctx);
    t.vocab.insert(key, id);
    pending.push_back(PendingToken{static_cast<uint32_t>(t.text_arena.size()),
                                   static_cast<uint32_t>(key.size()), id});
    t.text_arena.append(key);
    max_id = std::max(max_id, id);
  }
}

// One merge in flight: parsed and hashed a few iterations before its lookups run, so that the
// prefetched hash slots have arrived by then (the loop is bound by cache misses, not work).
struct MergeText {
  std::string_view a, b;
  std::string joined;
  uint64_t ha = 0, hb = 0, hj = 0;
};

tok::PairMap read_merges(const Tokenizer::Impl& t, json::Object model, const std::string& ctx) {
  const json::Array merges = json::get_array(model, "merges", ctx + ": field 'model'");
  tok::PairMap map;
  map.reserve(merges.size());
  // Messages are built only on failure: these loops run 128k times for DeepSeek.
  auto mctx = [&](int32_t rank) {
    return ctx + ": field 'model.merges[" + std::to_string(rank) + "]'";
  };
  auto parse = [&](json::Element m, int32_t rank, MergeText& out) {
    std::string_view s;
    json::Array pair;
    if (m.get_string().get(s) == simdjson::SUCCESS) {
      const size_t sp = s.find(' ');
      if (sp == std::string_view::npos || s.find(' ', sp + 1) != std::string_view::npos)
        format_error(mctx(rank) + ": expected \"left right\" (two tokens separated by one space), got '" +
                     std::string(s) + "'");
      out.a = s.substr(0, sp);
      out.b = s.substr(sp + 1);
    } else if (m.get_array().get(pair) == simdjson::SUCCESS && pair.size() == 2 &&
               pair.at(0).get_string().get(out.a) == simdjson::SUCCESS &&
               pair.at(1).get_string().get(out.b) == simdjson::SUCCESS) {
    } else {
      format_error(mctx(rank) + ": expected a string \"left right\" or an array [\"left\", \"right\"]");
    }
    out.joined.assign(out.a);
    out.joined.append(out.b);
    out.ha = tok::StringIdMap::hash(out.a);
    out.hb = tok::StringIdMap::hash(out.b);
    out.hj = tok::StringIdMap::hash(out.joined);
    t.vocab.prefetch(out.ha);
    t.vocab.prefetch(out.hb);
    t.vocab.prefetch(out.hj);
  };
  auto finish = [&](const MergeText& mt, int32_t rank) {
    const int32_t ia = t.vocab.find(mt.a, mt.ha), ib = t.vocab.find(mt.b, mt.hb);
    if (ia < 0) format_error(mctx(rank) + ": token '" + std::string(mt.a) + "' is not in the vocabulary");
    if (ib < 0) format_error(mctx(rank) + ": token '" + std::string(mt.b) + "' is not in the vocabulary");
    const int32_t merged = t.vocab.find(mt.joined, mt.hj);
    if (merged < 0)
      format_error(mctx(rank) + ": merged token '" + mt.joined + "' is not in the vocabulary");
    map.insert(ia, ib, tok::PairMap::Merge{rank, merged});
  };
  constexpr int32_t kAhead = 8;
  std::array<MergeText, kAhead> ring;
  int32_t rank = 0;
  for (json::Element m : merges) {
    if (rank >= kAhead) finish(ring[rank % kAhead], rank - kAhead);
    parse(m, rank, ring[rank % kAhead]);
    ++rank;
  }
  for (int32_t r = std::max(0, rank - kAhead); r < rank; ++r) finish(ring[r % kAhead], r);
  return map;
}

tok::BpeOptions read_model_options(const Tokenizer::Impl& t, json::Object model,
                                   const std::string& ctx) {
  const std::string mctx = ctx + ": field 'model'";
  if (auto type = json::opt_string(model, "type", mctx); type && *type != "BPE")
    throw Error(ErrorCode::kUnsupported, ctx + ": field 'model.type': model '" + std::string(*type) +
                                             "' is not supported (only BPE)");
  if (auto d = json::opt_double(model, "dropout", mctx); d && *d != 0.0)
    throw Error(ErrorCode::kUnsupported, ctx + ": field 'model.dropout': BPE dropout is not supported");
  if (json::opt_bool(model, "byte_fallback", mctx).value_or(false))
    throw Error(ErrorCode::kUnsupported, ctx + ": field 'model.byte_fallback': not supported");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (auto s = json::opt_string(model, key, mctx); s && !s->empty())
      throw Error(ErrorCode::kUnsupported,
                  ctx + ": field 'model." + key + "': not supported for byte-level BPE");
  }
  tok::BpeOptions o;
  o.ignore_merges = json::opt_bool(model, "ignore_merges", mctx).value_or(false);
  o.fuse_unk = json::opt_bool(model, "fuse_unk", mctx).value_or(false);
  if (auto unk = json::opt_string(model, "unk_token", mctx)) {
    o.unk_id = t.vocab.find(*unk);
    if (o.unk_id < 0)
      format_error(ctx + ": field 'model.unk_token': '" + std::string(*unk) + "' is not in the vocabulary");
  }
  return o;
}

void read_added_tokens(Tokenizer::Impl& t, json::Object root, const std::string& ctx,
                       std::vector<PendingToken>& pending, int32_t& max_id) {
  if (json::is_null(root, "added_tokens")) return;
  std::string pattern, scratch;
  size_t i = 0;
  for (json::Element e : json::get_array(root, "added_tokens", ctx)) {
    const std::string actx = ctx + ": field 'added_tokens[" + std::to_string(i++) + "]'";
    const json::Object o = as_object(e, actx);
    tok::AddedToken a;
    a.content = std::string(json::get_string(o, "content", actx));
    a.id = checked_id(json::get_int(o, "id", actx), actx);
    a.special = json::opt_bool(o, "special", actx).value_or(false);
    a.single_word = json::opt_bool(o, "single_word", actx).value_or(false);
    a.lstrip = json::opt_bool(o, "lstrip", actx).value_or(false);
    a.rstrip = json::opt_bool(o, "rstrip", actx).value_or(false);
    a.normalized = json::opt_bool(o, "normalized", actx).value_or(!a.special);
    if (a.content.empty()) format_error(actx + ": field 'content' is empty");
    pattern = a.content;
    if (a.normalized) t.normalizer.apply(pattern, scratch);
    t.added_by_text.insert(a.content, a.id);
    pending.push_back(PendingToken{static_cast<uint32_t>(t.text_arena.size()),
                                   static_cast<uint32_t>(a.content.size()), a.id});
    t.text_arena.append(a.content);
    max_id = std::max(max_id, a.id);
    t.added.add(std::move(a), pattern);
  }
}

Tokenizer::Impl::Decoder read_decoder(json::Element e, const std::string& ctx) {
  const json::Object o = as_object(e, ctx);
  const std::string_view type = json::get_string(o, "type", ctx);
  if (type == "ByteLevel") return Tokenizer::Impl::Decoder::kByteLevel;
  if (type == "Sequence") {
    size_t i = 0;
    for (json::Element d : json::get_array(o, "decoders", ctx + " (Sequence)")) {
      const std::string dctx = ctx + ".decoders[" + std::to_string(i++) + "]";
      if (read_decoder(d, dctx) != Tokenizer::Impl::Decoder::kByteLevel)
        throw Error(ErrorCode::kUnsupported, dctx + ": only ByteLevel decoders may be in a Sequence");
    }
    if (i > 0) return Tokenizer::Impl::Decoder::kByteLevel;
  }
  throw Error(ErrorCode::kUnsupported, ctx + ": field 'type': decoder '" + std::string(type) +
                                           "' is not supported (supported: ByteLevel, Sequence of "
                                           "ByteLevel, null)");
}

}  // namespace

Tokenizer Tokenizer::from_json(std::string_view json_text, std::string source_name) {
  auto t = std::make_unique<Impl>();
  t->source = std::move(source_name);
  const std::string& ctx = t->source;
  const json::Document doc = json::Document::parse(json_text, ctx);
  const json::Object root = doc.root_object();
  const json::Object model = json::get_object(root, "model", ctx);

  // The normalizer comes first: normalized added tokens are matched in their normalized form.
  json::Element e;
  if (present(root, "normalizer", e))
    t->normalizer = tok::Normalizer::parse(e, ctx + ": field 'normalizer'");
  if (present(root, "pre_tokenizer", e))
    t->pre_tokenizer = tok::PreTokenizer::parse(e, ctx + ": field 'pre_tokenizer'");
  // Without a decoder Hugging Face joins the tokens' text with spaces.
  t->decoder = present(root, "decoder", e) ? read_decoder(e, ctx + ": field 'decoder'")
                                           : Impl::Decoder::kJoinWithSpace;

  std::vector<PendingToken> pending;
  int32_t max_id = -1;
  read_vocab(*t, model, ctx, pending, max_id);
  const size_t vocab_entries = pending.size();
  tok::BpeOptions options = read_model_options(*t, model, ctx);
  options.byte_level = t->pre_tokenizer.byte_level();
  tok::PairMap merges = read_merges(*t, model, ctx);
  read_added_tokens(*t, root, ctx, pending, max_id);

  t->tokens.assign(static_cast<size_t>(max_id + 1), Impl::TokenInfo{});
  t->bytes_arena.reserve(t->text_arena.size());
  for (size_t i = 0; i < pending.size(); ++i) {
    const PendingToken& p = pending[i];
    Impl::TokenInfo& info = t->tokens[p.id];
    info.text_off = p.off;
    info.text_len = p.len;
    info.exists = true;
    info.added = i >= vocab_entries;
    const std::string_view text = std::string_view(t->text_arena).substr(p.off, p.len);
    info.bytes_off = static_cast<uint32_t>(t->bytes_arena.size());
    // Hugging Face's ByteLevel decoder maps a token whose characters are all byte characters;
    // any other token (e.g. "<｜User｜>") passes through as its UTF-8 text.
    if (t->decoder != Impl::Decoder::kByteLevel ||
        !tok::byte_level::append_unmapped(t->bytes_arena, text))
      t->bytes_arena.append(text);
    info.bytes_len = static_cast<uint32_t>(t->bytes_arena.size()) - info.bytes_off;
  }
  for (const tok::AddedToken& a : t->added.tokens()) t->tokens[a.id].special = a.special;
  t->bpe = std::make_unique<tok::BpeModel>(&t->vocab, std::move(merges), options);
  return Tokenizer(std::move(t));
}

Tokenizer Tokenizer::load(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw Error(ErrorCode::kIo, path.string() + ": cannot open");
  std::string text(static_cast<size_t>(f.tellg()), '\0');
  f.seekg(0);
  if (!f.read(text.data(), static_cast<std::streamsize>(text.size())))
    throw Error(ErrorCode::kIo, path.string() + ": read failed");
  return from_json(text, path.string());
}

}  // namespace dsmoe
