#include "tokenizer/pre_tokenizer.h"

#include <algorithm>  // reverse
#include <optional>

#include "util/error.h"  // Error

namespace dsmoe::tok {
namespace {

// GPT-2's pre-tokenizer pattern, used by ByteLevel when use_regex is true.
constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

[[noreturn]] void unsupported(const std::string& ctx, std::string_view what) {
  throw Error(ErrorCode::kUnsupported, ctx + ": " + std::string(what));
}

json::Object as_object(json::Element e, const std::string& ctx) {
  json::Object o;
  if (e.get_object().get(o) != simdjson::SUCCESS)
    throw Error(ErrorCode::kFormat, ctx + ": expected an object");
  return o;
}

SplitBehavior parse_behavior(std::string_view s, const std::string& ctx) {
  if (s == "Removed") return SplitBehavior::kRemoved;
  if (s == "Isolated") return SplitBehavior::kIsolated;
  if (s == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (s == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (s == "Contiguous") return SplitBehavior::kContiguous;
  throw Error(ErrorCode::kFormat, ctx + ": field 'behavior': unknown value '" + std::string(s) +
                                      "' (expected Removed, Isolated, MergedWithPrevious, "
                                      "MergedWithNext or Contiguous)");
}

class SplitStep final : public PreTokenizerStep {
 public:
  SplitStep(Regex regex, SplitBehavior behavior, bool invert)
      : regex_(std::move(regex)), behavior_(behavior), invert_(invert) {}
  void apply(std::string& buf, std::span<const Piece> in, std::vector<Piece>& out,
             std::vector<Segment>& segments) const override {
    for (const Piece& p : in) {
      split_by_regex(regex_, invert_, behavior_, std::string_view(buf).substr(p.off, p.len), p.off,
                     out, segments);
    }
  }

 private:
  Regex regex_;
  SplitBehavior behavior_;
  bool invert_;
};

class ByteLevelStep final : public PreTokenizerStep {
 public:
  ByteLevelStep(bool add_prefix_space, bool use_regex, std::string_view ctx)
      : add_prefix_space_(add_prefix_space) {
    if (use_regex) regex_ = std::make_unique<Regex>(kGpt2Pattern, ctx);
  }
  void apply(std::string& buf, std::span<const Piece> in, std::vector<Piece>& out,
             std::vector<Segment>& segments) const override {
    for (Piece p : in) {
      if (add_prefix_space_ && buf[p.off] != ' ') {
        // Hugging Face prepends the space to every piece that reaches ByteLevel, not only the first.
        const auto off = static_cast<uint32_t>(buf.size());
        buf.push_back(' ');
        buf.append(buf, p.off, p.len);
        p = Piece{off, p.len + 1};
      }
      if (regex_) {
        split_by_regex(*regex_, false, SplitBehavior::kIsolated,
                       std::string_view(buf).substr(p.off, p.len), p.off, out, segments);
      } else {
        out.push_back(p);
      }
    }
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

}  // namespace

void split_by_regex(const Regex& regex, bool invert, SplitBehavior behavior,
                    std::string_view subject, uint32_t base, std::vector<Piece>& out,
                    std::vector<Segment>& segments) {
  if (subject.empty()) return;
  if (behavior == SplitBehavior::kIsolated) {
    // Every segment is kept as it is, whatever `invert` says: stream them straight out.
    uint32_t prev = 0;
    regex.for_each_match(subject, [&](size_t b, size_t e) {
      if (prev != b) out.push_back(Piece{base + prev, static_cast<uint32_t>(b) - prev});
      out.push_back(Piece{base + static_cast<uint32_t>(b), static_cast<uint32_t>(e - b)});
      prev = static_cast<uint32_t>(e);
    });
    if (prev != subject.size())
      out.push_back(Piece{base + prev, static_cast<uint32_t>(subject.size()) - prev});
    return;
  }
  segments.clear();
  uint32_t prev = 0;
  regex.for_each_match(subject, [&](size_t b, size_t e) {
    if (prev != b) segments.push_back(Segment{prev, static_cast<uint32_t>(b), invert});
    segments.push_back(Segment{static_cast<uint32_t>(b), static_cast<uint32_t>(e), !invert});
    prev = static_cast<uint32_t>(e);
  });
  if (prev != subject.size())
    segments.push_back(Segment{prev, static_cast<uint32_t>(subject.size()), invert});

  // The folds below follow NormalizedString::split: a kept range is appended to `out`, and
  // "extend the last range" only ever touches ranges produced from this subject.
  const size_t first = out.size();
  auto push = [&](const Segment& s) { out.push_back(Piece{base + s.begin, s.end - s.begin}); };
  auto extend_last_to = [&](uint32_t end) { out.back().len = base + end - out.back().off; };
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::kIsolated:
      break;
    case SplitBehavior::kRemoved:
      for (const Segment& s : segments)
        if (!s.is_match) push(s);
      break;
    case SplitBehavior::kContiguous:
      for (const Segment& s : segments) {
        if (s.is_match == previous_match && out.size() > first)
          extend_last_to(s.end);
        else
          push(s);
        previous_match = s.is_match;
      }
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const Segment& s : segments) {
        if (s.is_match && !previous_match && out.size() > first)
          extend_last_to(s.end);
        else
          push(s);
        previous_match = s.is_match;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      // Folded from the right: a match joins the range that follows it.
      for (size_t i = segments.size(); i-- > 0;) {
        const Segment& s = segments[i];
        if (s.is_match && !previous_match && out.size() > first) {
          Piece& last = out.back();
          last.len += last.off - (base + s.begin);
          last.off = base + s.begin;
        } else {
          push(s);
        }
        previous_match = s.is_match;
      }
      std::reverse(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
      break;
  }
}

PreTokenizer PreTokenizer::parse(json::Element e, std::string_view ctx) {
  PreTokenizer p;
  p.parse_into(e, std::string(ctx));
  return p;
}

void PreTokenizer::parse_into(json::Element e, const std::string& ctx) {
  const json::Object o = as_object(e, ctx);
  const std::string_view type = json::get_string(o, "type", ctx);
  const std::string here = ctx + " (" + std::string(type) + ")";
  if (byte_level_) {
    unsupported(here, "a pre-tokenizer after ByteLevel is not supported (ByteLevel must be last)");
  }
  if (type == "Sequence") {
    const json::Array items = json::get_array(o, "pretokenizers", here);
    size_t i = 0;
    for (json::Element item : items) parse_into(item, ctx + ".pretokenizers[" + std::to_string(i++) + "]");
  } else if (type == "Split") {
    const json::Object pattern = json::get_object(o, "pattern", here);
    const std::string pctx = here + ": field 'pattern'";
    std::optional<std::string_view> re = json::opt_string(pattern, "Regex", pctx);
    std::optional<std::string_view> lit = json::opt_string(pattern, "String", pctx);
    if (!re && !lit) throw Error(ErrorCode::kFormat, pctx + ": expected {\"Regex\": ...} or {\"String\": ...}");
    Regex regex = re ? Regex(*re, pctx) : Regex::literal(*lit, pctx);
    const SplitBehavior behavior = parse_behavior(json::get_string(o, "behavior", here), here);
    const bool invert = json::opt_bool(o, "invert", here).value_or(false);
    steps_.push_back(std::make_unique<SplitStep>(std::move(regex), behavior, invert));
  } else if (type == "Digits") {
    // Hugging Face splits on char::is_numeric, one character per match.
    const bool individual = json::opt_bool(o, "individual_digits", here).value_or(false);
    steps_.push_back(std::make_unique<SplitStep>(
        Regex(R"(\p{N})", here),
        individual ? SplitBehavior::kIsolated : SplitBehavior::kContiguous, false));
  } else if (type == "Whitespace") {
    steps_.push_back(
        std::make_unique<SplitStep>(Regex(R"(\w+|[^\w\s]+)", here), SplitBehavior::kRemoved, true));
  } else if (type == "WhitespaceSplit") {
    steps_.push_back(std::make_unique<SplitStep>(Regex(R"(\s+)", here), SplitBehavior::kRemoved, false));
  } else if (type == "ByteLevel") {
    const bool add_prefix_space = json::opt_bool(o, "add_prefix_space", here).value_or(true);
    const bool use_regex = json::opt_bool(o, "use_regex", here).value_or(true);
    steps_.push_back(std::make_unique<ByteLevelStep>(add_prefix_space, use_regex, here));
    byte_level_ = true;
  } else {
    unsupported(ctx, "field 'type': pre-tokenizer '" + std::string(type) +
                         "' is not supported (supported: Sequence, Split, Digits, Whitespace, "
                         "WhitespaceSplit, ByteLevel)");
  }
}

void PreTokenizer::run(std::string& buf, std::vector<Piece>& pieces, std::vector<Piece>& tmp,
                       std::vector<Segment>& segments) const {
  pieces.clear();
  if (buf.empty()) return;
  pieces.push_back(Piece{0, static_cast<uint32_t>(buf.size())});
  for (const auto& step : steps_) {
    tmp.clear();
    step->apply(buf, pieces, tmp, segments);
    pieces.swap(tmp);
  }
}

}  // namespace dsmoe::tok
