#pragma once
// The "normalizer" of tokenizer.json. Supported: null, Sequence (of the following), Replace
// (String or Regex pattern), Prepend and Strip. Unicode normal forms (NFC, NFKC, ...) and
// Lowercase need Unicode tables dsmoe does not carry, so they are refused with a clear error.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/json.h"  // json::Element

namespace dsmoe::tok {

class NormalizerStep {
 public:
  virtual ~NormalizerStep() = default;
  // Rewrites `text` in place (`tmp` is scratch).
  virtual void apply(std::string& text, std::string& tmp) const = 0;
};

class Normalizer {
 public:
  // Parses a non-null "normalizer" value. Throws dsmoe::Error naming `ctx` and the field.
  static Normalizer parse(json::Element e, std::string_view ctx);

  bool empty() const { return steps_.empty(); }
  void apply(std::string& text, std::string& tmp) const {
    for (const auto& s : steps_) s->apply(text, tmp);
  }

 private:
  void parse_into(json::Element e, const std::string& ctx);
  std::vector<std::unique_ptr<const NormalizerStep>> steps_;
};

}  // namespace dsmoe::tok
