// The conversation behind `dsmoe chat` (see repl_conversation.h).
#include "cli/repl_conversation.h"

#include <algorithm>  // min, mismatch
#include <fstream>
#include <utility>    // move

#include "cli/repl_think.h"  // ThinkStyler::kOpen
#include "util/error.h"      // Error
#include "util/json.h"       // Document, Writer

namespace dsmoe::cli {

namespace {

// Removes the oldest `n` turns (a user message and the replies up to the next one), keeping the
// system message.
void drop_oldest(std::vector<ChatMessage>& messages, int64_t n) {
  auto first = messages.begin();
  if (first != messages.end() && first->role == "system") ++first;
  auto last = first;
  for (int64_t dropped = 0; last != messages.end() && dropped < n; ++dropped) {
    ++last;
    while (last != messages.end() && last->role != "user") ++last;
  }
  messages.erase(first, last);
}

}  // namespace

Conversation::Conversation(std::shared_ptr<const LoadedModel> model, Session& session,
                           Sampler& sampler)
    : model_(std::move(model)), session_(session), sampler_(sampler) {
  context_.reserve(static_cast<size_t>(session_.ctx()));
}

void Conversation::set_system(const std::string& text) {
  const bool has = !messages_.empty() && messages_.front().role == "system";
  if (text.empty()) {
    if (has) messages_.erase(messages_.begin());
  } else if (has) {
    messages_.front().content = text;
  } else {
    messages_.insert(messages_.begin(), ChatMessage{"system", text});
  }
}

void Conversation::clear() {
  const bool has_system = !messages_.empty() && messages_.front().role == "system";
  messages_.resize(has_system ? 1 : 0);
  session_.reset();
  sampler_.reset();
  context_.clear();
}

int64_t Conversation::turns() const {
  return std::count_if(messages_.begin(), messages_.end(),
                       [](const ChatMessage& m) { return m.role == "user"; });
}

int64_t Conversation::reply_reserve() const { return std::min<int64_t>(256, session_.ctx() / 4); }

std::vector<int32_t> Conversation::render(const std::vector<ChatMessage>& messages) const {
  return model_->tokenizer().encode(model_->render_chat(messages, true));
}

PreparedTurn Conversation::prepare(const std::string& user) const {
  PreparedTurn t;
  t.user = user;
  std::vector<ChatMessage> all = messages_;
  all.push_back({"user", user});
  const std::string text = model_->render_chat(all, true);
  t.tokens = model_->tokenizer().encode(text);
  t.needed = static_cast<int64_t>(t.tokens.size()) + reply_reserve();
  t.fits = t.needed <= session_.ctx();
  // R1's template opens the reasoning section itself: the reply starts inside it.
  size_t end = text.find_last_not_of(" \n");
  t.opens_think = end != std::string::npos && end + 1 >= ThinkStyler::kOpen.size() &&
                  text.compare(end + 1 - ThinkStyler::kOpen.size(), ThinkStyler::kOpen.size(),
                               ThinkStyler::kOpen) == 0;
  return t;
}

int64_t Conversation::turns_to_drop(const PreparedTurn& turn) const {
  const int64_t n = turns();
  for (int64_t k = 1; k <= n; ++k) {
    std::vector<ChatMessage> trial = messages_;
    drop_oldest(trial, k);
    trial.push_back({"user", turn.user});
    if (static_cast<int64_t>(render(trial).size()) + reply_reserve() <= session_.ctx()) return k;
  }
  return -1;
}

void Conversation::drop_oldest_turns(int64_t n) { drop_oldest(messages_, n); }

GenerateStats Conversation::send(const PreparedTurn& turn, GenerateOptions options,
                                 const PieceSink& sink) {
  if (!turn.fits) {
    throw Error(ErrorCode::kOutOfRange,
                "the conversation needs " + std::to_string(turn.needed) + " tokens but the context holds " +
                    std::to_string(session_.ctx()));
  }
  // Reuse what the session already holds; at least one token must be evaluated for logits.
  size_t keep = static_cast<size_t>(
      std::mismatch(turn.tokens.begin(), turn.tokens.end(), context_.begin(), context_.end()).first -
      turn.tokens.begin());
  keep = std::min(keep, turn.tokens.size() - 1);
  session_.rewind(static_cast<int64_t>(keep));
  context_.resize(keep);

  std::vector<int32_t> generated;
  generated.reserve(static_cast<size_t>(session_.ctx()));
  options.end_tokens = model_->end_tokens();
  options.tokens_out = &generated;
  const std::span<const int32_t> fresh = std::span(turn.tokens).subspan(keep);
  messages_.push_back({"user", turn.user});
  const GenerateStats stats = generate(session_, model_->tokenizer(), sampler_, fresh, options, sink);

  context_.insert(context_.end(), fresh.begin(), fresh.end());
  context_.insert(context_.end(), generated.begin(), generated.end());
  context_.resize(static_cast<size_t>(session_.position()));  // the last token is not evaluated
  if (stats.stop == StopReason::kEndToken) generated.pop_back();
  messages_.push_back({"assistant", model_->tokenizer().decode(generated)});
  return stats;
}

void Conversation::save(const std::filesystem::path& path) const {
  json::Writer w(true);
  w.begin_object().key("messages").begin_array();
  for (const auto& m : messages_) {
    w.begin_object().key("role").value(m.role).key("content").value(m.content).end_object();
  }
  w.end_array().end_object();
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << w.str() << '\n';
  f.close();
  if (!f) throw Error(ErrorCode::kIo, "cannot write " + path.string());
}

void Conversation::load(const std::filesystem::path& path) {
  const json::Document doc = json::Document::load(path);
  const std::string src = path.string();
  json::Array list;
  if (doc.root().is_array()) {
    list = doc.root().get_array().value();
  } else if (doc.root().is_object()) {
    list = json::get_array(doc.root_object(), "messages", src);
  } else {
    throw Error(ErrorCode::kFormat, src + ": expected an object with \"messages\" or an array of messages");
  }
  std::vector<ChatMessage> loaded;
  size_t i = 0;
  for (json::Element e : list) {
    const std::string ctx = src + ": messages[" + std::to_string(i++) + "]";
    if (!e.is_object()) throw Error(ErrorCode::kFormat, ctx + ": expected an object");
    const json::Object o = e.get_object().value();
    loaded.push_back({std::string(json::get_string(o, "role", ctx)),
                      std::string(json::get_string(o, "content", ctx))});
  }
  messages_ = std::move(loaded);
}

}  // namespace dsmoe::cli
