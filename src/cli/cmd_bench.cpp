// `dsmoe bench MODEL [-p 64,512] [-n 32] [-t 1,2] [-r 3] [--depth 0,4096] [--json]`: prompt and
// decode speed, and how close decode comes to the memory bandwidth measured in the same run.
//
// For every thread count, depth d and test (ppP: one call evaluating P tokens; tgN: N calls of one
// token each), the session holds d tokens of random context (prefilled once, not timed; each
// repetition rewinds to d), the model file's pages are touched before every repetition (the VM
// reclaims page-cache pages left idle for about a minute, and a page read from disk would time
// the disk), and each repetition is timed alone. Token ids are random with a fixed seed. Decode speed times the weight
// bytes one token reads (runtime/decode_weight_bytes.h) is the effective bandwidth, compared with
// this machine's read bandwidth measured with the same thread count just before
// (runtime/memory_bandwidth.h). Major page faults during the timed repetitions are reported: any
// at all mean the numbers include disk reads. Peak resident memory is measured per row (the kernel's
// high-water mark is reset before the row): it counts the mapped file's pages the test touched plus
// the process's own memory, which is also given alone (RssAnon: KV cache, scratch, the tables).
#include <sys/resource.h>  // getrusage
#include <unistd.h>        // isatty

#include <algorithm>  // max_element
#include <chrono>     // steady_clock
#include <cmath>      // sqrt
#include <cstdio>     // printf, fprintf
#include <fstream>    // ifstream (/proc/loadavg)
#include <memory>     // make_shared
#include <optional>
#include <random>     // mt19937
#include <span>
#include <string>
#include <thread>     // hardware_concurrency
#include <vector>

#include "cli/commands.h"                 // Commands
#include "cli/generation_options.h"       // add_gemm_flag
#include "model/model.h"                  // Model
#include "runtime/decode_weight_bytes.h"  // decode_weight_bytes
#include "runtime/memory_bandwidth.h"     // measure_read_bandwidth
#include "runtime/session.h"              // Session
#include "util/error.h"                   // Error
#include "util/json.h"                    // json::Writer

namespace dsmoe::cli {
namespace {

struct BenchArgs {
  std::string model;
  std::vector<int64_t> prompt = {64, 512};
  std::vector<int64_t> gen = {32};
  std::vector<int> threads;
  int repetitions = 3;
  std::vector<int64_t> depth = {0};
  bool json = false;
  uint32_t seed = 1;
  std::string kv_type = "bf16";
  int64_t bandwidth_mib = 1024;
  Gemm gemm = Gemm::kOnednn;
};

struct Row {
  int threads = 0;
  std::string test;     // pp64, tg32, tg32@d4096
  bool decode = false;
  int64_t depth = 0;
  double mean = 0, sd = 0;  // tokens per second over the repetitions
  uint64_t weight_bytes = 0;
  double gbps_measured = 0;
  long major_faults = 0;
  double load_average = 0;  // 1-minute load average when the row finished
  uint64_t peak_rss = 0;    // bytes, the high-water mark over the row's repetitions
  uint64_t anon_rss = 0;    // bytes of anonymous memory when the row finished
};

bool progress_on() { return isatty(fileno(stderr)) != 0; }

void progress(const std::string& s) {
  if (progress_on()) std::fprintf(stderr, "\r\033[K%s", s.c_str());
}

long major_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_majflt;
}

// A "VmHWM:" / "RssAnon:" line of /proc/self/status in bytes; 0 where /proc is not there.
uint64_t status_bytes(const std::string& field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(field, 0) == 0) return std::stoull(line.substr(field.size())) * 1024;  // kB
  }
  return 0;
}

// Resets the kernel's peak resident set size of this process to the current one (Linux >= 4.0).
void reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
}

double load_average() {
  std::ifstream f("/proc/loadavg");
  double v = 0;
  f >> v;
  return v;
}

// Reads one byte of every page of the model file, after asking the kernel to read it all ahead.
void warm_pages(const Model& model) {
  if (model.file() == nullptr) return;
  const MappedFile& map = model.file()->mapping();
  map.advise_willneed(0, map.size());
  const volatile std::byte* p = map.data();  // volatile: every read happens
  for (size_t at = 0; at < map.size(); at += 4096) (void)p[at];
}

std::vector<int32_t> random_tokens(std::mt19937& rng, int64_t n, int64_t vocab) {
  std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(vocab - 1));
  std::vector<int32_t> out(static_cast<size_t>(n));
  for (int32_t& t : out) t = pick(rng);
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Times `reps` repetitions of one test at depth d (the session already holds d tokens).
Row time_test(const Model& model, Session& session, std::mt19937& rng, bool decode, int64_t tokens,
              int64_t d, int reps) {
  Row row;
  row.decode = decode;
  row.depth = d;
  row.test = (decode ? "tg" : "pp") + std::to_string(tokens) + (d > 0 ? "@d" + std::to_string(d) : "");
  const std::vector<int32_t> ids = random_tokens(rng, tokens, model.config().vocab_size);
  std::vector<double> speed;
  reset_peak_rss();
  for (int r = 0; r < reps; ++r) {
    progress(row.test + ": repetition " + std::to_string(r + 1) + "/" + std::to_string(reps));
    warm_pages(model);  // before every repetition: one may outlast the reclaim window
    session.rewind(d);
    const long faults0 = major_faults();
    const auto t0 = std::chrono::steady_clock::now();
    if (decode) {
      for (int64_t k = 0; k < tokens; ++k) session.eval(std::span<const int32_t>(ids).subspan(k, 1));
    } else {
      session.eval(ids);
    }
    speed.push_back(static_cast<double>(tokens) / seconds_since(t0));
    row.major_faults += major_faults() - faults0;
  }
  for (double v : speed) row.mean += v / reps;
  if (reps > 1) {
    double ss = 0;
    for (double v : speed) ss += (v - row.mean) * (v - row.mean);
    row.sd = std::sqrt(ss / (reps - 1));
  }
  row.load_average = load_average();
  row.peak_rss = status_bytes("VmHWM:");
  row.anon_rss = status_bytes("RssAnon:");
  return row;
}

int64_t largest(const std::vector<int64_t>& v) {
  return v.empty() ? 0 : *std::max_element(v.begin(), v.end());
}

std::optional<double> gbps_effective(const Row& r) {
  if (!r.decode) return std::nullopt;  // a prompt's tokens share their weight reads
  return r.mean * static_cast<double>(r.weight_bytes) / 1e9;
}

void print_json(const std::vector<Row>& rows) {
  json::Writer w(true);
  w.begin_array();
  for (const Row& r : rows) {
    const std::optional<double> eff = gbps_effective(r);
    w.begin_object();
    w.key("threads").value(r.threads);
    w.key("test").value(r.test);
    w.key("tokens_per_s_mean").value(r.mean);
    w.key("tokens_per_s_sd").value(r.sd);
    w.key("weight_bytes_per_token").value(r.weight_bytes);
    w.key("gbps_effective");
    if (eff) w.value(*eff);
    else w.null();
    w.key("gbps_measured").value(r.gbps_measured);
    w.key("bandwidth_ratio");
    if (eff) w.value(*eff / r.gbps_measured);
    else w.null();
    w.key("depth").value(r.depth);
    w.key("major_faults").value(static_cast<int64_t>(r.major_faults));
    w.key("load_average").value(r.load_average);
    w.key("peak_rss_bytes").value(r.peak_rss);
    w.key("anon_rss_bytes").value(r.anon_rss);
    w.end_object();
  }
  w.end_array();
  std::printf("%s\n", w.str().c_str());
}

void print_table(const std::vector<Row>& rows) {
  std::printf("%7s  %-12s  %18s  %9s  %9s  %9s  %6s  %11s  %5s  %8s  %8s\n", "threads", "test", "tokens/s",
              "GB/token", "GB/s eff", "GB/s read", "ratio", "maj. faults", "load", "peak RSS", "anon");
  for (const Row& r : rows) {
    const std::optional<double> eff = gbps_effective(r);
    char speed[40], e[16] = "-", ratio[16] = "-";
    std::snprintf(speed, sizeof speed, "%.2f ± %.2f", r.mean, r.sd);
    if (eff) {
      std::snprintf(e, sizeof e, "%.2f", *eff);
      std::snprintf(ratio, sizeof ratio, "%.0f%%", 100 * *eff / r.gbps_measured);
    }
    std::printf("%7d  %-12s  %19s  %9.3f  %9s  %9.2f  %6s  %11ld  %5.2f  %6.2f GB  %5.2f GB\n", r.threads,
                r.test.c_str(), speed, static_cast<double>(r.weight_bytes) / 1e9, e, r.gbps_measured, ratio,
                r.major_faults, r.load_average, static_cast<double>(r.peak_rss) / 1e9,
                static_cast<double>(r.anon_rss) / 1e9);
  }
}

int run_bench(const BenchArgs& a) {
  const auto kv = parse_kv_type(a.kv_type);
  if (!kv) throw Error(ErrorCode::kInvalidArgument, "--kv-type: expected f32 or bf16, got '" + a.kv_type + "'");
  std::vector<int> threads = a.threads;
  if (threads.empty()) threads.push_back(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  const int64_t max_prompt = largest(a.prompt), max_gen = largest(a.gen), max_depth = largest(a.depth);
  if (max_prompt == 0 && max_gen == 0) {
    std::fprintf(stderr, "dsmoe bench: nothing to measure: every -p and -n value is 0\n");
    return 2;
  }

  progress("loading " + a.model);
  std::shared_ptr<const Model> model = Model::open(a.model);
  const DecodeWeightBytes wb = decode_weight_bytes(*model);
  SessionOptions opt;
  opt.ctx = max_depth + std::max<int64_t>({max_prompt, max_gen, 1});
  opt.kv_type = *kv;
  opt.gemm = a.gemm;
  if (max_prompt > 0) opt.max_batch = max_prompt;  // a ppP test is one forward call

  std::mt19937 rng(a.seed);
  std::vector<Row> rows;
  for (int t : threads) {
    opt.threads = t;
    Session session(model, opt);
    progress("measuring read bandwidth, " + std::to_string(t) + " threads");
    const double bandwidth =
        measure_read_bandwidth(t, static_cast<size_t>(a.bandwidth_mib) << 20).best_gbps;
    for (int64_t d : a.depth.empty() ? std::vector<int64_t>{0} : a.depth) {
      session.reset();
      if (d > 0) {
        progress("prefilling " + std::to_string(d) + " tokens, " + std::to_string(t) + " threads");
        session.eval(random_tokens(rng, d, model->config().vocab_size));
      }
      for (bool decode : {false, true}) {
        for (int64_t tokens : decode ? a.gen : a.prompt) {
          if (tokens == 0) continue;
          Row row = time_test(*model, session, rng, decode, tokens, d, a.repetitions);
          row.threads = t;
          row.weight_bytes = wb.total();
          row.gbps_measured = bandwidth;
          rows.push_back(row);
        }
      }
    }
  }
  progress("");
  if (a.json) {
    print_json(rows);
    return 0;
  }
  const double gb = 1e9;
  if (model->file() != nullptr) {
    std::printf("model: %s (%.3f GB file)\n", a.model.c_str(),
                static_cast<double>(model->file()->mapping().size()) / gb);
  } else {
    std::printf("model: %s\n", a.model.c_str());
  }
  std::printf("weight bytes per decode token: %.3f GB = attention %.3f + dense FFN %.3f + routers %.3f"
              " + shared experts %.3f + %lld routed experts/layer %.3f + head %.3f + embedding row %.6f\n",
              static_cast<double>(wb.total()) / gb, wb.attention / gb, wb.dense_ffn / gb, wb.router / gb,
              wb.shared_experts / gb, static_cast<long long>(model->config().num_experts_per_tok),
              wb.routed_experts / gb, wb.head / gb, wb.embedding / gb);
  std::printf("kv cache: %s; read bandwidth: best of 5 passes over %lld MiB; %d repetitions\n\n",
              to_string(*kv), static_cast<long long>(a.bandwidth_mib), a.repetitions);
  print_table(rows);
  return 0;
}

}  // namespace

void add_bench(CLI::App& app, Commands& commands) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* sub = app.add_subcommand("bench", "Measure prompt and decode speed against the memory bandwidth");
  sub->add_option("MODEL", args->model, "A .dsmoe file (or a Hugging Face checkpoint folder)")->required();
  sub->add_option("-p,--n-prompt", args->prompt, "Prompt lengths, comma-separated; 0 skips (default 64,512)")
      ->delimiter(',')->check(CLI::NonNegativeNumber);
  sub->add_option("-n,--n-gen", args->gen, "Decoded tokens, comma-separated; 0 skips (default 32)")
      ->delimiter(',')->check(CLI::NonNegativeNumber);
  sub->add_option("-t,--threads", args->threads, "Thread counts, comma-separated (default: all cores)")
      ->delimiter(',')->check(CLI::PositiveNumber);
  sub->add_option("-r,--repetitions", args->repetitions, "Timed repetitions of each test (default 3)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--depth", args->depth, "Context tokens before each test, comma-separated (default 0)")
      ->delimiter(',')->check(CLI::NonNegativeNumber);
  sub->add_flag("--json", args->json, "Print a JSON array, one object per row");
  sub->add_option("--seed", args->seed, "Seed of the random token ids (default 1)");
  sub->add_option("--kv-type", args->kv_type, "KV cache type: bf16 (default, as chat) or f32")
      ->check(CLI::IsMember({"f32", "bf16"}));
  sub->add_option("--bandwidth-mib", args->bandwidth_mib, "Buffer of the bandwidth measurement in MiB (default 1024)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  add_gemm_flag(sub, args->gemm);
  commands.push_back({sub, [args] { return run_bench(*args); }});
}

}  // namespace dsmoe::cli
