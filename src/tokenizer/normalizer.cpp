#include "tokenizer/normalizer.h"

#include "tokenizer/regex.h"       // Regex
#include "tokenizer/whitespace.h"  // is_whitespace
#include "util/error.h"            // Error
#include "util/utf8.h"             // utf8::step

namespace dsmoe::tok {
namespace {

class ReplaceStep final : public NormalizerStep {
 public:
  ReplaceStep(Regex regex, std::string content) : regex_(std::move(regex)), content_(std::move(content)) {}
  void apply(std::string& text, std::string& tmp) const override {
    tmp.clear();
    size_t prev = 0;
    regex_.for_each_match(text, [&](size_t b, size_t e) {
      tmp.append(text, prev, b - prev);
      tmp.append(content_);
      prev = e;
    });
    tmp.append(text, prev, std::string::npos);
    text.swap(tmp);
  }

 private:
  Regex regex_;
  std::string content_;
};

class PrependStep final : public NormalizerStep {
 public:
  explicit PrependStep(std::string prefix) : prefix_(std::move(prefix)) {}
  void apply(std::string& text, std::string&) const override {
    if (!text.empty()) text.insert(0, prefix_);
  }

 private:
  std::string prefix_;
};

class StripStep final : public NormalizerStep {
 public:
  StripStep(bool left, bool right) : left_(left), right_(right) {}
  void apply(std::string& text, std::string&) const override {
    size_t begin = 0, end = text.size();
    if (left_) {
      while (begin < end) {
        const utf8::Step st = utf8::step(text, begin);
        if (!is_whitespace(st.cp)) break;
        begin += st.len;
      }
    }
    if (right_) {
      // Walk forward remembering where the trailing run of whitespace starts.
      size_t pos = begin, run = end;
      bool in_run = false;
      while (pos < end) {
        const utf8::Step st = utf8::step(text, pos);
        const bool ws = is_whitespace(st.cp);
        if (ws && !in_run) run = pos;
        in_run = ws;
        pos += st.len;
      }
      if (in_run) end = run;
    }
    text = text.substr(begin, end - begin);
  }

 private:
  bool left_, right_;
};

}  // namespace

Normalizer Normalizer::parse(json::Element e, std::string_view ctx) {
  Normalizer n;
  n.parse_into(e, std::string(ctx));
  return n;
}

void Normalizer::parse_into(json::Element e, const std::string& ctx) {
  json::Object o;
  if (e.get_object().get(o) != simdjson::SUCCESS)
    throw Error(ErrorCode::kFormat, ctx + ": expected an object");
  const std::string_view type = json::get_string(o, "type", ctx);
  const std::string here = ctx + " (" + std::string(type) + ")";
  if (type == "Sequence") {
    size_t i = 0;
    for (json::Element item : json::get_array(o, "normalizers", here))
      parse_into(item, ctx + ".normalizers[" + std::to_string(i++) + "]");
  } else if (type == "Replace") {
    const json::Object pattern = json::get_object(o, "pattern", here);
    const std::string pctx = here + ": field 'pattern'";
    std::optional<std::string_view> re = json::opt_string(pattern, "Regex", pctx);
    std::optional<std::string_view> lit = json::opt_string(pattern, "String", pctx);
    if (!re && !lit)
      throw Error(ErrorCode::kFormat, pctx + ": expected {\"Regex\": ...} or {\"String\": ...}");
    steps_.push_back(std::make_unique<ReplaceStep>(re ? Regex(*re, pctx) : Regex::literal(*lit, pctx),
                                                   std::string(json::get_string(o, "content", here))));
  } else if (type == "Prepend") {
    steps_.push_back(std::make_unique<PrependStep>(std::string(json::get_string(o, "prepend", here))));
  } else if (type == "Strip") {
    steps_.push_back(std::make_unique<StripStep>(json::opt_bool(o, "strip_left", here).value_or(true),
                                                 json::opt_bool(o, "strip_right", here).value_or(true)));
  } else {
    throw Error(ErrorCode::kUnsupported,
                ctx + ": field 'type': normalizer '" + std::string(type) +
                    "' is not supported (supported: Sequence, Replace, Prepend, Strip)");
  }
}

}  // namespace dsmoe::tok
