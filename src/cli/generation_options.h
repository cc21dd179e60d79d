#pragma once
// Flags shared by `dsmoe run` and `dsmoe chat`: sampling parameters, context length, threads, and
// loading the model they name.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "capi/loaded_model.h"  // LoadedModel
#include "runtime/session.h"    // SessionOptions
#include "sample/sampler.h"     // SamplerParams

namespace dsmoe::cli {

struct GenerationFlags {
  SamplerParams sampling;
  int64_t ctx = 0;   // 0: the session's default
  int threads = 0;   // 0: OpenMP's default
  int64_t max_tokens = 0;
  Gemm gemm = Gemm::kOnednn;
};

// Adds --temp, --top-k, --top-p, --min-p, --repeat-penalty, --presence-penalty, --seed, --ctx,
// --threads, --gemm and -n/--max-tokens (whose help says `max_tokens_help`).
void add_generation_flags(CLI::App* sub, GenerationFlags& flags, const std::string& max_tokens_help);

// --gemm onednn|native (SessionOptions::gemm), for every command that evaluates a model.
void add_gemm_flag(CLI::App* sub, Gemm& gemm);

SessionOptions session_options(const GenerationFlags& flags);

// The bundled demo model: <directory of the dsmoe binary>/../models/demo-q8.dsmoe.
std::filesystem::path default_model_path();

}  // namespace dsmoe::cli
