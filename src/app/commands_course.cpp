// `wslab course list | show N | check N | next`: the course in the terminal.
//
// The course is the folder `lessons/` of the wslab repository: one folder per
// lesson, `NN-name/README.md` (00-why-websocket ... 08-capstone). A lesson
// whose name is a chapter module (`src/<name>/`: uri, handshake, framing,
// masking, heartbeat, close, extensions) has a check: learner mode builds that chapter
// from `lessons/NN-name/exercise/` and runs its tests,
//
//   cmake --preset learner -DWSLAB_LEARNER=<name>
//   cmake --build build/learner --target check_<name>
//
// and `wslab course check N` runs exactly that and records the result in
// build/learner/course-progress.json. The other lessons (00, the capstone)
// have no check; showing one in the terminal records that it was read.
#include "commands.hpp"

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/Process.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <regex>
#include <sstream>
#include <unistd.h>

namespace wslab::app {
namespace {

namespace fs = std::filesystem;

struct Chapter {
  int number = 0;
  std::string name;    // "framing"
  std::string folder;  // "03-framing"
  std::string title;   // the README's first "# " line
  bool checked = false;  // has a learner-mode check (src/<name>/ is a chapter module)
};

// One recorded outcome: "passed" / "failed" (a check) or "read" (a lesson shown).
struct Record {
  std::string result;
  std::string when;  // local time, "2025-01-31 14:05"
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string two_digits(int n) { return (n < 10 ? "0" : "") + std::to_string(n); }

bool is_course_root(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir / "lessons", ec) && fs::is_regular_file(dir / "CMakePresets.json", ec);
}

// $WSLAB_ROOT, else the nearest folder at or above the current one that holds
// lessons/ and CMakePresets.json.
fs::path find_root() {
  if (const char* env = std::getenv("WSLAB_ROOT"); env && *env) {
    if (!is_course_root(env))
      throw InputError(std::string("WSLAB_ROOT=") + env + " is not the wslab repository (no lessons/ and CMakePresets.json there)");
    return fs::absolute(env);
  }
  std::error_code ec;
  for (fs::path dir = fs::current_path(ec); !ec && !dir.empty(); dir = dir.parent_path()) {
    if (is_course_root(dir)) return dir;
    if (dir == dir.parent_path()) break;
  }
  throw InputError("no wslab course here: run `wslab course` inside the wslab repository (a folder with lessons/ and "
                   "CMakePresets.json), or set WSLAB_ROOT to it");
}

std::string first_heading(const fs::path& readme) {
  std::ifstream in(readme);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("# ", 0) == 0) {
      line = line.substr(2);
      while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
      return line;
    }
  return "(no title)";
}

// Every lessons/NN-name/ with a README.md, in order.
std::vector<Chapter> read_chapters(const fs::path& root) {
  static const std::regex folder_name(R"(([0-9]{2})-([a-z0-9][a-z0-9-]*))");
  std::vector<Chapter> chapters;
  for (const auto& entry : fs::directory_iterator(root / "lessons")) {
    std::smatch m;
    const std::string folder = entry.path().filename().string();
    if (!entry.is_directory() || !std::regex_match(folder, m, folder_name)) continue;
    if (!fs::is_regular_file(entry.path() / "README.md")) continue;
    Chapter c;
    c.number = std::stoi(m[1]);
    c.name = m[2];
    c.folder = folder;
    c.title = first_heading(entry.path() / "README.md");
    c.checked = fs::is_directory(root / "src" / c.name);
    chapters.push_back(c);
  }
  std::sort(chapters.begin(), chapters.end(), [](const Chapter& a, const Chapter& b) { return a.number < b.number; });
  if (chapters.empty()) throw InputError("no lessons in " + (root / "lessons").string() + " (no NN-name/README.md)");
  return chapters;
}

// "3", "03", "framing" or "03-framing".
const Chapter& find_chapter(const std::vector<Chapter>& chapters, const std::string& which) {
  const std::string key = lower(which);
  const bool numeric = !key.empty() && key.size() <= 3 && std::all_of(key.begin(), key.end(), ::isdigit);
  for (const auto& c : chapters)
    if ((numeric && std::stoi(key) == c.number) || key == c.name || key == c.folder) return c;
  std::string known;
  for (const auto& c : chapters) known += (known.empty() ? "" : ", ") + two_digits(c.number) + " " + c.name;
  throw UsageError("no chapter '" + which + "' in the course (chapters: " + known + ")");
}

// build/learner/course-progress.json:
//   {"version": 1, "chapters": {"framing": {"result": "passed", "when": "2025-01-31 14:05"}, ...}}
class Progress {
 public:
  explicit Progress(const fs::path& root) : file_(root / "build" / "learner" / "course-progress.json") {
    if (!fs::exists(file_)) return;
    std::ifstream in(file_);
    std::stringstream text;
    text << in.rdbuf();
    try {
      auto object = Poco::JSON::Parser().parse(text.str()).extract<Poco::JSON::Object::Ptr>();
      auto chapters = object ? object->getObject("chapters") : nullptr;
      if (!chapters) throw Poco::Exception("no \"chapters\" object");
      for (const auto& name : chapters->getNames()) {
        auto entry = chapters->getObject(name);
        if (!entry) throw Poco::Exception("\"" + name + "\" is not an object");
        records_[name] = Record{entry->optValue<std::string>("result", ""), entry->optValue<std::string>("when", "")};
      }
    } catch (const Poco::Exception& e) {
      throw InputError(file_.string() + " is not a progress file (" + e.displayText() + "); delete it to start afresh");
    } catch (const std::exception& e) {
      throw InputError(file_.string() + " is not a progress file (" + e.what() + "); delete it to start afresh");
    }
  }

  const fs::path& file() const { return file_; }
  bool empty() const { return records_.empty(); }

  std::optional<Record> of(const Chapter& c) const {
    auto it = records_.find(c.name);
    if (it == records_.end()) return std::nullopt;
    return it->second;
  }

  void record(const Chapter& c, const std::string& result) {
    char when[32];
    const std::time_t now = std::time(nullptr);
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M", std::localtime(&now));
    records_[c.name] = Record{result, when};
    save();
  }

 private:
  void save() const {
    Poco::JSON::Object chapters;
    for (const auto& [name, r] : records_) {
      Poco::JSON::Object entry;
      entry.set("result", r.result);
      entry.set("when", r.when);
      chapters.set(name, entry);
    }
    Poco::JSON::Object top;
    top.set("version", 1);
    top.set("chapters", chapters);
    fs::create_directories(file_.parent_path());
    const fs::path temporary = file_.string() + ".new";
    {
      std::ofstream out(temporary);
      Poco::JSON::Stringifier::stringify(top, out, 2);
      out << "\n";
      if (!out) throw InputError("cannot write " + temporary.string());
    }
    fs::rename(temporary, file_);  // never a half-written progress file
  }

  fs::path file_;
  std::map<std::string, Record> records_;
};

std::string status_of(const Chapter& c, const Progress& progress) {
  const auto r = progress.of(c);
  if (!c.checked) return r && r.value().result == "read" ? "read on " + r.value().when : "—";
  if (!r) return "not started";
  return r.value().result + " on " + r.value().when;
}

bool passed(const Chapter& c, const Progress& progress) {
  const auto r = progress.of(c);
  return r && r.value().result == "passed";
}

std::string check_command(const Chapter& c) {
  return "cmake --preset learner -DWSLAB_LEARNER=" + c.name + " && cmake --build build/learner --target check_" + c.name;
}

// Characters on a terminal: UTF-8 continuation bytes take no column.
std::size_t columns(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char ch) { return (ch & 0xC0) != 0x80; }));
}

std::string pad(const std::string& s, std::size_t width) {
  const std::size_t used = columns(s);
  return s + std::string(used < width ? width - used : 0, ' ');
}

int course_list(const fs::path& root) {
  const auto chapters = read_chapters(root);
  const Progress progress(root);
  std::size_t name_width = 7, title_width = 5;
  for (const auto& c : chapters) {
    name_width = std::max(name_width, columns(c.name));
    title_width = std::max(title_width, columns(c.title));
  }
  std::cout << "#   " << pad("chapter", name_width + 2) << pad("title", title_width + 2) << "status\n";
  int checks = 0, done = 0;
  for (const auto& c : chapters) {
    std::cout << two_digits(c.number) << "  " << pad(c.name, name_width + 2) << pad(c.title, title_width + 2)
              << status_of(c, progress) << "\n";
    if (c.checked) ++checks, done += passed(c, progress) ? 1 : 0;
  }
  std::cout << "\n" << done << " of " << checks << " chapter checks passed (recorded in "
            << progress.file().lexically_relative(root).string() << "); `wslab course next` names the next step\n";
  return kExitOk;
}

// A lesson as plain text: HTML comments (the `<!-- check -->` markers) go,
// code blocks stay as they are, each <details> answer is hidden unless
// `answers`, and then shown without its tags.
std::string render(std::istream& in, const Chapter& c, bool answers) {
  std::string out;
  bool in_code = false, in_comment = false, in_details = false;
  std::string fence;
  int blank_run = 0;
  auto emit = [&](std::string line) {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.pop_back();
    const bool blank = line.find_first_not_of(" \t") == std::string::npos;
    blank_run = blank ? blank_run + 1 : 0;
    if (blank_run <= 1) out += (blank ? "" : line) + "\n";
  };
  const std::string hidden_note =
      "(answer hidden: wslab course show " + std::to_string(c.number) + " --answers)";
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const bool hide = in_details && !answers;
    const std::string trimmed = line.substr(std::min(line.find_first_not_of(" \t"), line.size()));
    if (in_code) {
      if (trimmed.rfind(fence, 0) == 0 && trimmed.find_first_not_of(fence[0]) == std::string::npos) in_code = false;
      if (!hide) emit(line);
      continue;
    }
    if (!in_comment && (trimmed.rfind("```", 0) == 0 || trimmed.rfind("~~~", 0) == 0)) {
      in_code = true;
      fence = trimmed.substr(0, trimmed.find_first_not_of(trimmed[0]));
      if (!hide) emit(line);
      continue;
    }
    // Prose: walk the line's tags.
    std::string text;
    bool had_tag = in_comment;  // a line that starts inside a comment counts as tagged
    const std::string lowered = lower(line);
    std::size_t i = 0;
    while (i < line.size()) {
      if (in_comment) {
        const std::size_t end = line.find("-->", i);
        if (end == std::string::npos) { i = line.size(); break; }
        in_comment = false;
        i = end + 3;
        continue;
      }
      std::size_t next = std::string::npos;
      std::string tag;
      for (const char* t : {"<!--", "<details", "</details>", "<summary>", "</summary>"}) {
        const std::size_t at = lowered.find(t, i);
        if (at < next) next = at, tag = t;
      }
      if (!(in_details && !answers)) text += line.substr(i, next == std::string::npos ? std::string::npos : next - i);
      if (next == std::string::npos) break;
      had_tag = true;
      if (tag == "<!--") {
        in_comment = true;
        i = next + 4;
      } else if (tag == "<details") {
        const std::size_t close = line.find('>', next);
        i = close == std::string::npos ? line.size() : close + 1;
        if (!answers) text += hidden_note;
        in_details = true;
      } else {
        if (tag == "</details>") in_details = false;
        if (tag == "</summary>" && answers) text += ": ";
        i = next + tag.size();
      }
    }
    if (had_tag && text.find_first_not_of(" \t") == std::string::npos) continue;
    if (in_details && !answers && !had_tag) continue;
    emit(text);
  }
  return out;
}

int course_show(const fs::path& root, const std::string& which, bool answers) {
  const auto chapters = read_chapters(root);
  const Chapter& c = find_chapter(chapters, which);
  std::ifstream in(root / "lessons" / c.folder / "README.md");
  if (!in) throw InputError("cannot read " + (root / "lessons" / c.folder / "README.md").string());
  std::cout << render(in, c, answers);
  if (!c.checked) {
    Progress progress(root);
    progress.record(c, "read");
  }
  return kExitOk;
}

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::error_code ec;
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / program;
    if (fs::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) return true;
  }
  return false;
}

// Runs a program in `dir` with this terminal's stdin/stdout/stderr; its exit status.
int run_streamed(const std::vector<std::string>& command, const fs::path& dir) {
  std::cout << "$ ";
  for (const auto& word : command) std::cout << word << (&word == &command.back() ? "\n" : " ");
  std::cout.flush();
  Poco::Process::Args args(command.begin() + 1, command.end());
  Poco::ProcessHandle handle = Poco::Process::launch(command.front(), args, dir.string());
  return handle.wait();
}

int course_check(const fs::path& root, const std::string& which) {
  const auto chapters = read_chapters(root);
  const Chapter& c = find_chapter(chapters, which);
  if (!c.checked)
    throw UsageError("chapter " + two_digits(c.number) + " " + c.name + " has no check (" +
                     (c.number == 0 ? "read it: " : "it is a project: ") + "wslab course show " +
                     std::to_string(c.number) + ")");
  if (!on_path("cmake")) throw InputError("cmake is not on PATH (Debian package cmake; ./bootstrap.sh deps)");
  std::cout << "chapter " << two_digits(c.number) << " " << c.name << ": building it from lessons/" << c.folder
            << "/exercise/ (learner mode) and running check_" << c.name << "\n";
  if (const int status = run_streamed({"cmake", "--preset", "learner", "-DWSLAB_LEARNER=" + c.name}, root); status != 0) {
    std::cout << "\nchapter " << two_digits(c.number) << " " << c.name << ": configuring learner mode failed (exit "
              << status << "); nothing recorded\n";
    return 1;
  }
  const int status = run_streamed({"cmake", "--build", "build/learner", "--target", "check_" + c.name}, root);
  Progress progress(root);
  progress.record(c, status == 0 ? "passed" : "failed");
  std::cout << "\nchapter " << two_digits(c.number) << " " << c.name << ": " << (status == 0 ? "PASSED" : "FAILED")
            << " (recorded in build/learner/course-progress.json)\n";
  if (status == 0) std::cout << "next: wslab course next\n";
  else std::cout << "the output above shows what failed (the chapter tests narrate their steps and the one that "
                    "failed, expected vs. actual); fix it and run `wslab course check "
                 << c.number << "` again\n";
  return status == 0 ? 0 : 1;
}

int course_next(const fs::path& root) {
  const auto chapters = read_chapters(root);
  const Progress progress(root);
  if (progress.empty() && chapters.front().number == 0 && !chapters.front().checked)
    std::cout << "start by reading lesson 00: wslab course show 0\n";
  for (const auto& c : chapters) {
    if (!c.checked || passed(c, progress)) continue;
    std::cout << "next: chapter " << two_digits(c.number) << " " << c.name << " - " << c.title << " ("
              << status_of(c, progress) << ")\n"
              << "  read it:   wslab course show " << c.number << "\n"
              << "  write it:  lessons/" << c.folder << "/exercise/\n"
              << "  check it:  wslab course check " << c.number << "\n"
              << "             (that is: " << check_command(c) << ")\n";
    return kExitOk;
  }
  std::cout << "every chapter check has passed.";
  const auto last = std::find_if(chapters.rbegin(), chapters.rend(), [](const Chapter& c) { return !c.checked; });
  if (last != chapters.rend() && last->number != 0)
    std::cout << " Next: lesson " << two_digits(last->number) << " " << last->name << " - " << last->title
              << ": wslab course show " << last->number;
  std::cout << "\n";
  return kExitOk;
}

}  // namespace

int run_course(const Args& args, const Options& options) {
  const std::string sub = args.size() > 1 ? args[1] : "";
  if (sub == "list" || sub == "next") {
    options.only("course " + sub, {});
    if (args.size() != 2) throw UsageError("usage: wslab course " + sub);
    const fs::path root = find_root();
    return sub == "list" ? course_list(root) : course_next(root);
  }
  if (sub == "show") {
    options.only("course show", {"answers"});
    if (args.size() != 3) throw UsageError("usage: wslab course show N [--answers]");
    return course_show(find_root(), args[2], options.has("answers"));
  }
  if (sub == "check") {
    options.only("course check", {});
    if (args.size() != 3) throw UsageError("usage: wslab course check N");
    return course_check(find_root(), args[2]);
  }
  throw UsageError(sub.empty() ? "usage: wslab course (list | show N | check N | next)"
                               : "unknown course command '" + sub + "' (list, show N, check N, next)");
}

}  // namespace wslab::app
