// Loads a model and streams its reply to one user message, using the C++ wrapper.
//   chat_cpp MODEL.dsmoe "your question"
#include <dsmoe/dsmoe.hpp>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " MODEL.dsmoe QUESTION\n";
    return 2;
  }
  try {
    dsmoe::api::Model model(argv[1]);
    dsmoe::api::Session session(model);
    const std::string prompt = model.apply_chat_template({{"user", argv[2]}});

    dsmoe::api::GenerateOptions options;
    options.max_tokens = 64;
    options.sampling.emplace();
    options.sampling->seed = 1234;
    const dsmoe_generate_result r =
        session.generate(prompt, options, [](std::string_view piece) {
          std::cout << piece << std::flush;
          return true;  // keep going
        });
    std::cout << "\n[" << r.prompt_tokens << " prompt tokens, " << r.generated_tokens
              << " generated]\n";
  } catch (const dsmoe::api::Error& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return 0;
}
