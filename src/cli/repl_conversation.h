#pragma once
// The conversation behind `dsmoe chat`: the messages so far, kept in step with a Session. Each
// turn renders the whole conversation with the model's chat template, keeps the longest prefix of
// tokens the session already holds and evaluates only the rest, so any template works (R1's, which
// rewrites earlier replies, included). A conversation that no longer fits is reported, never
// truncated silently: the caller may drop the oldest turns.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "capi/loaded_model.h"  // LoadedModel, ChatMessage
#include "runtime/generate.h"   // GenerateOptions, GenerateStats, PieceSink
#include "runtime/session.h"    // Session
#include "sample/sampler.h"     // Sampler

namespace dsmoe::cli {

// A user message made ready to send.
struct PreparedTurn {
  std::string user;
  std::vector<int32_t> tokens;  // the whole rendered conversation, generation prompt included
  int64_t needed = 0;           // tokens + room kept for the reply
  bool fits = false;
  bool opens_think = false;     // the generation prompt ends inside a <think> section
};

class Conversation {
 public:
  Conversation(std::shared_ptr<const LoadedModel> model, Session& session, Sampler& sampler);

  const std::vector<ChatMessage>& messages() const { return messages_; }
  // Sets the system message ("" removes it); the conversation is kept.
  void set_system(const std::string& text);
  // Forgets every message but the system message, and the session's context.
  void clear();
  int64_t turns() const;  // user messages so far
  int64_t context_used() const { return session_.position(); }
  int64_t context_size() const { return session_.ctx(); }
  int64_t reply_reserve() const;  // room a new turn must leave for the reply

  PreparedTurn prepare(const std::string& user) const;
  // The fewest oldest turns to drop so that `turn` fits, or -1 when it does not fit even alone.
  int64_t turns_to_drop(const PreparedTurn& turn) const;
  void drop_oldest_turns(int64_t n);

  // Sends a prepared turn that fits and streams the reply to `sink`. The reply is kept in the
  // conversation even when cut short (cancelled, context full).
  GenerateStats send(const PreparedTurn& turn, GenerateOptions options, const PieceSink& sink);

  // The conversation as JSON: {"messages": [{"role": ..., "content": ...}, ...]}.
  void save(const std::filesystem::path& path) const;
  // Replaces the conversation; accepts that object or a bare array of messages. Throws Error
  // naming the file and the field for anything else.
  void load(const std::filesystem::path& path);

 private:
  std::vector<int32_t> render(const std::vector<ChatMessage>& messages) const;

  std::shared_ptr<const LoadedModel> model_;
  Session& session_;
  Sampler& sampler_;
  std::vector<ChatMessage> messages_;
  std::vector<int32_t> context_;  // the tokens the session holds, in order
};

}  // namespace dsmoe::cli
