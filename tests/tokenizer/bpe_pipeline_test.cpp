// The tokenizer pipeline on small hand-made tokenizer.json files: merges (both spellings), each
// Split behavior, Digits, ByteLevel options, added tokens and their flags, normalizers.
#include <gtest/gtest.h>

#include "tokenizer/tiny_tokenizer.h"
#include "tokenizer/tokenizer.h"

namespace dsmoe {
namespace {

using test::TinySpec;
using test::tiny_tokenizer_json;
using Ids = std::vector<int32_t>;

int32_t b(char c) { return static_cast<unsigned char>(c); }

Tokenizer make(const TinySpec& spec) { return Tokenizer::from_json(tiny_tokenizer_json(spec), "tiny.json"); }

// A Split on "-" then ByteLevel without its own regex, so the Split alone decides the pieces.
TinySpec split_spec(const std::string& behavior, bool invert = false) {
  TinySpec s;
  s.merges = {{"a", "-"}, {"-", "b"}, {"-", "-"}};  // ids 256 "a-", 257 "-b", 258 "--"
  s.pre_tokenizer = R"({"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"String":"-"},"behavior":")" +
                    behavior + R"(","invert":)" + (invert ? "true" : "false") +
                    R"(},{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]})";
  return s;
}

TEST(BpePipeline, MergesApplyInRankOrder) {
  TinySpec s;
  s.merges = {{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}};  // 256 he, 257 ll, 258 hell, 259 hello
  const Tokenizer t = make(s);
  EXPECT_EQ(t.encode("hello"), (Ids{259}));
  EXPECT_EQ(t.encode("hell"), (Ids{258}));
  EXPECT_EQ(t.encode("lll"), (Ids{257, b('l')}));  // equal ranks: leftmost first
  EXPECT_EQ(t.encode("xhe"), (Ids{b('x'), 256}));
  EXPECT_EQ(t.decode(t.encode("hello hello")), "hello hello");
}

TEST(BpePipeline, LowerRankWinsOverPosition) {
  TinySpec s;
  s.merges = {{"b", "c"}, {"a", "b"}};  // 256 "bc" (rank 0), 257 "ab" (rank 1)
  const Tokenizer t = make(s);
  EXPECT_EQ(t.encode("abc"), (Ids{b('a'), 256}));
}

TEST(BpePipeline, PairFormMergesEqualStringForm) {
  TinySpec s;
  s.merges = {{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {"Ġ", "w"}};
  const Tokenizer strings = make(s);
  s.pair_form = true;
  const Tokenizer pairs = make(s);
  for (const char* text : {"hello", "hello world", " w", "shell"})
    EXPECT_EQ(strings.encode(text), pairs.encode(text)) << text;
  EXPECT_EQ(pairs.encode("hello"), (Ids{259}));
  EXPECT_EQ(pairs.encode(" w"), (Ids{260}));
}

TEST(BpePipeline, SplitIsolated) {
  const Tokenizer t = make(split_spec("Isolated"));
  EXPECT_EQ(t.encode("a-b"), (Ids{b('a'), b('-'), b('b')}));
}

TEST(BpePipeline, SplitRemoved) {
  const Tokenizer t = make(split_spec("Removed"));
  EXPECT_EQ(t.encode("a-b"), (Ids{b('a'), b('b')}));
  EXPECT_EQ(t.encode("--"), Ids{});
}

TEST(BpePipeline, SplitMergedWithPrevious) {
  const Tokenizer t = make(split_spec("MergedWithPrevious"));
  EXPECT_EQ(t.encode("a-b"), (Ids{256, b('b')}));
  EXPECT_EQ(t.encode("-b"), (Ids{b('-'), b('b')}));  // nothing before the first match
}

TEST(BpePipeline, SplitMergedWithNext) {
  const Tokenizer t = make(split_spec("MergedWithNext"));
  EXPECT_EQ(t.encode("a-b"), (Ids{b('a'), 257}));
  EXPECT_EQ(t.encode("a-"), (Ids{b('a'), b('-')}));  // nothing after the last match
}

TEST(BpePipeline, SplitContiguous) {
  const Tokenizer t = make(split_spec("Contiguous"));
  EXPECT_EQ(t.encode("a--b"), (Ids{b('a'), 258, b('b')}));
  EXPECT_EQ(t.encode("a-b"), (Ids{b('a'), b('-'), b('b')}));
}

TEST(BpePipeline, SplitInvertKeepsWhatWouldBeRemoved) {
  const Tokenizer t = make(split_spec("Removed", true));
  // Each kept segment stays its own piece: Removed never joins neighbours.
  EXPECT_EQ(t.encode("a-b--"), (Ids{b('-'), b('-'), b('-')}));
}

TEST(BpePipeline, SplitRegexWithLookahead) {
  TinySpec s;
  s.merges = {{"Ġ", "Ġ"}};  // 256 "  "
  // GPT-2's whitespace rule: a run before a word leaves its last space to that word.
  s.pre_tokenizer = R"({"type":"Sequence","pretokenizers":[
      {"type":"Split","pattern":{"Regex":"\\s+(?!\\S)|\\s+"},"behavior":"Isolated","invert":false},
      {"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]})";
  const Tokenizer t = make(s);
  EXPECT_EQ(t.encode("   x"), (Ids{256, b(' '), b('x')}));
  EXPECT_EQ(t.encode("x  "), (Ids{b('x'), 256}));
}

TEST(BpePipeline, Digits) {
  TinySpec s;
  s.merges = {{"1", "2"}, {"12", "3"}};  // 256 "12", 257 "123"
  s.pre_tokenizer = R"({"type":"Sequence","pretokenizers":[{"type":"Digits","individual_digits":true},
      {"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]})";
  EXPECT_EQ(make(s).encode("a123"), (Ids{b('a'), b('1'), b('2'), b('3')}));
  s.pre_tokenizer = R"({"type":"Sequence","pretokenizers":[{"type":"Digits","individual_digits":false},
      {"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]})";
  EXPECT_EQ(make(s).encode("a123b"), (Ids{b('a'), 257, b('b')}));
}

TEST(BpePipeline, ByteLevelPrefixSpaceAndGpt2Regex) {
  TinySpec s;
  s.merges = {{"h", "i"}, {"Ġ", "hi"}};  // 256 "hi", 257 "Ġhi"
  s.pre_tokenizer = R"({"type":"ByteLevel","add_prefix_space":true,"use_regex":true})";
  const Tokenizer t = make(s);
  EXPECT_EQ(t.encode("hi"), (Ids{257}));
  EXPECT_EQ(t.encode("hi hi"), (Ids{257, 257}));
  EXPECT_EQ(t.encode("hi's"), (Ids{257, b('\''), b('s')}));
  EXPECT_EQ(t.decode(t.encode("hi")), " hi");
}

TEST(BpePipeline, NoPreTokenizerWorksOnCharacters) {
  TinySpec s;
  s.merges = {{"a", "b"}};
  s.pre_tokenizer = "null";
  EXPECT_EQ(make(s).encode("abab"), (Ids{256, 256}));
}

std::string added(const std::string& content, int id, bool special, const std::string& flags = "") {
  return R"({"id":)" + std::to_string(id) + R"(,"content":")" + content + R"(","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":)" +
         (special ? "true" : "false") + flags + "}";
}

TEST(BpePipeline, AddedTokensInsideText) {
  TinySpec s;
  s.added_tokens = "[" + added("<a>", 300, true) + "," + added("<a><b>", 301, true) + "," +
                   added("[x]", 302, false) + "]";
  const Tokenizer t = make(s);
  EXPECT_EQ(t.vocab_size(), 303);
  EXPECT_EQ(t.encode("q<a>r"), (Ids{b('q'), 300, b('r')}));
  EXPECT_EQ(t.encode("<a><b><a>"), (Ids{301, 300}));  // longest match first
  EXPECT_EQ(t.encode("<a<a>>"), (Ids{b('<'), b('a'), 300, b('>')}));
  EXPECT_EQ(t.encode("[x] [x]"), (Ids{302, b(' '), 302}));
  EXPECT_EQ(t.decode(Ids{b('q'), 300, 302}), "q<a>[x]");
  EXPECT_EQ(t.decode(Ids{b('q'), 300, 302}, true), "q[x]");
  EXPECT_TRUE(t.is_special(300));
  EXPECT_FALSE(t.is_special(302));
  EXPECT_EQ(t.token_id("<a><b>"), 301);
}

TEST(BpePipeline, AddedTokenStripFlags) {
  TinySpec s;
  s.added_tokens = R"([
    {"id":300,"content":"<l>","single_word":false,"lstrip":true,"rstrip":false,"normalized":false,"special":true},
    {"id":301,"content":"<r>","single_word":false,"lstrip":false,"rstrip":true,"normalized":false,"special":true},
    {"id":302,"content":"<w>","single_word":true,"lstrip":false,"rstrip":false,"normalized":false,"special":true}])";
  const Tokenizer t = make(s);
  EXPECT_EQ(t.encode("x  <l>y"), (Ids{b('x'), 300, b('y')}));
  EXPECT_EQ(t.encode("x<r> \t y"), (Ids{b('x'), 301, b('y')}));
  EXPECT_EQ(t.encode("a <w> b"), (Ids{b('a'), b(' '), 302, b(' '), b('b')}));
  // Inside a word single_word tokens are not recognised.
  EXPECT_EQ(t.encode("a<w>b"), (Ids{b('a'), b('<'), b('w'), b('>'), b('b')}));
}

TEST(BpePipeline, NormalizedAddedTokensMatchAfterTheNormalizer) {
  TinySpec s;
  s.normalizer = R"({"type":"Sequence","normalizers":[{"type":"Replace","pattern":{"String":"A"},"content":"a"}]})";
  s.added_tokens = R"([{"id":300,"content":"<aA>","single_word":false,"lstrip":false,"rstrip":false,"normalized":true,"special":false},
    {"id":301,"content":"<A>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}])";
  const Tokenizer t = make(s);
  EXPECT_EQ(t.encode("A<AA>"), (Ids{b('a'), 300}));  // "<AA>" normalizes to "<aa>", the pattern
  EXPECT_EQ(t.encode("<A>"), (Ids{301}));            // raw pass first, before "A" is replaced
}

TEST(BpePipeline, PrependAndStripNormalizers) {
  TinySpec s;
  s.normalizer = R"({"type":"Sequence","normalizers":[{"type":"Strip","strip_left":true,"strip_right":true},{"type":"Prepend","prepend":"_"}]})";
  s.pre_tokenizer = R"({"type":"ByteLevel","add_prefix_space":false,"use_regex":false})";
  EXPECT_EQ(make(s).encode("  ab \n"), (Ids{b('_'), b('a'), b('b')}));
}

}  // namespace
}  // namespace dsmoe
