/* Loads a model and streams its reply to one user message, using the C API.
 *   chat_c MODEL.dsmoe "your question" */
#include <dsmoe/dsmoe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char* what, dsmoe_status status) {
  fprintf(stderr, "%s failed: %s: %s\n", what, dsmoe_status_name(status), dsmoe_last_error());
  return 1;
}

static int print_piece(const char* piece, size_t len, void* user_data) {
  (void)user_data;
  fwrite(piece, 1, len, stdout);
  fflush(stdout);
  return 0; /* keep going */
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s MODEL.dsmoe QUESTION\n", argv[0]);
    return 2;
  }
  printf("dsmoe %s\n", dsmoe_version());

  dsmoe_model* model = NULL;
  dsmoe_status st = dsmoe_model_load(argv[1], NULL, &model);
  if (st != DSMOE_OK) return fail("dsmoe_model_load", st);

  /* Render the conversation with the model's chat template: ask for the size, then fill. */
  dsmoe_message messages[1] = {{"user", argv[2]}};
  size_t len = 0;
  st = dsmoe_apply_chat_template(model, messages, 1, 1, NULL, 0, &len);
  if (st != DSMOE_OK) return fail("dsmoe_apply_chat_template", st);
  char* prompt = malloc(len + 1);
  st = dsmoe_apply_chat_template(model, messages, 1, 1, prompt, len + 1, &len);
  if (st != DSMOE_OK) return fail("dsmoe_apply_chat_template", st);

  dsmoe_session* session = NULL;
  st = dsmoe_session_create(model, NULL, &session);
  if (st != DSMOE_OK) return fail("dsmoe_session_create", st);

  dsmoe_sampling_options sampling;
  dsmoe_sampling_options_default(&sampling);
  sampling.seed = 1234;
  dsmoe_generate_options options;
  dsmoe_generate_options_default(&options);
  options.max_tokens = 64;
  options.sampling = &sampling;
  options.on_piece = print_piece;

  dsmoe_generate_result result;
  memset(&result, 0, sizeof result);
  result.struct_size = sizeof result;
  st = dsmoe_generate(session, prompt, len, &options, &result);
  if (st != DSMOE_OK) return fail("dsmoe_generate", st);
  printf("\n[%zu prompt tokens, %zu generated]\n", result.prompt_tokens, result.generated_tokens);

  free(prompt);
  dsmoe_session_free(session);
  dsmoe_model_free(model);
  return 0;
}
