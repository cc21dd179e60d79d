// Encoding and decoding; building from tokenizer.json is in tokenizer_load.cpp.
#include "tokenizer/tokenizer.h"

#include "tokenizer/tokenizer_impl.h"
#include "util/error.h"  // Error
#include "util/utf8.h"   // utf8::valid_prefix, utf8::append_lossy

namespace dsmoe {
namespace {

// Per-thread buffers for encode(): a document is split and tokenized without allocating once
// these have grown to its size.
struct EncodeScratch {
  std::vector<tok::TextSplit> raw_splits, normalized_splits;
  std::string normalized, tmp;
  std::string buf;
  std::vector<tok::Piece> pieces, tmp_pieces;
  std::vector<tok::Segment> segments;
};

EncodeScratch& encode_scratch() {
  thread_local EncodeScratch s;
  return s;
}

// Pre-tokenizes and BPE-encodes text that holds no added tokens.
void encode_plain(const Tokenizer::Impl& t, std::string_view text, EncodeScratch& s,
                  std::vector<int32_t>& out) {
  if (text.empty()) return;
  s.buf.assign(text);
  t.pre_tokenizer.run(s.buf, s.pieces, s.tmp_pieces, s.segments);
  const std::string_view buf(s.buf);
  for (const tok::Piece& p : s.pieces) t.bpe->encode_word(buf.substr(p.off, p.len), out);
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

const Tokenizer::Impl::TokenInfo& Tokenizer::Impl::info(int32_t id) const {
  static const TokenInfo kNone;
  if (id < 0)
    throw Error(ErrorCode::kOutOfRange, source + ": token id " + std::to_string(id) + " is negative");
  // Like Hugging Face, an id with no token decodes to nothing. Models have such ids: DeepSeek-V3's
  // embedding has 129,280 rows for 128,815 tokens.
  return static_cast<size_t>(id) < tokens.size() ? tokens[id] : kNone;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 8);
  encode_into(text, ids);
  return ids;
}

void Tokenizer::encode_into(std::string_view text, std::vector<int32_t>& out) const {
  // Pieces are 32-bit offsets into a buffer that may grow to twice the text (prefix spaces).
  constexpr size_t kMaxTextBytes = size_t{1} << 30;
  if (text.size() > kMaxTextBytes)
    throw Error(ErrorCode::kInvalidArgument, "text of " + std::to_string(text.size()) +
                                                 " bytes is too long to tokenize at once (at most 1 GiB)");
  const size_t bad = utf8::valid_prefix(text);
  if (bad != text.size())
    throw Error(ErrorCode::kInvalidArgument, "invalid UTF-8 at byte " + std::to_string(bad));
  const Impl& t = *impl_;
  EncodeScratch& s = encode_scratch();
  t.added.split(text, false, s.raw_splits);
  for (const tok::TextSplit& r : s.raw_splits) {
    if (r.id >= 0) {
      out.push_back(r.id);
      continue;
    }
    std::string_view segment = text.substr(r.begin, r.end - r.begin);
    if (!t.normalizer.empty()) {
      s.normalized.assign(segment);
      t.normalizer.apply(s.normalized, s.tmp);
      segment = s.normalized;
    }
    if (!t.added.has_normalized()) {
      encode_plain(t, segment, s, out);
      continue;
    }
    t.added.split(segment, true, s.normalized_splits);
    for (const tok::TextSplit& n : s.normalized_splits) {
      if (n.id >= 0)
        out.push_back(n.id);
      else
        encode_plain(t, segment.substr(n.begin, n.end - n.begin), s, out);
    }
  }
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  const Impl& t = *impl_;
  std::string bytes;
  bool first = true;
  for (int32_t id : ids) {
    const Impl::TokenInfo& info = t.info(id);
    if (!info.exists || (skip_special && info.special)) continue;
    if (t.decoder == Impl::Decoder::kJoinWithSpace && !first) bytes.push_back(' ');
    bytes.append(t.bytes(info));
    first = false;
  }
  std::string text;
  text.reserve(bytes.size());
  utf8::append_lossy(text, bytes);
  return text;
}

int32_t Tokenizer::vocab_size() const { return static_cast<int32_t>(impl_->tokens.size()); }

std::optional<int32_t> Tokenizer::token_id(std::string_view token) const {
  int32_t id = impl_->added_by_text.find(token);
  if (id < 0) id = impl_->vocab.find(token);
  if (id < 0) return std::nullopt;
  return id;
}

std::string_view Tokenizer::token_text(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->tokens.size()) return {};
  const Impl::TokenInfo& t = impl_->tokens[id];
  return std::string_view(impl_->text_arena).substr(t.text_off, t.text_len);
}

std::string_view Tokenizer::token_bytes(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->tokens.size()) return {};
  return impl_->bytes(impl_->tokens[id]);
}

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < impl_->tokens.size() && impl_->tokens[id].special;
}

bool Tokenizer::is_added(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < impl_->tokens.size() && impl_->tokens[id].added;
}

std::vector<int32_t> Tokenizer::special_ids() const {
  std::vector<int32_t> ids;
  for (size_t i = 0; i < impl_->tokens.size(); ++i)
    if (impl_->tokens[i].special) ids.push_back(static_cast<int32_t>(i));
  return ids;
}

const std::string& Tokenizer::source_name() const { return impl_->source; }

}  // namespace dsmoe
