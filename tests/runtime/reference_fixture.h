#pragma once
// Reading a golden fixture (../shared/fixtures/models/<name>): token ids, reference logits and the
// reference router's choices; and running a Session over the prompt in full or incremental mode.
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <tuple>

#include <gtest/gtest.h>

#include "convert/convert.h"  // convert_checkpoint
#include "runtime/session.h"  // Session
#include "support/fixtures.h"  // temp_dir
#include "util/error.h"
#include "util/json.h"

namespace dsmoe::test {

struct Routing {
  std::vector<int32_t> experts;  // sorted ascending
  std::vector<float> weights;    // in the order of `experts`
};
using RoutingMap = std::map<std::pair<int64_t, int64_t>, Routing>;  // (layer, position)

struct Fixture {
  std::vector<int32_t> tokens;
  std::vector<float> logits;  // [tokens, vocab]
  int64_t vocab = 0;
  RoutingMap routing;         // routing_full_forward
};

class RoutingRecorder : public RoutingObserver {
 public:
  void on_route(int64_t layer, int64_t pos, const int32_t* experts, const float* weights,
                int64_t k) override;  // defined below
  RoutingMap routing;
};



inline Fixture load_fixture(const std::filesystem::path& dir) {
  Fixture f;
  json::Document doc = json::Document::load(dir / "reference.json");
  json::Object root = doc.root_object();
  for (json::Element e : json::get_array(root, "token_ids", "reference.json")) {
    f.tokens.push_back(static_cast<int32_t>(json::as_int(e, "token_ids")));
  }
  json::Document cfg = json::Document::load(dir / "config.json");
  f.vocab = json::get_int(cfg.root_object(), "vocab_size", "config.json");
  std::ifstream in(dir / "logits.f32", std::ios::binary);
  f.logits.resize(f.tokens.size() * f.vocab);
  in.read(reinterpret_cast<char*>(f.logits.data()), static_cast<std::streamsize>(f.logits.size() * 4));
  if (!in) throw Error(ErrorCode::kIo, (dir / "logits.f32").string() + ": short read");

  json::Object routing = json::get_object(root, "routing_full_forward", "reference.json");
  for (int64_t layer = 0; layer < 1000; ++layer) {
    const std::string key = "layer_" + std::to_string(layer);
    if (!json::has(routing, key)) continue;
    json::Object lo = json::get_object(routing, key, "routing_full_forward");
    json::Array ids = json::get_array(lo, "expert_indices", key);
    json::Array ws = json::get_array(lo, "expert_weights", key);
    for (size_t pos = 0; pos < ids.size(); ++pos) {
      json::Array id_row, w_row;
      if (ids.at(pos).get(id_row) || ws.at(pos).get(w_row)) throw Error(ErrorCode::kFormat, key + ": bad row");
      std::vector<std::pair<int32_t, float>> pairs;
      for (size_t j = 0; j < id_row.size(); ++j) {
        pairs.emplace_back(static_cast<int32_t>(json::as_int(id_row.at(j).value(), "expert")),
                           static_cast<float>(json::as_double(w_row.at(j).value(), "weight")));
      }
      std::sort(pairs.begin(), pairs.end());
      Routing r;
      for (auto [e, w] : pairs) {
        r.experts.push_back(e);
        r.weights.push_back(w);
      }
      f.routing[{layer, static_cast<int64_t>(pos)}] = r;
    }
  }
  return f;
}

inline void RoutingRecorder::on_route(int64_t layer, int64_t pos, const int32_t* experts, const float* weights,
                               int64_t k) {
  std::vector<std::pair<int32_t, float>> pairs;
  for (int64_t i = 0; i < k; ++i) pairs.emplace_back(experts[i], weights[i]);
  std::sort(pairs.begin(), pairs.end());
  Routing r;
  for (auto [e, w] : pairs) {
    r.experts.push_back(e);
    r.weights.push_back(w);
  }
  routing[{layer, pos}] = r;
}

// Logits of every position: one eval_all call (prefill < 0), or `prefill` tokens in one call and
// then one token per call.
inline std::vector<float> run_prompt(Session& s, const std::vector<int32_t>& tokens, int64_t prefill = -1) {
  const int64_t vocab = s.model().config().vocab_size;
  std::vector<float> out(tokens.size() * vocab);
  if (prefill < 0) {
    s.eval_all(tokens, out);
    return out;
  }
  std::span<const int32_t> all(tokens);
  s.eval_all(all.first(prefill), out);
  for (size_t i = prefill; i < tokens.size(); ++i) {
    std::span<const float> l = s.eval(all.subspan(i, 1));
    std::copy(l.begin(), l.end(), out.begin() + i * vocab);
  }
  return out;
}

inline double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

// Mean over rows of KL(softmax(ref) || softmax(got)), and the fraction of rows whose argmax agrees.
inline std::pair<double, double> kl_and_top1(const std::vector<float>& ref, const std::vector<float>& got, int64_t vocab) {
  const size_t rows = ref.size() / vocab;
  double kl = 0, agree = 0;
  for (size_t r = 0; r < rows; ++r) {
    const float* p = ref.data() + r * vocab;
    const float* q = got.data() + r * vocab;
    auto log_softmax = [&](const float* x, std::vector<double>& out) {
      double mx = *std::max_element(x, x + vocab), sum = 0;
      for (int64_t i = 0; i < vocab; ++i) sum += std::exp(x[i] - mx);
      out.resize(vocab);
      for (int64_t i = 0; i < vocab; ++i) out[i] = x[i] - mx - std::log(sum);
    };
    std::vector<double> lp, lq;
    log_softmax(p, lp);
    log_softmax(q, lq);
    for (int64_t i = 0; i < vocab; ++i) kl += std::exp(lp[i]) * (lp[i] - lq[i]);
    agree += (std::max_element(p, p + vocab) - p) == (std::max_element(q, q + vocab) - q);
  }
  return {kl / rows, agree / rows};
}

// The checkpoint `dir` converted with recipe `quant` to <temp_dir>/<stem>.dsmoe (overwritten).
inline std::filesystem::path convert_fixture(const std::filesystem::path& dir, const std::string& stem,
                                             const std::string& quant) {
  ConvertOptions o;
  o.input = dir;
  o.output = temp_dir() / (stem + ".dsmoe");
  o.quant = quant;
  o.force = true;
  convert_checkpoint(o);
  return o.output;
}

// Every golden fixture × every conversion recipe, for parameterized tests over converted models.
inline auto fixtures_by_recipe() {
  return ::testing::Combine(
      ::testing::Values("v3-tiny", "v2-tiny", "v2-lite-tiny", "dsmoe16b-tiny", "v3-tiny-fp8"),
      ::testing::Values("f32", "bf16", "q8", "q4"));
}

// "v3_tiny_q8" for the parameter ("v3-tiny", "q8"): a valid GoogleTest name.
template <typename Info>
std::string fixture_recipe_name(const Info& info) {
  std::string s = std::string(std::get<0>(info.param)) + "_" + std::get<1>(info.param);
  for (char& ch : s) {
    if (ch == '-') ch = '_';
  }
  return s;
}

}  // namespace dsmoe::test
