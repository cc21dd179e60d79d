// The C API on a tiny model: loading, text functions, buffers, evaluation, sampling, generation
// (streaming, determinism, stop strings, cancellation) and clear errors for bad input.
#include "dsmoe/dsmoe.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "capi/tiny_model.h"

namespace {

class CApi : public ::testing::Test {
 protected:
  void SetUp() override {
    dsmoe_model_options o;
    dsmoe_model_options_default(&o);
    o.n_threads = 1;
    ASSERT_EQ(dsmoe_model_load(dsmoe::test::tiny_chat_model().c_str(), &o, &model_), DSMOE_OK)
        << dsmoe_last_error();
    dsmoe_session_options so;
    dsmoe_session_options_default(&so);
    so.n_ctx = 256;
    ASSERT_EQ(dsmoe_session_create(model_, &so, &session_), DSMOE_OK) << dsmoe_last_error();
  }
  void TearDown() override {
    dsmoe_session_free(session_);
    dsmoe_model_free(model_);
  }

  // Generates from a fresh context and returns the streamed text.
  std::string generate(const std::string& prompt, dsmoe_generate_options o,
                       dsmoe_generate_result* result = nullptr) {
    EXPECT_EQ(dsmoe_session_reset(session_), DSMOE_OK);
    std::string text;
    o.user_data = &text;
    o.on_piece = [](const char* piece, size_t len, void* user) {
      static_cast<std::string*>(user)->append(piece, len);
      return 0;
    };
    EXPECT_EQ(dsmoe_generate(session_, prompt.data(), prompt.size(), &o, result), DSMOE_OK)
        << dsmoe_last_error();
    return text;
  }

  static dsmoe_generate_options options(int max_tokens, uint64_t seed) {
    static thread_local dsmoe_sampling_options s;
    dsmoe_sampling_options_default(&s);
    s.seed = seed;
    dsmoe_generate_options o;
    dsmoe_generate_options_default(&o);
    o.max_tokens = max_tokens;
    o.sampling = &s;
    return o;
  }

  dsmoe_model* model_ = nullptr;
  dsmoe_session* session_ = nullptr;
};

TEST(CApiBasics, VersionAndStatusNames) {
  EXPECT_STREQ(dsmoe_version(), DSMOE_VERSION_STRING);
  EXPECT_STREQ(dsmoe_status_name(DSMOE_ERR_OUT_OF_RANGE), "DSMOE_ERR_OUT_OF_RANGE");
}

TEST(CApiBasics, MissingFileIsAnIoErrorNamingThePath) {
  dsmoe_model* m = reinterpret_cast<dsmoe_model*>(1);
  EXPECT_EQ(dsmoe_model_load("/nonexistent/model.dsmoe", nullptr, &m), DSMOE_ERR_IO);
  EXPECT_EQ(m, nullptr);
  EXPECT_NE(std::string(dsmoe_last_error()).find("/nonexistent/model.dsmoe"), std::string::npos)
      << dsmoe_last_error();
}

TEST(CApiBasics, NullArgumentsAreRejected) {
  EXPECT_EQ(dsmoe_model_load(nullptr, nullptr, nullptr), DSMOE_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(dsmoe_last_error()).find("NULL"), std::string::npos);
  size_t n = 0;
  EXPECT_EQ(dsmoe_tokenize(nullptr, "a", 1, 0, nullptr, 0, &n), DSMOE_ERR_INVALID_ARGUMENT);
  dsmoe_model_free(nullptr);
  dsmoe_session_free(nullptr);
}

TEST(CApiBasics, UninitializedOptionsAreRejected) {
  dsmoe_model_options o{};  // struct_size 0: the caller forgot dsmoe_model_options_default
  dsmoe_model* m = nullptr;
  EXPECT_EQ(dsmoe_model_load(dsmoe::test::tiny_chat_model().c_str(), &o, &m), DSMOE_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(dsmoe_last_error()).find("struct_size"), std::string::npos);
}

TEST_F(CApi, ModelInfo) {
  dsmoe_model_info info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(dsmoe_model_get_info(model_, &info), DSMOE_OK);
  EXPECT_EQ(info.vocab_size, 4096);
  EXPECT_EQ(info.n_layers, 2);
  EXPECT_EQ(info.bos_token, 0);
  EXPECT_EQ(info.eos_token, 1);
  EXPECT_EQ(info.has_chat_template, 1);
  EXPECT_STREQ(info.model_type, "deepseek_v3");
  int end = 0;
  ASSERT_EQ(dsmoe_token_is_end(model_, 1, &end), DSMOE_OK);
  EXPECT_EQ(end, 1);
  ASSERT_EQ(dsmoe_token_is_end(model_, 5, &end), DSMOE_OK);
  EXPECT_EQ(end, 0);
}

TEST_F(CApi, OlderSmallerResultStructIsFilledOnlyAsFarAsItReaches) {
  struct {
    size_t struct_size;
    int32_t vocab_size;
    int32_t canary;  // beyond the caller's struct_size: must stay untouched
  } old{offsetof(dsmoe_model_info, max_context), 0, 12345};
  ASSERT_EQ(dsmoe_model_get_info(model_, reinterpret_cast<dsmoe_model_info*>(&old)), DSMOE_OK);
  EXPECT_EQ(old.vocab_size, 4096);
  EXPECT_EQ(old.canary, 12345);
}

TEST_F(CApi, TokenizeAndDetokenizeRoundTrip) {
  const std::string text = "Hello, world! Grüße";
  size_t n = 0;
  ASSERT_EQ(dsmoe_tokenize(model_, text.data(), text.size(), 1, nullptr, 0, &n), DSMOE_OK);
  ASSERT_GT(n, 1u);
  std::vector<dsmoe_token> ids(n);
  ASSERT_EQ(dsmoe_tokenize(model_, text.data(), text.size(), 1, ids.data(), ids.size(), &n), DSMOE_OK);
  EXPECT_EQ(ids[0], 0);  // BOS
  size_t len = 0;
  ASSERT_EQ(dsmoe_detokenize(model_, ids.data() + 1, n - 1, nullptr, 0, &len), DSMOE_OK);
  std::string back(len, '\0');
  ASSERT_EQ(dsmoe_detokenize(model_, ids.data() + 1, n - 1, back.data(), len + 1, &len), DSMOE_OK);
  EXPECT_EQ(back, text);
}

TEST_F(CApi, TooSmallBuffersReportTheSizeNeeded) {
  const std::string text = "a few words of text";
  dsmoe_token one[1];
  size_t n = 0;
  EXPECT_EQ(dsmoe_tokenize(model_, text.data(), text.size(), 0, one, 1, &n), DSMOE_ERR_OUT_OF_RANGE);
  EXPECT_GT(n, 1u);
  EXPECT_NE(std::string(dsmoe_last_error()).find("too small"), std::string::npos);
  const dsmoe_token ids[2] = {100, 200};
  char buf[2];
  size_t len = 0;
  EXPECT_EQ(dsmoe_detokenize(model_, ids, 2, buf, sizeof buf, &len), DSMOE_ERR_OUT_OF_RANGE);
  EXPECT_GT(len, 0u);
}

TEST_F(CApi, InvalidUtf8IsRejectedWithItsOffset) {
  const char bad[] = "ok \xC3\x28 no";
  size_t n = 0;
  EXPECT_EQ(dsmoe_tokenize(model_, bad, sizeof bad - 1, 0, nullptr, 0, &n), DSMOE_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(dsmoe_last_error()).find("UTF-8"), std::string::npos) << dsmoe_last_error();
  EXPECT_NE(std::string(dsmoe_last_error()).find("offset 3"), std::string::npos) << dsmoe_last_error();

  dsmoe_generate_options o = options(4, 1);
  EXPECT_EQ(dsmoe_generate(session_, bad, sizeof bad - 1, &o, nullptr), DSMOE_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(dsmoe_last_error()).find("prompt is not valid UTF-8"), std::string::npos);

  dsmoe_message m = {"user", bad};
  size_t len = 0;
  EXPECT_EQ(dsmoe_apply_chat_template(model_, &m, 1, 1, nullptr, 0, &len), DSMOE_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(dsmoe_last_error()).find("messages[0].content"), std::string::npos);
}

TEST_F(CApi, ChatTemplate) {
  const dsmoe_message messages[2] = {{"system", "Be brief."}, {"user", "Hi"}};
  size_t len = 0;
  ASSERT_EQ(dsmoe_apply_chat_template(model_, messages, 2, 1, nullptr, 0, &len), DSMOE_OK);
  std::string text(len, '\0');
  ASSERT_EQ(dsmoe_apply_chat_template(model_, messages, 2, 1, text.data(), len + 1, &len), DSMOE_OK);
  EXPECT_EQ(text, "<｜begin▁of▁sentence｜>Be brief.<｜User｜>Hi<｜Assistant｜>");
}

TEST_F(CApi, EvalThenSample) {
  const dsmoe_token prompt[3] = {0, 100, 200};
  const float* logits = nullptr;
  ASSERT_EQ(dsmoe_eval(session_, prompt, 3, &logits), DSMOE_OK) << dsmoe_last_error();
  ASSERT_NE(logits, nullptr);
  size_t pos = 0, n_ctx = 0;
  ASSERT_EQ(dsmoe_session_get_position(session_, &pos, &n_ctx), DSMOE_OK);
  EXPECT_EQ(pos, 3u);
  EXPECT_EQ(n_ctx, 256u);

  dsmoe_sampling_options s;
  dsmoe_sampling_options_default(&s);
  s.temperature = 0;  // greedy: the argmax of the logits
  ASSERT_EQ(dsmoe_session_set_sampling(session_, &s), DSMOE_OK);
  dsmoe_token t = -1;
  ASSERT_EQ(dsmoe_sample(session_, nullptr, &t), DSMOE_OK);
  int best = 0;
  for (int i = 1; i < 4096; ++i) {
    if (logits[i] > logits[best]) best = i;
  }
  EXPECT_EQ(t, best);
}

TEST_F(CApi, EvalOutOfVocabularyIsOutOfRange) {
  const dsmoe_token bad[1] = {4096};
  EXPECT_EQ(dsmoe_eval(session_, bad, 1, nullptr), DSMOE_ERR_OUT_OF_RANGE);
  EXPECT_STRNE(dsmoe_last_error(), "");
}

TEST_F(CApi, BadSamplingOptionsNameTheField) {
  dsmoe_sampling_options s;
  dsmoe_sampling_options_default(&s);
  s.top_p = 1.5f;
  EXPECT_EQ(dsmoe_session_set_sampling(session_, &s), DSMOE_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(dsmoe_last_error()).find("top_p"), std::string::npos);
}

TEST_F(CApi, GenerateStreamsAndIsDeterministicForASeed) {
  dsmoe_generate_result r{};
  r.struct_size = sizeof r;
  const std::string prompt = "Once upon a time";
  const std::string a = generate(prompt, options(24, 7), &r);
  size_t n = 0;
  ASSERT_EQ(dsmoe_tokenize(model_, prompt.data(), prompt.size(), 0, nullptr, 0, &n), DSMOE_OK);
  EXPECT_EQ(r.prompt_tokens, n);
  EXPECT_GE(r.generated_tokens, 1u);
  EXPECT_LE(r.generated_tokens, 24u);
  if (r.stop_reason == DSMOE_STOP_MAX_TOKENS) {
    EXPECT_EQ(r.generated_tokens, 24u);
  }
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(generate("Once upon a time", options(24, 7)), a);
  EXPECT_NE(generate("Once upon a time", options(24, 8)), a);
}

TEST_F(CApi, StopStringEndsGenerationAndIsNotShown) {
  // Greedy output is fixed: stop at a piece of it and check what comes before.
  dsmoe_generate_options o = options(24, 1);
  dsmoe_sampling_options s;
  dsmoe_sampling_options_default(&s);
  s.temperature = 0;
  o.sampling = &s;
  const std::string full = generate("The king said", o);
  ASSERT_GE(full.size(), 12u);
  const std::string stop = full.substr(6, 4);
  const char* stops[1] = {stop.c_str()};
  o.stop_strings = stops;
  o.n_stop_strings = 1;
  dsmoe_generate_result r{};
  r.struct_size = sizeof r;
  const std::string cut = generate("The king said", o, &r);
  EXPECT_EQ(r.stop_reason, DSMOE_STOP_STRING);
  EXPECT_EQ(cut, full.substr(0, full.find(stop)));
}

TEST_F(CApi, CancelFlagSetFromAnotherThreadStopsGeneration) {
  // The third piece's callback hands over to another thread and waits until that thread has
  // raised the flag, so the stop point is exact whatever the scheduling.
  struct Shared {
    int cancel = 0;
    std::atomic<int> pieces{0};
    std::atomic<bool> raised{false};
  } sh;
  dsmoe_generate_options o = options(0, 3);  // no token limit: only cancel or a full context stops it
  o.cancel = &sh.cancel;
  o.stop_at_end_token = 0;
  o.user_data = &sh;
  o.on_piece = [](const char*, size_t, void* user) {
    auto& x = *static_cast<Shared*>(user);
    if (x.pieces.fetch_add(1) + 1 == 3) {
      while (!x.raised.load()) std::this_thread::yield();
    }
    return 0;
  };
  std::thread canceller([&] {
    while (sh.pieces.load() < 3) std::this_thread::yield();
    __atomic_store_n(&sh.cancel, 1, __ATOMIC_RELAXED);
    sh.raised.store(true);
  });
  dsmoe_generate_result r{};
  r.struct_size = sizeof r;
  const char prompt[] = "Tell me a long story";
  const dsmoe_status st = dsmoe_generate(session_, prompt, sizeof prompt - 1, &o, &r);
  canceller.join();
  ASSERT_EQ(st, DSMOE_OK) << dsmoe_last_error();
  EXPECT_EQ(r.stop_reason, DSMOE_STOP_CANCELLED);
  EXPECT_EQ(sh.pieces.load(), 3);
  EXPECT_GE(r.generated_tokens, 3u);  // a token may complete no character and stream nothing
  EXPECT_LT(r.generated_tokens, 8u);
}

TEST_F(CApi, SessionLargerThanTheModelAllowsIsRejected) {
  dsmoe_session_options so;
  dsmoe_session_options_default(&so);
  so.n_ctx = 1 << 20;  // the model's max_position_embeddings is 2048
  dsmoe_session* s = nullptr;
  EXPECT_EQ(dsmoe_session_create(model_, &so, &s), DSMOE_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(s, nullptr);
  EXPECT_STRNE(dsmoe_last_error(), "");
}

TEST_F(CApi, EmptyEvalAndSampleBeforeEvalAreRejected) {
  EXPECT_EQ(dsmoe_eval(session_, nullptr, 0, nullptr), DSMOE_ERR_INVALID_ARGUMENT);
  dsmoe_token t = 0;
  EXPECT_EQ(dsmoe_sample(session_, nullptr, &t), DSMOE_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(dsmoe_last_error()).find("nothing evaluated"), std::string::npos);
}

TEST_F(CApi, CancelBeforeStartGeneratesNothing) {
  int cancel = 1;
  dsmoe_generate_options o = options(10, 3);
  o.cancel = &cancel;
  dsmoe_generate_result r{};
  r.struct_size = sizeof r;
  EXPECT_EQ(generate("Hello", o, &r), "");
  EXPECT_EQ(r.stop_reason, DSMOE_STOP_CANCELLED);
  EXPECT_EQ(r.generated_tokens, 0u);
}

TEST_F(CApi, CallbackCanStopGeneration) {
  dsmoe_generate_options o = options(0, 5);
  o.stop_at_end_token = 0;
  int calls = 0;
  o.user_data = &calls;
  o.on_piece = [](const char*, size_t, void* user) { return ++*static_cast<int*>(user) >= 2 ? 1 : 0; };
  dsmoe_generate_result r{};
  r.struct_size = sizeof r;
  const char prompt[] = "Hello";
  ASSERT_EQ(dsmoe_generate(session_, prompt, sizeof prompt - 1, &o, &r), DSMOE_OK);
  EXPECT_EQ(r.stop_reason, DSMOE_STOP_CALLBACK);
  EXPECT_EQ(calls, 2);
}

TEST_F(CApi, OverlongPromptIsOutOfRangeAndChangesNothing) {
  std::string prompt;
  for (int i = 0; i < 300; ++i) prompt += " word";
  dsmoe_generate_options o = options(4, 1);
  EXPECT_EQ(dsmoe_generate(session_, prompt.data(), prompt.size(), &o, nullptr), DSMOE_ERR_OUT_OF_RANGE);
  const std::string msg = dsmoe_last_error();
  EXPECT_NE(msg.find("prompt is"), std::string::npos) << msg;
  EXPECT_NE(msg.find("256"), std::string::npos) << msg;
  size_t pos = 1;
  ASSERT_EQ(dsmoe_session_get_position(session_, &pos, nullptr), DSMOE_OK);
  EXPECT_EQ(pos, 0u);
}

TEST_F(CApi, GenerationStopsWhenTheContextIsFull) {
  dsmoe_generate_options o = options(0, 2);
  o.stop_at_end_token = 0;
  dsmoe_generate_result r{};
  r.struct_size = sizeof r;
  generate("Hello", o, &r);
  EXPECT_EQ(r.stop_reason, DSMOE_STOP_CONTEXT_FULL);
  EXPECT_EQ(r.prompt_tokens + r.generated_tokens, 257u);  // the last token is sampled, not evaluated
}

TEST_F(CApi, GenerationContinuesTheConversation) {
  const char a[] = "First part.";
  dsmoe_generate_options o = options(3, 1);
  ASSERT_EQ(dsmoe_generate(session_, a, sizeof a - 1, &o, nullptr), DSMOE_OK);
  size_t pos1 = 0;
  ASSERT_EQ(dsmoe_session_get_position(session_, &pos1, nullptr), DSMOE_OK);
  const char b[] = " And more.";
  ASSERT_EQ(dsmoe_generate(session_, b, sizeof b - 1, &o, nullptr), DSMOE_OK);
  size_t pos2 = 0;
  ASSERT_EQ(dsmoe_session_get_position(session_, &pos2, nullptr), DSMOE_OK);
  EXPECT_GT(pos2, pos1 + 3);
}

}  // namespace
