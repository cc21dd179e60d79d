// Only routed experts that run are touched: on a synthetic model with 1.5 MB experts whose pages
// were dropped from the page cache, a short prompt leaves resident about (distinct experts run) x
// (bytes per expert) of the routed-expert region, not the whole region.
#include <fcntl.h>   // open, posix_fadvise
#include <unistd.h>  // close, getpid

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "convert/synth.h"
#include "runtime/session.h"

namespace dsmoe {
namespace {

// V2-Lite-like, 2 MoE layers of 16 experts of 3 x 512 x 512 bf16 = 1.5 MB each, top-2.
constexpr const char* kConfig = R"({
  "model_type": "deepseek_v2", "vocab_size": 256, "hidden_size": 512, "intermediate_size": 512,
  "moe_intermediate_size": 512, "num_hidden_layers": 2, "num_attention_heads": 2,
  "q_lora_rank": null, "kv_lora_rank": 64, "qk_nope_head_dim": 32, "qk_rope_head_dim": 16,
  "v_head_dim": 32, "n_routed_experts": 16, "n_shared_experts": 1, "num_experts_per_tok": 2,
  "first_k_dense_replace": 0, "moe_layer_freq": 1, "n_group": 1, "topk_group": 1,
  "topk_method": "greedy", "scoring_func": "softmax", "norm_topk_prob": false,
  "routed_scaling_factor": 1.0, "rms_norm_eps": 1e-6, "rope_theta": 10000, "rope_scaling": null,
  "max_position_embeddings": 4096, "hidden_act": "silu", "tie_word_embeddings": false
})";

TEST(Residency, OnlyRoutedExpertsThatRunArePagedIn) {
  // In the build tree, not /tmp: a tmpfs cannot drop pages.
  const std::filesystem::path dir =
      std::filesystem::path(DSMOE_BINARY_DIR) / ("residency-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  struct Cleanup {
    std::filesystem::path p;
    ~Cleanup() { std::error_code ec; std::filesystem::remove_all(p, ec); }
  } cleanup{dir};
  SynthOptions o;
  o.config_json = kConfig;
  o.config_source = "residency_test";
  o.seed = 7;
  o.output = dir / "synth.dsmoe";
  o.quant = "bf16";
  synth_model(o);
  auto model = Model::load(o.output);
  {
    // Cold cache: drop the file's pages (those not mapped; loading maps none of the experts').
    const int fd = ::open(o.output.c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::fdatasync(fd), 0);
    ASSERT_EQ(::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
    ::close(fd);
  }
  const uint64_t per_expert = model->file()->expert_blocks().front().size;
  ASSERT_GE(per_expert, 1u << 20);
  for (int64_t l = 0; l < 2; ++l) {
    EXPECT_EQ(model->expert_bytes(l), 16 * per_expert);
    EXPECT_LT(model->resident_expert_bytes(l), per_expert) << "layer " << l << " before any token";
  }
  Session s(model);
  s.eval(std::vector<int32_t>{3, 141, 59});
  for (int64_t l = 0; l < 2; ++l) {
    const int64_t distinct = s.distinct_experts(l);
    const uint64_t resident = model->resident_expert_bytes(l);
    std::printf("layer %lld: %lld distinct experts, %llu resident bytes of %llu (%llu per expert)\n",
                static_cast<long long>(l), static_cast<long long>(distinct),
                static_cast<unsigned long long>(resident),
                static_cast<unsigned long long>(model->expert_bytes(l)),
                static_cast<unsigned long long>(per_expert));
    EXPECT_GE(distinct, 2);
    EXPECT_LE(distinct, 6);
    EXPECT_GE(resident, distinct * per_expert);
    // Read-around on page faults may bring a little of a neighbouring block.
    EXPECT_LE(resident, distinct * (per_expert + (512u << 10))) << "layer " << l;
  }
}

}  // namespace
}  // namespace dsmoe
