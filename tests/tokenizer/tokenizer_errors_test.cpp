// Bad input gives one clear dsmoe::Error naming the field, never a crash; invalid UTF-8 text is
// refused with its byte offset; streaming decode holds back partial characters; threads share one
// Tokenizer.
#include <gtest/gtest.h>

#include <thread>

#include "tokenizer/tiny_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace dsmoe {
namespace {

using test::TinySpec;
using test::tiny_tokenizer_json;
using Ids = std::vector<int32_t>;

// Loads `json` and returns the error (fails the test when loading succeeds).
Error load_error(const std::string& json) {
  try {
    Tokenizer::from_json(json, "bad.json");
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error for: " << json.substr(0, 200);
  return Error(ErrorCode::kInternal, "");
}

void expect_error(const std::string& json, ErrorCode code, const std::string& needle) {
  const Error e = load_error(json);
  EXPECT_EQ(e.code(), code) << e.what();
  EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
}

std::string with(const std::string& json, const std::string& from, const std::string& to) {
  const size_t at = json.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at == std::string::npos) return json;
  return json.substr(0, at) + to + json.substr(at + from.size());
}

TEST(TokenizerErrors, MalformedJson) {
  const std::string good = tiny_tokenizer_json(TinySpec{});
  expect_error("{\"model\": ", ErrorCode::kFormat, "invalid JSON");
  expect_error("{}", ErrorCode::kFormat, "model");
  expect_error(with(good, R"("type":"BPE")", R"("type":"WordPiece")"), ErrorCode::kUnsupported,
               "WordPiece");
  expect_error(with(good, "\"normalizer\":null", R"("normalizer":{"type":"NFKC"})"),
               ErrorCode::kUnsupported, "NFKC");
  expect_error(with(good, R"({"type":"ByteLevel","add_prefix_space":false,"use_regex":true})",
                    R"({"type":"Metaspace"})"),
               ErrorCode::kUnsupported, "Metaspace");
  expect_error(with(good, R"("decoder":{"type":"ByteLevel"})", R"("decoder":{"type":"WordPiece"})"),
               ErrorCode::kUnsupported, "WordPiece");
  expect_error(with(good, R"("vocab":{)", R"("vocab":{"zz":"seven",)"), ErrorCode::kFormat, "vocab");
  expect_error(with(good, R"("vocab":{)", R"("vocab":{"zz":-4,)"), ErrorCode::kFormat, "-4");
}

TEST(TokenizerErrors, BadMergesAndSplits) {
  TinySpec s;
  s.merges = {{"a", "b"}};
  const std::string good = tiny_tokenizer_json(s);
  expect_error(with(good, R"("merges":["a b"])", R"("merges":["a q9"])"), ErrorCode::kFormat,
               "merges[0]");
  expect_error(with(good, R"("merges":["a b"])", R"("merges":["ab"])"), ErrorCode::kFormat,
               "left right");
  expect_error(with(good, R"("merges":["a b"])", R"("merges":[3])"), ErrorCode::kFormat, "merges[0]");
  s.pre_tokenizer = R"({"type":"Split","pattern":{"Regex":"(unclosed"},"behavior":"Isolated"})";
  expect_error(tiny_tokenizer_json(s), ErrorCode::kFormat, "regex");
  s.pre_tokenizer = R"({"type":"Split","pattern":{"Regex":"a"},"behavior":"Sideways"})";
  expect_error(tiny_tokenizer_json(s), ErrorCode::kFormat, "Sideways");
  s.pre_tokenizer = R"({"type":"Split","pattern":{"Glob":"a"},"behavior":"Isolated"})";
  expect_error(tiny_tokenizer_json(s), ErrorCode::kFormat, "pattern");
  s.added_tokens = R"([{"content":"<x>"}])";
  s.pre_tokenizer = "null";
  expect_error(tiny_tokenizer_json(s), ErrorCode::kFormat, "added_tokens[0]");
}

TEST(TokenizerErrors, InvalidUtf8TextNamesTheByte) {
  const Tokenizer t = Tokenizer::from_json(tiny_tokenizer_json(TinySpec{}), "tiny.json");
  for (const auto& [text, offset] : std::vector<std::pair<std::string, size_t>>{
           {"\xC3", 0}, {"ab\xFF" "c", 2}, {"ok \xE4\xB8", 3}, {"x\xED\xA0\x80", 1}}) {
    try {
      t.encode(text);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_EQ(std::string(e.what()), "invalid UTF-8 at byte " + std::to_string(offset));
    }
  }
}

TEST(TokenizerErrors, MissingFileIsAnIoError) {
  try {
    Tokenizer::load("/nonexistent/tokenizer.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIo);
  }
}

TEST(StreamDecoder, HoldsBackPartialUtf8) {
  TinySpec s;
  s.added_tokens = R"([{"id":300,"content":"<s>","special":true,"normalized":false}])";
  const Tokenizer t = Tokenizer::from_json(tiny_tokenizer_json(s), "tiny.json");
  StreamDecoder d(t);
  // 中 is E4 B8 AD; with the byte-level vocabulary here byte b has id b.
  EXPECT_EQ(d.push('a'), "a");
  EXPECT_EQ(d.push(0xE4), "");
  EXPECT_EQ(d.pending(), 1u);
  EXPECT_EQ(d.push(0xB8), "");
  EXPECT_EQ(d.push(0xAD), "\xE4\xB8\xAD");
  EXPECT_EQ(d.pending(), 0u);
  EXPECT_EQ(d.push(0xFF), "\xEF\xBF\xBD");       // never valid: replaced at once
  EXPECT_EQ(d.push(0xF0), "");
  EXPECT_EQ(d.push('x'), "\xEF\xBF\xBDx");       // broken by 'x': U+FFFD then x
  EXPECT_EQ(d.push(300), "<s>");
  EXPECT_EQ(d.push(0xE4), "");
  EXPECT_EQ(d.flush(), "\xEF\xBF\xBD");          // unfinished at the end
  EXPECT_EQ(d.flush(), "");
  StreamDecoder skipping(t, true);
  EXPECT_EQ(skipping.push(300), "");
  EXPECT_EQ(skipping.push(999), "");  // no such token
  EXPECT_THROW(skipping.push(-5), Error);
}

TEST(Tokenizer, ThreadsShareOneTokenizer) {
  TinySpec s;
  s.merges = {{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {"Ġ", "w"}, {"o", "r"}};
  const Tokenizer t = Tokenizer::from_json(tiny_tokenizer_json(s), "tiny.json");
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "hello world " + std::to_string(i) + (i % 7 ? " " : "\n");
  const Ids want = t.encode(text);
  std::vector<Ids> got(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i)
    threads.emplace_back([&, i] {
      for (int r = 0; r < 5; ++r) got[i] = t.encode(text);
    });
  for (auto& th : threads) th.join();
  for (const Ids& g : got) EXPECT_EQ(g, want);
  EXPECT_EQ(t.decode(want), text);
}

}  // namespace
}  // namespace dsmoe
