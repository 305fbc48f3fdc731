// The "narrated" Catch2 reporter: what `check_<chapter>` prints in learner
// mode (tests/learner.cmake). Passing test cases are counted (listed with
// -s); a passing chapter is its verdict line. For the first
// failing test case of a chapter it tells the story of the test: every step it
// took, in order and numbered (each SECTION entered, each INFO/CAPTURE note,
// each check that passed, marked ✓), then the step that failed, with the
// expression as the test wrote it and Catch2's expansion of it, which shows
// both sides (the value your code produced and the one the test expects; byte
// vectors print as hex, see bytes_as_hex.hpp). Every later failing test case
// gets one line naming its first failure. The last line is the chapter's verdict.
//
//   test_framing --reporter narrated
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

namespace {

class NarratedReporter : public Catch::StreamingReporterBase<NarratedReporter> {
 public:
  explicit NarratedReporter(Catch::ReporterConfig const& config) : StreamingReporterBase(config) {
    // Passing assertions are steps of the story too.
    m_reporterPrefs.shouldReportAllAssertions = true;
  }

  static std::string getDescription() {
    return "Narrates the first failing test case step by step (wslab learner mode)";
  }

  void assertionStarting(Catch::AssertionInfo const&) override {}

  void testCaseStarting(Catch::TestCaseInfo const& info) override {
    StreamingReporterBase::testCaseStarting(info);
    steps_.clear();
    notes_.clear();
    failure_.clear();
    failed_steps_ = 0;
    depth_ = 0;
  }

  void sectionStarting(Catch::SectionInfo const& info) override {
    StreamingReporterBase::sectionStarting(info);
    // Depth 1 is the test case itself, entered once per leaf section.
    if (++depth_ > 1) step("section \"" + info.name + "\"");
  }

  void sectionEnded(Catch::SectionStats const& stats) override {
    StreamingReporterBase::sectionEnded(stats);
    --depth_;
  }

  bool assertionEnded(Catch::AssertionStats const& stats) override {
    const Catch::AssertionResult& r = stats.assertionResult;
    // INFO/CAPTURE messages in scope: each new one is a step of its own.
    std::vector<std::string> now;
    for (const Catch::MessageInfo& m : stats.infoMessages) {
      if (m.type != Catch::ResultWas::Info) continue;
      now.push_back(m.message);
      bool seen = false;
      for (const std::string& n : notes_) seen = seen || n == m.message;
      if (!seen) step("note: " + m.message);
    }
    notes_ = now;

    if (r.isOk()) {
      if (r.hasExpression()) step("✓ " + r.getExpressionInMacro());
      return true;
    }
    ++failed_steps_;
    if (failure_.empty()) {
      failure_ = describe_failure(r, stats);
      steps_before_failure_ = steps_;
    }
    return true;
  }

  void testCaseEnded(Catch::TestCaseStats const& stats) override {
    const bool passed = stats.totals.assertions.failed == 0 && stats.totals.testCases.failed == 0;
    const std::string& name = stats.testInfo.name;
    if (passed) {
      ++passed_;
      // One line per passing test case only when asked (-s): the verdict
      // line counts them.
      if (m_config->includeSuccessfulResults())
        stream << "  ✓ " << name << " (" << stats.totals.assertions.passed << " checks)\n";
    } else {
      ++failed_;
      if (failed_ == 1) {
        narrate(name, stats);
      } else {
        stream << "  ✗ " << name << "\n      first failure: " << first_line(failure_) << "\n";
      }
    }
    stream.flush();
    StreamingReporterBase::testCaseEnded(stats);
  }

  void testRunEnded(Catch::TestRunStats const& stats) override {
    const std::size_t total = passed_ + failed_;
    const std::string chapter = chapter_name();
    stream << "\n";
    if (failed_ == 0) {
      stream << "chapter " << chapter << ": " << passed_ << "/" << total << " test cases pass\n";
    } else {
      stream << "chapter " << chapter << " FAILS: " << passed_ << "/" << total
             << " test cases pass, " << failed_ << " fail; the first failure is narrated above\n";
    }
    stream.flush();
    StreamingReporterBase::testRunEnded(stats);
  }

 private:
  // Shown before the failing step; more than this and the oldest are summed up.
  static constexpr std::size_t kMaxStepsShown = 30;

  void step(std::string text) { steps_.push_back(std::move(text)); }

  static std::string location(Catch::SourceLineInfo const& where) {
    std::string file = where.file;
    if (const auto tests = file.rfind("/tests/"); tests != std::string::npos) file = file.substr(tests + 1);
    return file + ":" + std::to_string(where.line);
  }

  static std::string first_line(std::string const& text) { return text.substr(0, text.find('\n')); }

  static std::string describe_failure(Catch::AssertionResult const& r, Catch::AssertionStats const& stats) {
    std::string out;
    switch (r.getResultType()) {
      case Catch::ResultWas::ThrewException:
        out = (r.hasExpression() ? r.getExpressionInMacro() + " threw " : "the test threw ") +
              std::string("an exception: ") + r.getMessage();
        break;
      case Catch::ResultWas::DidntThrowException:
        out = r.getExpressionInMacro() + ": expected an exception, none was thrown";
        break;
      case Catch::ResultWas::FatalErrorCondition:
        out = "crashed: " + r.getMessage();
        break;
      case Catch::ResultWas::ExplicitFailure:
        out = "FAIL: " + r.getMessage();
        break;
      default:
        out = r.hasExpression() ? r.getExpressionInMacro() : r.getMessage();
        break;
    }
    out += "   [" + location(r.getSourceInfo()) + "]";
    if (r.hasExpression() && r.hasExpandedExpression() &&
        r.getResultType() != Catch::ResultWas::ThrewException) {
      std::string values = r.getExpandedExpression();  // long sides come on lines of their own
      for (std::size_t at = values.find('\n'); at != std::string::npos; at = values.find('\n', at + 9))
        values.replace(at, 1, "\n        ");
      out += "\n      with the values (what the code gave and what the test expects):\n        " + values;
    }
    if (r.hasMessage() && r.getResultType() == Catch::ResultWas::ExpressionFailed) {
      out += "\n      message: " + r.getMessage();
    }
    for (const Catch::MessageInfo& m : stats.infoMessages) {
      if (m.type == Catch::ResultWas::Info) out += "\n      while: " + m.message;
    }
    return out;
  }

  void narrate(std::string const& name, Catch::TestCaseStats const& stats) {
    stream << "\n  ✗ " << name << "   [" << location(stats.testInfo.lineInfo) << "]\n";
    const std::vector<std::string>& steps = steps_before_failure_;
    std::size_t first = 0;
    if (steps.size() > kMaxStepsShown) {
      first = steps.size() - kMaxStepsShown;
      stream << "      steps 1-" << first << ": passed (not shown)\n";
    }
    for (std::size_t i = first; i < steps.size(); ++i) {
      stream << "    " << (i + 1) << ". " << steps[i] << "\n";
    }
    stream << "    " << (steps.size() + 1) << ". ✗ FAILED: " << failure_ << "\n";
    if (failed_steps_ > 1) {
      stream << "    (" << (failed_steps_ - 1) << " more failed checks in this test case)\n";
    }
    if (!stats.stdOut.empty()) stream << "    its output:\n" << stats.stdOut;
    stream << "\n";
  }

  std::string chapter_name() const {
    std::string name = m_config->name();
    if (const auto slash = name.find_last_of('/'); slash != std::string::npos) name = name.substr(slash + 1);
    if (name.rfind("test_", 0) == 0) name = name.substr(5);
    return name;
  }

  std::vector<std::string> steps_;
  std::vector<std::string> steps_before_failure_;
  std::vector<std::string> notes_;
  std::string failure_;
  std::size_t failed_steps_ = 0;
  int depth_ = 0;
  std::size_t passed_ = 0;
  std::size_t failed_ = 0;
};

}  // namespace

CATCH_REGISTER_REPORTER("narrated", NarratedReporter)
