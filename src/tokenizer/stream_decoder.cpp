#include "tokenizer/tokenizer_impl.h"
#include "util/utf8.h"  // utf8::complete_prefix, utf8::append_lossy

namespace dsmoe {

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool skip_special)
    : tokenizer_(&tokenizer), skip_special_(skip_special) {}

std::string_view StreamDecoder::push(int32_t id) {
  const Tokenizer::Impl& t = *tokenizer_->impl_;
  const Tokenizer::Impl::TokenInfo& info = t.info(id);
  out_.clear();
  if (!info.exists || (skip_special_ && info.special)) return out_;
  if (t.decoder == Tokenizer::Impl::Decoder::kJoinWithSpace && !first_) pending_.push_back(' ');
  first_ = false;
  pending_.append(t.bytes(info));
  // Emit everything but a trailing unfinished character; invalid bytes before it are final and
  // become U+FFFD now, exactly as a whole-sequence decode would replace them.
  const size_t n = utf8::complete_prefix(pending_);
  utf8::append_lossy(out_, std::string_view(pending_).substr(0, n));
  pending_.erase(0, n);
  return out_;
}

std::string_view StreamDecoder::flush() {
  out_.clear();
  utf8::append_lossy(out_, pending_);
  pending_.clear();
  first_ = true;
  return out_;
}

void StreamDecoder::reset() {
  pending_.clear();
  out_.clear();
  first_ = true;
}

}  // namespace dsmoe
