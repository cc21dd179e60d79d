/* dsmoe: the public C API. Standard headers only; see docs/API.md for every function's ownership
 * rules and thread safety.
 *
 * Conventions
 * - Every function that can fail returns dsmoe_status; results go to out-parameters. On failure
 *   dsmoe_last_error() describes what went wrong (a thread-local message).
 * - Option structs begin with `size_t struct_size`: fill them with dsmoe_*_options_default(), which
 *   sets struct_size = sizeof(the struct this header declares). A library built from a newer
 *   header reads only the first struct_size bytes and uses defaults for the rest, so programs keep
 *   working against newer libraries. Result structs work the same way in the other direction.
 * - Text is UTF-8 and passed with an explicit length; input that is not valid UTF-8 is rejected
 *   with DSMOE_ERR_INVALID_ARGUMENT.
 * - Functions writing text or tokens into a caller's buffer take (buf, capacity, *length): *length
 *   receives the full size needed (text lengths exclude the terminating NUL). buf = NULL with
 *   capacity = 0 asks for the size and succeeds; a non-zero capacity that is too small fails with
 *   DSMOE_ERR_OUT_OF_RANGE (*length still set).
 * - Threads: a dsmoe_model is immutable after loading and may be used from any number of threads at
 *   once. A dsmoe_session belongs to one thread at a time. */
#ifndef DSMOE_DSMOE_H
#define DSMOE_DSMOE_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define DSMOE_API
#else
#define DSMOE_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status and errors ------------------------------------------------------------------------ */

typedef enum dsmoe_status {
  DSMOE_OK = 0,
  DSMOE_ERR_INVALID_ARGUMENT = 1, /* unusable argument: NULL handle, bad option, invalid UTF-8 */
  DSMOE_ERR_IO = 2,               /* a file could not be opened or read */
  DSMOE_ERR_FORMAT = 3,           /* a file's content is malformed */
  DSMOE_ERR_UNSUPPORTED = 4,      /* well-formed but not supported */
  DSMOE_ERR_OUT_OF_RANGE = 5,     /* context full, prompt too long, token id past the vocabulary,
                                     buffer too small */
  DSMOE_ERR_CANCELLED = 6,        /* the caller asked to stop */
  DSMOE_ERR_INTERNAL = 7,         /* a bug in dsmoe (or out of memory) */
} dsmoe_status;

/* The message of the last failed call on this thread ("" if none). Valid until the next dsmoe
 * call on the same thread. */
DSMOE_API const char* dsmoe_last_error(void);
/* A short constant name for a status ("DSMOE_ERR_IO"). */
DSMOE_API const char* dsmoe_status_name(dsmoe_status status);
/* The library's version, "MAJOR.MINOR.PATCH". */
DSMOE_API const char* dsmoe_version(void);

/* ---- Models ----------------------------------------------------------------------------------- */

typedef struct dsmoe_model dsmoe_model;
typedef int32_t dsmoe_token;

typedef struct dsmoe_model_options {
  size_t struct_size;
  int32_t n_threads; /* threads for evaluation; 0: one per core */
} dsmoe_model_options;

DSMOE_API void dsmoe_model_options_default(dsmoe_model_options* options);

/* Loads (memory-maps) a .dsmoe file. `options` may be NULL for defaults. *out receives a model
 * to release with dsmoe_model_free. */
DSMOE_API dsmoe_status dsmoe_model_load(const char* path, const dsmoe_model_options* options,
                                        dsmoe_model** out);
/* Releases a model. Every session created from it must have been freed first. NULL is ignored. */
DSMOE_API void dsmoe_model_free(dsmoe_model* model);

typedef struct dsmoe_model_info {
  size_t struct_size;           /* set by the caller: sizeof(dsmoe_model_info) */
  int32_t vocab_size;           /* logits per position */
  int32_t max_context;          /* the model's max_position_embeddings */
  int32_t n_layers;
  dsmoe_token bos_token;        /* -1 when the tokenizer declares none */
  dsmoe_token eos_token;        /* -1 when the tokenizer declares none */
  int32_t has_chat_template;    /* 1 when tokenizer_config.json carries a chat_template */
  const char* model_type;       /* config.json's model_type; owned by the model */
} dsmoe_model_info;

DSMOE_API dsmoe_status dsmoe_model_get_info(const dsmoe_model* model, dsmoe_model_info* info);

/* 1 in *out when generation stops at `token` (end of sequence or end of turn), else 0. */
DSMOE_API dsmoe_status dsmoe_token_is_end(const dsmoe_model* model, dsmoe_token token, int* out);

/* ---- Text ------------------------------------------------------------------------------------- */

/* Encodes UTF-8 text into tokens. Special tokens written in the text ("<｜User｜>") are recognized.
 * add_bos != 0 puts the tokenizer's BOS token first (if it declares one). */
DSMOE_API dsmoe_status dsmoe_tokenize(const dsmoe_model* model, const char* text, size_t text_len,
                                      int add_bos, dsmoe_token* tokens, size_t capacity,
                                      size_t* n_tokens);

/* Decodes tokens into UTF-8 text (invalid byte sequences become U+FFFD). The text is
 * always NUL-terminated, so capacity must be at least *text_len + 1. */
DSMOE_API dsmoe_status dsmoe_detokenize(const dsmoe_model* model, const dsmoe_token* tokens,
                                        size_t n_tokens, char* text, size_t capacity,
                                        size_t* text_len);

typedef struct dsmoe_message {
  const char* role;    /* "system", "user", "assistant", ... (NUL-terminated UTF-8) */
  const char* content; /* NUL-terminated UTF-8 */
} dsmoe_message;

/* Renders a conversation with the model's chat template, as Hugging Face apply_chat_template
 * does. add_generation_prompt != 0 appends the assistant prefix. Output as for dsmoe_detokenize. */
DSMOE_API dsmoe_status dsmoe_apply_chat_template(const dsmoe_model* model,
                                                 const dsmoe_message* messages, size_t n_messages,
                                                 int add_generation_prompt, char* text,
                                                 size_t capacity, size_t* text_len);

/* ---- Sessions --------------------------------------------------------------------------------- */

typedef struct dsmoe_session dsmoe_session;

typedef struct dsmoe_session_options {
  size_t struct_size;
  int32_t n_ctx; /* context length in tokens; 0: min(model's max_context, 4096) */
} dsmoe_session_options;

DSMOE_API void dsmoe_session_options_default(dsmoe_session_options* options);

/* Creates a session (KV cache, scratch buffers, sampler) on `model`. `options` may be NULL. */
DSMOE_API dsmoe_status dsmoe_session_create(const dsmoe_model* model,
                                            const dsmoe_session_options* options,
                                            dsmoe_session** out);
/* Releases a session. NULL is ignored. */
DSMOE_API void dsmoe_session_free(dsmoe_session* session);
/* Empties the context and restarts the sampler from its seed. */
DSMOE_API dsmoe_status dsmoe_session_reset(dsmoe_session* session);
/* Tokens currently in the context, and the context's capacity. */
DSMOE_API dsmoe_status dsmoe_session_get_position(const dsmoe_session* session, size_t* position,
                                                  size_t* n_ctx);

/* Appends `tokens` to the context and evaluates them. *logits (may be NULL) receives the last
 * token's vocab_size logits, owned by the session and valid until its next eval, generate, reset
 * or free. Fails with DSMOE_ERR_OUT_OF_RANGE, changing nothing, when they do not fit. */
DSMOE_API dsmoe_status dsmoe_eval(dsmoe_session* session, const dsmoe_token* tokens,
                                  size_t n_tokens, const float** logits);

typedef struct dsmoe_sampling_options {
  size_t struct_size;
  float temperature;      /* <= 0: greedy. Default 0.8 */
  int32_t top_k;          /* 0: off. Default 40 */
  float top_p;            /* 1: off. Default 0.95 */
  float min_p;            /* 0: off. Default 0.05 */
  float repeat_penalty;   /* 1: off. Default 1 */
  float presence_penalty; /* 0: off. Default 0 */
  int32_t penalty_window; /* recent tokens the penalties consider. Default 64 */
  uint64_t seed;          /* same seed, same tokens. Default 0 */
} dsmoe_sampling_options;

DSMOE_API void dsmoe_sampling_options_default(dsmoe_sampling_options* options);

/* Replaces the session's sampling options (reseeding when the seed changes). */
DSMOE_API dsmoe_status dsmoe_session_set_sampling(dsmoe_session* session,
                                                  const dsmoe_sampling_options* options);
/* Draws a token from `logits` (vocab_size values; NULL: the last eval's) with the session's
 * sampler. The token is not evaluated; evaluate it with dsmoe_eval to continue. */
DSMOE_API dsmoe_status dsmoe_sample(dsmoe_session* session, const float* logits,
                                    dsmoe_token* token);

/* ---- Generation ------------------------------------------------------------------------------- */

/* Receives each piece of generated text: complete UTF-8 characters only, never NUL-terminated.
 * Return 0 to continue, non-zero to stop (reported as DSMOE_STOP_CALLBACK). */
typedef int (*dsmoe_piece_callback)(const char* piece, size_t len, void* user_data);

typedef enum dsmoe_stop_reason {
  DSMOE_STOP_END_TOKEN = 0,    /* the model produced an end-of-sequence / end-of-turn token */
  DSMOE_STOP_MAX_TOKENS = 1,   /* max_tokens were generated */
  DSMOE_STOP_STRING = 2,       /* a stop string appeared (it is not passed to the callback) */
  DSMOE_STOP_CONTEXT_FULL = 3, /* no room left in the session's context */
  DSMOE_STOP_CANCELLED = 4,    /* *cancel became non-zero */
  DSMOE_STOP_CALLBACK = 5,     /* the callback returned non-zero */
} dsmoe_stop_reason;

typedef struct dsmoe_generate_options {
  size_t struct_size;
  int32_t max_tokens;                   /* 0: until a stop condition or a full context. Default 0 */
  int32_t add_bos;                      /* put BOS before the prompt. Default 0 */
  const dsmoe_sampling_options* sampling; /* NULL: keep the session's current sampling options */
  const char* const* stop_strings;      /* n_stop_strings NUL-terminated UTF-8 strings */
  size_t n_stop_strings;
  int32_t stop_at_end_token;            /* stop at EOS / end of turn. Default 1 */
  dsmoe_piece_callback on_piece;        /* may be NULL */
  void* user_data;
  /* Polled once per token; another thread stops generation by storing a non-zero value with an
   * atomic store (C11 atomic_store on the int's address, C++ std::atomic_ref<int>, or GCC's
   * __atomic_store_n). May be NULL. */
  const int* cancel;
} dsmoe_generate_options;

DSMOE_API void dsmoe_generate_options_default(dsmoe_generate_options* options);

typedef struct dsmoe_generate_result {
  size_t struct_size; /* set by the caller: sizeof(dsmoe_generate_result) */
  dsmoe_stop_reason stop_reason;
  size_t prompt_tokens;
  size_t generated_tokens;
  double prompt_seconds;   /* evaluating the prompt */
  double generate_seconds; /* from the first sampled token to the end */
} dsmoe_generate_result;

/* Appends the prompt (UTF-8 text, special tokens recognized) to the session's context, then
 * samples and evaluates tokens until a stop condition, streaming the text to on_piece. The
 * context keeps everything, so a later call continues the conversation. A prompt that does not
 * fit fails with DSMOE_ERR_OUT_OF_RANGE before anything is evaluated. `result` may be NULL. */
DSMOE_API dsmoe_status dsmoe_generate(dsmoe_session* session, const char* prompt,
                                      size_t prompt_len, const dsmoe_generate_options* options,
                                      dsmoe_generate_result* result);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DSMOE_DSMOE_H */
