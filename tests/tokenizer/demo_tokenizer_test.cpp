// The bundled demo model's tokenizer (models/demo, trained by the project's own script) against the
// ids its Python BPE reference produced: a second, independent byte-level BPE implementation.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tokenizer/tokenizer.h"
#include "util/json.h"

namespace dsmoe {
namespace {

TEST(DemoTokenizer, MatchesThePythonReference) {
  const std::filesystem::path dir = std::filesystem::path(DSMOE_SOURCE_DIR) / "models" / "demo";
  if (!std::filesystem::exists(dir / "tokenizer_cases.jsonl"))
    GTEST_SKIP() << "models/demo/tokenizer_cases.jsonl not present";
  const Tokenizer t = Tokenizer::load(dir / "tokenizer.json");
  std::ifstream f(dir / "tokenizer_cases.jsonl");
  size_t n = 0;
  for (std::string line; std::getline(f, line);) {
    if (line.empty()) continue;
    const auto doc = json::Document::parse(line, "tokenizer_cases.jsonl");
    const json::Object o = doc.root_object();
    const std::string_view text = json::get_string(o, "text", "case");
    std::vector<int32_t> want;
    for (json::Element e : json::get_array(o, "ids", "case"))
      want.push_back(static_cast<int32_t>(json::as_int(e, "ids")));
    EXPECT_EQ(t.encode(text), want) << text;
    EXPECT_EQ(t.decode(want), text);
    ++n;
  }
  EXPECT_GT(n, 0u);
}

}  // namespace
}  // namespace dsmoe
