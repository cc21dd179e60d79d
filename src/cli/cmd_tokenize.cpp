// `dsmoe tokenize` and `dsmoe detokenize`: text <-> token ids with a model's tokenizer, either
// embedded in a packed .dsmoe file (--model) or a tokenizer.json (--tokenizer). Batch mode reads
// JSON Lines so that scripts can compare with Hugging Face output line by line.
#include <chrono>    // steady_clock
#include <cstdio>    // printf, fprintf, fwrite
#include <ctime>     // clock_gettime
#include <fstream>   // ifstream
#include <iostream>  // cin
#include <memory>
#include <sstream>  // stringstream
#include <string>
#include <vector>

#include "cli/commands.h"          // Commands
#include "format/dsmoe_file.h"     // DsmoeReader
#include "tokenizer/tokenizer.h"   // Tokenizer
#include "util/error.h"            // Error
#include "util/json.h"             // json::Document, json::append_quoted

namespace dsmoe::cli {
namespace {

struct TokenizerSource {
  std::string model;
  std::string tokenizer;
};

Tokenizer load_tokenizer(const TokenizerSource& src) {
  if (!src.tokenizer.empty()) return Tokenizer::load(src.tokenizer);
  const DsmoeReader reader(src.model);
  const std::optional<std::string_view> text = reader.embedded_file("tokenizer.json");
  if (!text) throw Error(ErrorCode::kFormat, src.model + ": no embedded tokenizer.json");
  return Tokenizer::from_json(*text, "tokenizer.json in " + src.model);
}

void add_source_options(CLI::App* sub, TokenizerSource& src) {
  CLI::Option_group* g = sub->add_option_group("tokenizer source");
  g->add_option("--model", src.model, "A packed .dsmoe model (its embedded tokenizer.json)");
  g->add_option("--tokenizer", src.tokenizer, "A Hugging Face tokenizer.json");
  g->require_option(1);
}

std::string read_all(const std::string& path) {
  if (path == "-") {
    std::stringstream ss;
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(ErrorCode::kIo, path + ": cannot open");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Calls fn(line, line_number) for each non-empty line of `path` ("-" = stdin).
template <class F>
void for_each_line(const std::string& path, F&& fn) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) throw Error(ErrorCode::kIo, path + ": cannot open");
    in = &file;
  }
  std::string line;
  for (size_t n = 1; std::getline(*in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) fn(line, n);
  }
}

void append_ids(std::string& out, const std::vector<int32_t>& ids) {
  out.push_back('[');
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out.push_back(',');
    out += std::to_string(ids[i]);
  }
  out += "]\n";
}

struct TokenizeArgs {
  TokenizerSource src;
  std::string text;
  std::string jsonl;
  std::string file;
  bool bench = false;
};

// CPU time of this thread: on a shared, busy machine it is steadier than wall time.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Prints load time and encode throughput (encoding the input repeatedly for about a second),
// both by wall clock and by this thread's CPU time.
int bench(const TokenizerSource& src, const std::string& text) {
  using Clock = std::chrono::steady_clock;
  const auto w0 = Clock::now();
  const double c0 = thread_cpu_seconds();
  const Tokenizer tok = load_tokenizer(src);
  const double load_cpu = thread_cpu_seconds() - c0;
  const double load_wall = std::chrono::duration<double>(Clock::now() - w0).count();
  std::vector<int32_t> ids;
  tok.encode_into(text, ids);  // warms the word cache, as in steady use
  size_t rounds = 0;
  const auto w1 = Clock::now();
  const double c1 = thread_cpu_seconds();
  double wall = 0;
  do {
    ids.clear();
    tok.encode_into(text, ids);
    ++rounds;
    wall = std::chrono::duration<double>(Clock::now() - w1).count();
  } while (wall < 1.0);
  const double cpu = thread_cpu_seconds() - c1;
  const double mb = static_cast<double>(text.size()) * static_cast<double>(rounds) / 1e6;
  std::printf("load: %.1f ms wall, %.1f ms cpu\n", load_wall * 1e3, load_cpu * 1e3);
  std::printf("encode: %zu bytes -> %zu tokens; %.1f MB/s wall, %.1f MB/s cpu (%zu rounds)\n",
              text.size(), ids.size(), mb / wall, mb / cpu, rounds);
  return 0;
}

int run_tokenize(const TokenizeArgs& a) {
  if (a.bench) return bench(a.src, a.file.empty() ? a.text : read_all(a.file));
  const Tokenizer tok = load_tokenizer(a.src);
  std::string out;
  std::vector<int32_t> ids;
  if (!a.jsonl.empty()) {
    for_each_line(a.jsonl, [&](const std::string& line, size_t n) {
      const std::string ctx = a.jsonl + " line " + std::to_string(n);
      const json::Document doc = json::Document::parse(line, ctx);
      ids.clear();
      tok.encode_into(json::get_string(doc.root_object(), "text", ctx), ids);
      out.clear();
      append_ids(out, ids);
      std::fwrite(out.data(), 1, out.size(), stdout);
    });
    return 0;
  }
  tok.encode_into(a.file.empty() ? a.text : read_all(a.file), ids);
  append_ids(out, ids);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

struct DetokenizeArgs {
  TokenizerSource src;
  std::string ids;
  std::string jsonl;
  bool skip_special = false;
};

std::vector<int32_t> parse_id_list(const std::string& s) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (pos <= s.size()) {
    const size_t comma = std::min(s.find(',', pos), s.size());
    const std::string item = s.substr(pos, comma - pos);
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || v < INT32_MIN || v > INT32_MAX)
      throw Error(ErrorCode::kInvalidArgument, "--ids: '" + item + "' is not a token id");
    ids.push_back(static_cast<int32_t>(v));
    pos = comma + 1;
  }
  return ids;
}

int run_detokenize(const DetokenizeArgs& a) {
  const Tokenizer tok = load_tokenizer(a.src);
  if (!a.jsonl.empty()) {
    std::vector<int32_t> ids;
    std::string out;
    for_each_line(a.jsonl, [&](const std::string& line, size_t n) {
      const std::string ctx = a.jsonl + " line " + std::to_string(n);
      const json::Document doc = json::Document::parse(line, ctx);
      json::Array arr;
      if (doc.root().get_array().get(arr) != simdjson::SUCCESS)
        throw Error(ErrorCode::kFormat, ctx + ": expected a JSON array of token ids");
      ids.clear();
      for (json::Element e : arr) {
        const int64_t v = json::as_int(e, ctx);
        if (v < INT32_MIN || v > INT32_MAX)
          throw Error(ErrorCode::kOutOfRange, ctx + ": token id " + std::to_string(v) + " is out of range");
        ids.push_back(static_cast<int32_t>(v));
      }
      out.clear();
      json::append_quoted(out, tok.decode(ids, a.skip_special));
      out.push_back('\n');
      std::fwrite(out.data(), 1, out.size(), stdout);
    });
    return 0;
  }
  const std::string text = tok.decode(parse_id_list(a.ids), a.skip_special) + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

}  // namespace

void add_tokenize(CLI::App& app, Commands& commands) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* sub = app.add_subcommand("tokenize", "Turn text into token ids (printed as JSON arrays)");
  add_source_options(sub, args->src);
  CLI::Option_group* in = sub->add_option_group("input");
  in->add_option("--text", args->text, "Text to tokenize");
  in->add_option("--jsonl", args->jsonl,
                 "JSON Lines file ('-' = stdin): each line {\"text\": ...} gives one line of ids");
  in->add_option("--file", args->file, "Tokenize a whole file's content as one text ('-' = stdin)");
  in->require_option(1);
  sub->add_flag("--bench", args->bench,
                "Print load time and encode speed for --text/--file instead of the ids");
  commands.push_back({sub, [args] { return run_tokenize(*args); }});
}

void add_detokenize(CLI::App& app, Commands& commands) {
  auto args = std::make_shared<DetokenizeArgs>();
  CLI::App* sub = app.add_subcommand("detokenize", "Turn token ids back into text");
  add_source_options(sub, args->src);
  CLI::Option_group* in = sub->add_option_group("input");
  in->add_option("--ids", args->ids, "Comma-separated ids; prints the text and a newline");
  in->add_option("--jsonl", args->jsonl,
                 "JSON Lines file ('-' = stdin): each line an array of ids gives one JSON string");
  in->require_option(1);
  sub->add_flag("--skip-special", args->skip_special, "Leave out special tokens");
  commands.push_back({sub, [args] { return run_detokenize(*args); }});
}

}  // namespace dsmoe::cli
