// The DeepSeek-V3 tokenizer against Hugging Face `tokenizers` output (../shared/fixtures).
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "support/fixtures.h"  // DSMOE_FIXTURE_OR_SKIP
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/json.h"

namespace dsmoe {
namespace {

constexpr const char* kDir = "tokenizer/deepseek-v3/";

std::vector<std::string> read_lines(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::vector<std::string> lines;
  for (std::string line; std::getline(f, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

std::vector<int32_t> int_array(json::Array a, std::string_view ctx) {
  std::vector<int32_t> v;
  for (json::Element e : a) v.push_back(static_cast<int32_t>(json::as_int(e, ctx)));
  return v;
}

const Tokenizer& deepseek(const std::filesystem::path& path) {
  static const Tokenizer t = Tokenizer::load(path);
  return t;
}

TEST(DeepSeekTokenizer, Metadata) {
  DSMOE_FIXTURE_OR_SKIP(path, std::string(kDir) + "tokenizer.json");
  const Tokenizer& t = deepseek(path);
  EXPECT_EQ(t.vocab_size(), 128815);
  EXPECT_EQ(t.token_id("<｜begin▁of▁sentence｜>"), 0);
  EXPECT_EQ(t.token_id("<｜User｜>"), 128803);
  EXPECT_EQ(t.token_id("Ġthe"), t.encode(" the").at(0));
  EXPECT_FALSE(t.token_id("no such token, surely").has_value());
  EXPECT_EQ(t.token_text(1), "<｜end▁of▁sentence｜>");
  EXPECT_TRUE(t.is_special(0));
  EXPECT_TRUE(t.is_special(128000));
  EXPECT_FALSE(t.is_special(128803));  // <｜User｜> is added but not special
  EXPECT_TRUE(t.is_added(128803));
  EXPECT_FALSE(t.is_special(3));
  EXPECT_EQ(t.special_ids().size(), 804u);
  EXPECT_EQ(t.token_bytes(*t.token_id("Ġthe")), " the");
}

TEST(DeepSeekTokenizer, EncodeCasesMatchHuggingFace) {
  DSMOE_FIXTURE_OR_SKIP(path, std::string(kDir) + "cases.jsonl");
  const Tokenizer& t = deepseek(path.parent_path() / "tokenizer.json");
  size_t checked = 0, unicode_version_diffs = 0;
  for (const std::string& line : read_lines(path)) {
    const auto doc = json::Document::parse(line, "cases.jsonl");
    const json::Object o = doc.root_object();
    const std::string text(json::get_string(o, "text", "case"));
    const std::string category(json::get_string(o, "category", "case"));
    const int64_t id = json::get_int(o, "id", "case");
    const std::vector<int32_t> want = int_array(json::get_array(o, "ids", "case"), "case ids");
    const std::vector<int32_t> got = t.encode(text);
    // The fixture README allows a difference only where PCRE2's Unicode 14 tables lack newer
    // characters; the round trip must hold regardless.
    if (category == "unicode-version") {
      unicode_version_diffs += got != want;
    } else {
      EXPECT_EQ(got, want) << "case " << id << " (" << category << "): " << text.substr(0, 200);
    }
    EXPECT_EQ(t.decode(got), text) << "case " << id;
    EXPECT_EQ(t.decode(want), text) << "case " << id;
    ++checked;
  }
  EXPECT_EQ(checked, 486u);
  std::printf("unicode-version cases that differ from HF: %zu\n", unicode_version_diffs);
}

TEST(DeepSeekTokenizer, DecodeCasesMatchHuggingFace) {
  DSMOE_FIXTURE_OR_SKIP(path, std::string(kDir) + "decode_cases.jsonl");
  const Tokenizer& t = deepseek(path.parent_path() / "tokenizer.json");
  size_t checked = 0;
  for (const std::string& line : read_lines(path)) {
    const auto doc = json::Document::parse(line, "decode_cases.jsonl");
    const json::Object o = doc.root_object();
    const std::vector<int32_t> ids = int_array(json::get_array(o, "ids", "case"), "case ids");
    const std::string_view want = json::get_string(o, "decoded", "case");
    const std::string_view want_skip = json::get_string(o, "decoded_skip_special", "case");
    EXPECT_EQ(t.decode(ids), want) << line;
    EXPECT_EQ(t.decode(ids, true), want_skip) << line;
    // Streaming the same ids one at a time gives the same text.
    for (bool skip : {false, true}) {
      StreamDecoder sd(t, skip);
      std::string streamed;
      for (int32_t id : ids) streamed += sd.push(id);
      streamed += sd.flush();
      EXPECT_EQ(streamed, skip ? want_skip : want) << line;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 120u);
}

TEST(DeepSeekTokenizer, ChatCasesTokenizeTheRenderedText) {
  DSMOE_FIXTURE_OR_SKIP(path, std::string(kDir) + "chat_cases.jsonl");
  const Tokenizer& t = deepseek(path.parent_path() / "tokenizer.json");
  for (const std::string& line : read_lines(path)) {
    const auto doc = json::Document::parse(line, "chat_cases.jsonl");
    const json::Object o = doc.root_object();
    const std::string_view rendered = json::get_string(o, "rendered", "case");
    EXPECT_EQ(t.encode(rendered), int_array(json::get_array(o, "ids", "case"), "ids"))
        << json::get_string(o, "name", "case");
  }
}

TEST(DeepSeekTokenizer, IdsWithoutATokenDecodeToNothing) {
  DSMOE_FIXTURE_OR_SKIP(path, std::string(kDir) + "tokenizer.json");
  const Tokenizer& t = deepseek(path);
  const std::vector<int32_t> padding{3, 129000, 3};  // an embedding row past the vocabulary
  EXPECT_EQ(t.decode(padding), "!!");
  EXPECT_EQ(t.token_text(129000), "");
  const std::vector<int32_t> negative{-1};
  EXPECT_THROW(t.decode(negative), Error);
}

}  // namespace
}  // namespace dsmoe
