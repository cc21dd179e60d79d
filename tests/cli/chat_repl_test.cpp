// `dsmoe chat` driven through a pseudo-terminal, as a person would use it, on a tiny random-weight
// model: a question gets a streamed reply and a stats line, Ctrl-C interrupts a reply without
// ending the program and abandons a half-typed line, /reset clears, a conversation that outgrows
// the context is reported and the oldest turns are dropped on request; piped stdin prints the
// reply alone.
#include <poll.h>
#include <pty.h>  // forkpty
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "capi/tiny_model.h"
#include "support/fixtures.h"
#include "support/run_command.h"

namespace {

using Clock = std::chrono::steady_clock;

// A child process on the slave side of a pty; the test plays the terminal.
class PtyChild {
 public:
  explicit PtyChild(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const std::string home = (dsmoe::test::temp_dir()).string();
    struct winsize ws = {};
    ws.ws_row = 40;
    ws.ws_col = 200;
    pid_ = forkpty(&fd_, nullptr, nullptr, &ws);
    if (pid_ == 0) {
      setenv("HOME", home.c_str(), 1);
      setenv("TERM", "dumb", 1);
      setenv("OMP_NUM_THREADS", "1", 1);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~PtyChild() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) close(fd_);
  }
  PtyChild(const PtyChild&) = delete;
  PtyChild& operator=(const PtyChild&) = delete;

  void send(const std::string& s) {
    ASSERT_EQ(write(fd_, s.data(), s.size()), static_cast<ssize_t>(s.size()));
  }

  // Types `keys` as a person would: once the REPL has shown `prompt` again since the last thing
  // typed, and the line editor holds the terminal. Keys typed earlier, while the terminal is
  // still in the kernel's line mode, can be lost when libedit switches modes.
  void type(const std::string& keys, const std::string& prompt = ">>> ") {
    ASSERT_TRUE(wait_for(prompt, typed_at_)) << "no prompt \"" << prompt << "\" in " << out_.substr(typed_at_);
    ASSERT_TRUE(wait_for_line_editor());
    typed_at_ = out_.size();
    send(keys);
  }

  // Reads until `needle` appears in the output after offset `from`, the child closes the pty, or
  // `seconds` pass; returns whether it appeared. Everything read is kept in output().
  bool wait_for(const std::string& needle, size_t from = 0, int seconds = 60) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (out_.find(needle, from) == std::string::npos) {
      if (eof_ || Clock::now() > deadline) return false;
      read_some(100);
    }
    return true;
  }
  // Like wait_for, for whichever of two needles comes first.
  bool wait_for_either(const std::string& a, const std::string& b, size_t from, int seconds = 60) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (out_.find(a, from) == std::string::npos && out_.find(b, from) == std::string::npos) {
      if (eof_ || Clock::now() > deadline) return false;
      read_some(100);
    }
    return true;
  }
  // Reads until the output is longer than `size`, the child closes the pty, or `seconds` pass;
  // returns whether it grew.
  bool wait_for_more_than(size_t size, int seconds = 60) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (out_.size() <= size) {
      if (eof_ || Clock::now() > deadline) return false;
      read_some(100);
    }
    return true;
  }
  // Reads whatever arrives within `ms` milliseconds.
  void drain(int ms) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(ms);
    while (Clock::now() < deadline && !eof_) read_some(10);
  }
  // Waits until the line editor has put the terminal in raw mode. Before that the kernel's line
  // discipline, not the editor, sees control keys: a Ctrl-D typed then becomes a NUL byte once
  // the editor switches modes, and the editor would wait for more input forever.
  bool wait_for_line_editor(int seconds = 60) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    struct termios t = {};
    while (Clock::now() < deadline) {
      if (tcgetattr(fd_, &t) == 0 && (t.c_lflag & ICANON) == 0) return true;
      drain(10);
    }
    return false;
  }
  int wait_exit(int seconds = 30) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    int status = 0;
    while (Clock::now() < deadline) {
      drain(20);
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
    }
    return -1;
  }
  const std::string& output() const { return out_; }
  size_t mark() const { return out_.size(); }

 private:
  void read_some(int timeout_ms) {
    struct pollfd p = {fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return;
    char buf[4096];
    const ssize_t n = read(fd_, buf, sizeof buf);
    if (n <= 0) {
      eof_ = true;  // EIO once the child has closed the slave side
      return;
    }
    out_.append(buf, static_cast<size_t>(n));
  }
  pid_t pid_ = -1;
  int fd_ = -1;
  bool exited_ = false;
  bool eof_ = false;
  std::string out_;
  size_t typed_at_ = 0;  // output size when type() last sent keys
};

std::vector<std::string> chat_args(const std::vector<std::string>& extra) {
  std::vector<std::string> a = {DSMOE_CLI, "chat", dsmoe::test::tiny_chat_model().string(),
                                "--threads", "1", "--no-history"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

TEST(ChatRepl, QuestionGetsAStreamedReplyAndStats) {
  PtyChild chat(chat_args({"--seed", "1", "-n", "16"}));
  ASSERT_TRUE(chat.wait_for(">>> ")) << chat.output();
  const size_t start = chat.mark();
  chat.type("What is the capital of France?\r");
  ASSERT_TRUE(chat.wait_for("[prompt ", start)) << chat.output();
  ASSERT_TRUE(chat.wait_for(">>> ", start)) << chat.output();
  const std::string after = chat.output().substr(start);
  EXPECT_NE(after.find("reply 16 tokens"), std::string::npos) << after;
  EXPECT_NE(after.find("tok/s"), std::string::npos) << after;
  // The reply lies between the echoed question and the stats line.
  const size_t q = after.find("France?");
  const size_t stats = after.find("[prompt ");
  ASSERT_NE(q, std::string::npos);
  EXPECT_GT(stats, q + 10) << after;
  chat.type("\x04");  // Ctrl-D at an empty prompt exits
  EXPECT_EQ(chat.wait_exit(), 0) << chat.output();
}

TEST(ChatRepl, CtrlCInterruptsTheReplyNotTheProgram) {
  // No token limit and no end token in sight for this seed: a reply runs until the context is
  // full (about 2000 tokens) unless Ctrl-C stops it. A fast build can finish the whole reply
  // before the Ctrl-C lands; then the conversation is reset and the question asked again.
  PtyChild chat(chat_args({"--seed", "3", "--ctx", "2048"}));
  ASSERT_TRUE(chat.wait_for(">>> ")) << chat.output();
  bool interrupted = false;
  for (int attempt = 0; attempt < 5 && !interrupted; ++attempt) {
    const size_t start = chat.mark();
    chat.type("Tell me a very long story.\r");
    ASSERT_TRUE(chat.wait_for("story.", start));
    const size_t echoed = chat.output().find("story.", start) + 6;
    // The reply has started (a few characters past the echoed "\r\n"), however slow the build.
    ASSERT_TRUE(chat.wait_for_more_than(echoed + 4)) << "nothing streamed before Ctrl-C";
    chat.send("\x03");
    ASSERT_TRUE(chat.wait_for("[prompt ", start)) << chat.output().substr(start);
    const size_t stats = chat.output().find("[prompt ", start);
    ASSERT_TRUE(chat.wait_for(">>> ", stats)) << chat.output().substr(start);
    const std::string stats_line = chat.output().substr(stats, chat.output().find(">>> ", stats) - stats);
    interrupted = stats_line.find("[interrupted]") != std::string::npos;
    if (!interrupted) {
      const size_t m = chat.mark();
      chat.type("/reset\r");
      ASSERT_TRUE(chat.wait_for("Conversation cleared.", m));
    }
  }
  ASSERT_TRUE(interrupted) << "five replies all ended before Ctrl-C arrived";
  const size_t after = chat.mark();
  chat.type("/stats\r");  // still alive and answering
  ASSERT_TRUE(chat.wait_for("sampling:", after)) << chat.output().substr(after);
  EXPECT_NE(chat.output().find("1 turns", after), std::string::npos) << chat.output().substr(after);
  chat.type("/quit\r");
  EXPECT_EQ(chat.wait_exit(), 0);
}

TEST(ChatRepl, CtrlCWhileTypingAbandonsTheLine) {
  PtyChild chat(chat_args({"-n", "4"}));
  ASSERT_TRUE(chat.wait_for(">>> "));
  chat.type("half a question");
  ASSERT_TRUE(chat.wait_for("question"));
  const size_t m = chat.mark();
  chat.send("\x03");
  ASSERT_TRUE(chat.wait_for("^C", m)) << chat.output().substr(m);
  ASSERT_TRUE(chat.wait_for(">>> ", m)) << chat.output().substr(m);
  const size_t after = chat.mark();
  chat.type("/stats\r");  // the abandoned text was neither sent nor kept in the line
  ASSERT_TRUE(chat.wait_for("sampling:", after)) << chat.output().substr(after);
  EXPECT_NE(chat.output().find("0 turns", after), std::string::npos) << chat.output().substr(after);
  EXPECT_EQ(chat.output().find("half a question/stats", after), std::string::npos);
  chat.type("/quit\r");
  EXPECT_EQ(chat.wait_exit(), 0);
}

TEST(ChatRepl, ResetClearsTheConversation) {
  PtyChild chat(chat_args({"--seed", "2", "-n", "8"}));
  ASSERT_TRUE(chat.wait_for(">>> "));
  chat.type("Hello\r");
  ASSERT_TRUE(chat.wait_for("[prompt "));
  size_t m = chat.mark();
  chat.type("/stats\r");
  ASSERT_TRUE(chat.wait_for("sampling:", m));
  EXPECT_NE(chat.output().find("1 turns", m), std::string::npos) << chat.output().substr(m);
  EXPECT_EQ(chat.output().find("context: 0 of", m), std::string::npos) << chat.output().substr(m);
  m = chat.mark();
  chat.type("/reset\r");
  ASSERT_TRUE(chat.wait_for("Conversation cleared.", m));
  m = chat.mark();
  chat.type("/stats\r");
  ASSERT_TRUE(chat.wait_for("sampling:", m));
  EXPECT_NE(chat.output().find("context: 0 of", m), std::string::npos) << chat.output().substr(m);
  EXPECT_NE(chat.output().find("0 turns", m), std::string::npos);
  chat.type("/quit\r");
  EXPECT_EQ(chat.wait_exit(), 0);
}

TEST(ChatRepl, SetSystemSaveLoadAndBadCommands) {
  PtyChild chat(chat_args({"-n", "4"}));
  ASSERT_TRUE(chat.wait_for(">>> "));
  size_t m = chat.mark();
  chat.type("/set temp 0.5\r");
  ASSERT_TRUE(chat.wait_for("temp = 0.5", m));
  m = chat.mark();
  chat.type("/set top-p 7\r");
  ASSERT_TRUE(chat.wait_for("error:", m));
  ASSERT_TRUE(chat.wait_for("top_p", m)) << chat.output().substr(m);
  m = chat.mark();
  chat.type("/frobnicate\r");
  ASSERT_TRUE(chat.wait_for("unknown command", m));
  m = chat.mark();
  chat.type("/system You are terse.\r");
  ASSERT_TRUE(chat.wait_for("System message set.", m));
  m = chat.mark();
  chat.type("Hi\r");
  ASSERT_TRUE(chat.wait_for("[prompt ", m));
  ASSERT_TRUE(chat.wait_for(">>> ", m));
  const std::string file = (dsmoe::test::temp_dir() / "conversation.json").string();
  m = chat.mark();
  chat.type("/save " + file + "\r");
  ASSERT_TRUE(chat.wait_for("Saved 3 messages", m)) << chat.output().substr(m);
  m = chat.mark();
  chat.type("/reset\r");
  ASSERT_TRUE(chat.wait_for("Conversation cleared.", m));
  m = chat.mark();
  chat.type("/load " + file + "\r");
  ASSERT_TRUE(chat.wait_for("Loaded 3 messages", m)) << chat.output().substr(m);
  m = chat.mark();
  chat.type("/load /nonexistent/conversation.json\r");
  ASSERT_TRUE(chat.wait_for("error:", m));
  chat.type("/quit\r");
  EXPECT_EQ(chat.wait_exit(), 0);
}

TEST(ChatRepl, MultiLineMessages) {
  PtyChild chat(chat_args({"-n", "4"}));
  ASSERT_TRUE(chat.wait_for(">>> "));
  const size_t m = chat.mark();
  chat.type("first line \\\r");
  ASSERT_TRUE(chat.wait_for("... ", m));
  EXPECT_EQ(chat.output().find("[prompt ", m), std::string::npos);
  chat.type("second line\r", "... ");
  ASSERT_TRUE(chat.wait_for("[prompt ", m));
  ASSERT_TRUE(chat.wait_for(">>> ", m));
  // Paste mode: everything between two lines of """ is one message.
  const size_t p = chat.mark();
  chat.type("\"\"\"\r");
  ASSERT_TRUE(chat.wait_for("... ", p));
  chat.type("pasted one\r", "... ");
  chat.type("/not a command inside a paste\r", "... ");
  chat.type("\"\"\"\r", "... ");
  ASSERT_TRUE(chat.wait_for("[prompt ", p)) << chat.output().substr(p);
  EXPECT_EQ(chat.output().find("unknown command", p), std::string::npos);
  chat.type("/quit\r");
  EXPECT_EQ(chat.wait_exit(), 0);
}

TEST(ChatRepl, ContextOverflowIsReportedAndOldestTurnsDropped) {
  // 160 positions with 40 kept free for each reply: a few turns fill it.
  PtyChild chat(chat_args({"--seed", "4", "-n", "12", "--ctx", "160"}));
  ASSERT_TRUE(chat.wait_for(">>> "));
  const std::string message = "Please tell me about the rivers and the mountains of the land.\r";
  bool offered = false;
  for (int turn = 0; turn < 12 && !offered; ++turn) {
    const size_t m = chat.mark();
    chat.type(message);
    ASSERT_TRUE(chat.wait_for_either("[prompt ", "[Y/n]", m)) << chat.output().substr(m);
    chat.drain(50);
    offered = chat.output().find("[Y/n]", m) != std::string::npos;
  }
  ASSERT_TRUE(offered) << chat.output();
  EXPECT_NE(chat.output().find("no longer fits in the context"), std::string::npos);
  size_t m = chat.mark();
  chat.type("y\r", "[Y/n]");
  ASSERT_TRUE(chat.wait_for("[prompt ", m)) << chat.output().substr(m);
  ASSERT_TRUE(chat.wait_for(">>> ", m));

  // A message longer than the whole context is refused with a clear message.
  std::string huge;
  for (int i = 0; i < 200; ++i) huge += "word ";
  m = chat.mark();
  chat.type(huge + "\r");
  ASSERT_TRUE(chat.wait_for("does not fit in the context even on its own", m))
      << chat.output().substr(m);
  chat.type("/quit\r");
  EXPECT_EQ(chat.wait_exit(), 0);
}

TEST(ChatRepl, ReplyInsideAThinkSectionIsDimmed) {
  // With the plain template the first styling after the question is the stats line's; with an
  // R1-style template the reply itself starts dimmed, and dimming ends before the stats line.
  for (const bool thinking : {false, true}) {
    const std::string model = (thinking ? dsmoe::test::tiny_thinking_model()
                                        : dsmoe::test::tiny_chat_model()).string();
    PtyChild chat({DSMOE_CLI, "chat", model, "--threads", "1", "--no-history", "-n", "6"});
    ASSERT_TRUE(chat.wait_for(">>> "));
    const size_t m = chat.mark();
    chat.type("Why?\r");
    ASSERT_TRUE(chat.wait_for("[prompt ", m)) << chat.output().substr(m);
    const std::string out = chat.output().substr(m);
    const size_t dim = out.find("\x1b[2m");
    const size_t stats = out.find("\x1b[2m[prompt ");
    ASSERT_NE(stats, std::string::npos) << out;
    if (thinking) {
      EXPECT_LT(dim, stats) << out;
      EXPECT_NE(out.substr(dim, stats - dim).find("\x1b[0m"), std::string::npos) << out;
    } else {
      EXPECT_EQ(dim, stats) << out;
    }
    chat.type("/quit\r");
    EXPECT_EQ(chat.wait_exit(), 0);
  }
}

std::string run_piped(const std::string& input, const std::string& flags, int* rc) {
  const std::string in = (dsmoe::test::temp_dir() / "stdin.txt").string();
  FILE* f = std::fopen(in.c_str(), "wb");
  std::fwrite(input.data(), 1, input.size(), f);
  std::fclose(f);
  const std::string cmd = std::string(DSMOE_CLI) + " chat " +
                          dsmoe::test::tiny_chat_model().string() + " --threads 1 " + flags +
                          " < " + in + " 2>&1";
  const dsmoe::test::CommandResult r = dsmoe::test::run_command(cmd);
  *rc = r.code;
  return r.output;
}

TEST(ChatPiped, PrintsOnlyTheReply) {
  int rc = 0;
  const std::string q = "What is two plus two?\nAnswer briefly.\n";
  const std::string out = run_piped(q, "--seed 5 -n 10", &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_GT(out.size(), 1u);
  EXPECT_EQ(out.find(">>>"), std::string::npos) << out;
  EXPECT_EQ(out.find("[prompt"), std::string::npos) << out;
  EXPECT_EQ(out.find("\x1b["), std::string::npos) << out;
  int rc2 = 0;
  EXPECT_EQ(run_piped(q, "--seed 5 -n 10", &rc2), out);
}

TEST(ChatPiped, OverlongInputIsAClearError) {
  std::string huge;
  for (int i = 0; i < 400; ++i) huge += "word ";
  int rc = 0;
  const std::string out = run_piped(huge, "--ctx 128", &rc);
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("the context holds 128"), std::string::npos) << out;
}

TEST(ChatPiped, InvalidUtf8IsAClearError) {
  int rc = 0;
  const std::string out = run_piped("bad \xFF byte", "", &rc);
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("UTF-8"), std::string::npos) << out;
}

}  // namespace
