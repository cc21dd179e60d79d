#pragma once
// Tiny random-weight chat models for the C API and CLI tests, each built once per test process:
// the shapes of tests/capi/tiny_chat_config.json with the demo model's tokenizer and chat template
// (synth → Hugging Face folder → convert, as a user's checkpoint would go).
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "convert/convert.h"   // convert_checkpoint
#include "convert/synth.h"     // synth_model
#include "support/fixtures.h"  // temp_dir

namespace dsmoe::test {

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream text;
  text << f.rdbuf();
  return text.str();
}

// Builds <temp>/<name>.dsmoe with the given tokenizer_config.json text.
inline std::filesystem::path build_tiny_chat_model(const std::string& name,
                                                   const std::string& tokenizer_config) {
  namespace fs = std::filesystem;
  const fs::path src = DSMOE_SOURCE_DIR;
  const fs::path hf = temp_dir() / (name + "-hf");
  SynthOptions s;
  s.config_json = read_text(src / "tests/capi/tiny_chat_config.json");
  s.config_source = "tests/capi/tiny_chat_config.json";
  s.hf_out = hf;
  s.seed = 1;
  s.threads = 1;
  synth_model(s);
  fs::copy_file(src / "models/demo/tokenizer.json", hf / "tokenizer.json");
  std::ofstream(hf / "tokenizer_config.json", std::ios::binary) << tokenizer_config;
  ConvertOptions c;
  c.input = hf;
  c.output = temp_dir() / (name + ".dsmoe");
  c.threads = 1;
  convert_checkpoint(c);
  return c.output;
}

// The demo model's tokenizer and chat template.
inline std::filesystem::path tiny_chat_model() {
  static const std::filesystem::path path = build_tiny_chat_model(
      "tiny-chat", read_text(std::filesystem::path(DSMOE_SOURCE_DIR) / "models/demo/tokenizer_config.json"));
  return path;
}

// The same with an R1-style template whose generation prompt opens a <think> section.
inline std::filesystem::path tiny_thinking_model() {
  static const std::filesystem::path path = [] {
    std::string config = read_text(std::filesystem::path(DSMOE_SOURCE_DIR) / "models/demo/tokenizer_config.json");
    const std::string prompt = "{{ '<｜Assistant｜>' }}{% endif %}";
    const size_t at = config.rfind(prompt);
    if (at == std::string::npos) throw std::runtime_error("demo chat template changed: update tiny_thinking_model");
    config.replace(at, prompt.size(), "{{ '<｜Assistant｜><think>\\n' }}{% endif %}");
    return build_tiny_chat_model("tiny-thinking", config);
  }();
  return path;
}

}  // namespace dsmoe::test
