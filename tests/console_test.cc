// The operator's console: on a terminal, finished steps scroll above one live line that is
// cleared before each and cut to the width; colour only when asked; a step's own reports live
// on the line and the last one is kept; in a log, a line per event and a heartbeat for a long
// step. (Through a real pseudo-terminal: tests/tty_test.sh.)
#include <doctest/doctest.h>

#include <sstream>
#include <thread>

#include "engine/exec/console.h"

using namespace reconcile;
using std::chrono::milliseconds;

namespace {

ConsoleOptions Live(int width, bool colour) {
  ConsoleOptions o;
  o.live = true;
  o.colour = colour;
  o.width = width;
  o.tick = std::chrono::hours(1);  // redrawn by the events alone, so the output is known
  return o;
}

std::size_t Count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("live: finished steps scroll above the status line, which is cleared first") {
  std::ostringstream out;
  {
    ConsoleProgress console(out, Live(200, false));
    console.StageStarted("switch", 2);
    console.StepStarted("dns_record.www", Action::kUpdate);
    console.StepStarted("file.a", Action::kCreate);
    console.StepFinished("file.a", Action::kCreate, "", milliseconds(12));
    console.StepFinished("dns_record.www", Action::kUpdate, "", milliseconds(30));
    console.StageFinished("switch", StageOutcome{true});
  }
  std::string s = out.str();
  CHECK(s.find("reconcile: stage switch: 2 steps\n") == 0);
  CHECK(s.find("\r[0/2] switch 0s: ~ dns_record.www 0s, + file.a 0s\x1b[K") != std::string::npos);
  CHECK(s.find("\r\x1b[K[1/2] + file.a done (12ms)\n") != std::string::npos);
  CHECK(s.find("\r[1/2] switch 0s: ~ dns_record.www 0s\x1b[K") != std::string::npos);
  CHECK(s.find("\r\x1b[K[2/2] ~ dns_record.www done (30ms)\n") != std::string::npos);
  // No "..." start lines on a terminal: the live line says what runs.
  CHECK(s.find(" ...") == std::string::npos);
  // It ends cleared: what follows starts on a clean line.
  CHECK(s.size() >= 4);
  CHECK(s.substr(s.size() - 4) == "\r\x1b[K");
  CHECK(s.find("\x1b[3") == std::string::npos);
}

TEST_CASE("live: the line is cut to the terminal's width, never inside a UTF-8 character") {
  std::ostringstream out;
  ConsoleProgress console(out, Live(30, false));
  console.StageStarted("s", 1);
  console.StepStarted("file.a_very_long_address_\xc3\xa9\xc3\xa9\xc3\xa9", Action::kCreate);
  console.Finish();
  std::string s = out.str();
  std::size_t start = s.rfind("\r[0/1]");
  REQUIRE(start != std::string::npos);
  std::string line = s.substr(start + 1, s.find("\x1b[K", start) - start - 1);
  CHECK(line.size() <= 29);
  CHECK(line.substr(line.size() - 3) == "...");
  CHECK((static_cast<unsigned char>(line[line.size() - 4]) & 0xC0) != 0xC0);  // no lead byte left alone
}

TEST_CASE("live: colour on the action and on FAILED, only when asked") {
  std::ostringstream out;
  ConsoleProgress console(out, Live(200, true));
  console.StageStarted("s", 2);
  console.StepStarted("file.a", Action::kCreate);
  console.StepFinished("file.a", Action::kCreate, "", milliseconds(1));
  console.StepStarted("file.b", Action::kDelete);
  console.StepFinished("file.b", Action::kDelete, "file.b: permission denied", milliseconds(1));
  console.Finish();
  std::string s = out.str();
  CHECK(s.find("[1/2] \x1b[32m+\x1b[0m file.a done") != std::string::npos);
  CHECK(s.find("[2/2] \x1b[31m-\x1b[0m file.b \x1b[1;31mFAILED\x1b[0m after 1ms: permission denied") !=
        std::string::npos);
  // The live line itself has no colour: its width is counted in bytes.
  CHECK(s.find("\r[0/2] s 0s: + file.a 0s\x1b[K") != std::string::npos);
}

TEST_CASE("live: a step's reports go on the line, scroll now and then, and the last is kept") {
  std::ostringstream out;
  ConsoleOptions o = Live(200, false);
  o.note_every = std::chrono::hours(1);
  ConsoleProgress console(out, o);
  console.StageStarted("media", 1);
  console.StepStarted("s3_sync.media", Action::kUpdate);
  console.Note("s3_sync.media: synced 10/20 objects");  // the first scrolls
  console.Note("s3_sync.media: synced 15/20 objects");  // within note_every: the line only
  console.Note("s3_sync.media: synced 20 objects in 1.0s");
  console.Note("stage media: something else");  // not a step's: scrolls
  console.StepFinished("s3_sync.media", Action::kUpdate, "", milliseconds(1000));
  console.Finish();
  std::string s = out.str();
  CHECK(Count(s, "reconcile: s3_sync.media: synced 10/20 objects\n") == 1);
  CHECK(s.find("reconcile: s3_sync.media: synced 15/20") == std::string::npos);
  CHECK(s.find("~ s3_sync.media 0s (synced 15/20 objects)\x1b[K") != std::string::npos);
  CHECK(s.find("reconcile: stage media: something else\n") != std::string::npos);
  std::size_t last = s.find("reconcile: s3_sync.media: synced 20 objects in 1.0s\n");
  REQUIRE(last != std::string::npos);
  CHECK(last < s.find("[1/1] ~ s3_sync.media done"));
}

TEST_CASE("live: a check's wait is said once, then counted on the line") {
  std::ostringstream out;
  ConsoleProgress console(out, Live(200, false));
  console.StageStarted("switch", 1);
  console.StepStarted("check.smoke", Action::kCheck);
  console.CheckWaiting("check.smoke", "HTTP 503", milliseconds(0), milliseconds(60000));
  console.CheckWaiting("check.smoke", "HTTP 502", milliseconds(2000), milliseconds(60000));
  console.Finish();
  std::string s = out.str();
  CHECK(s.find("reconcile: waiting for check.smoke: HTTP 503 (0ms of 1m)\n") != std::string::npos);
  CHECK(s.find("reconcile: waiting for check.smoke: HTTP 502") == std::string::npos);
  CHECK(s.find("? check.smoke 0s (waiting: HTTP 502, timeout 1m)\x1b[K") != std::string::npos);
}

TEST_CASE("plain: a line per event, no escapes, and a heartbeat while a step runs long") {
  std::ostringstream out;
  ConsoleOptions o;
  o.tick = milliseconds(10);
  o.heartbeat = milliseconds(50);
  ConsoleProgress console(out, o);
  console.StageStarted("sync", 1);
  console.StepStarted("s3_sync.media", Action::kCreate);
  std::this_thread::sleep_for(milliseconds(400));
  console.StepFinished("s3_sync.media", Action::kCreate, "", milliseconds(400));
  console.StageFinished("sync", StageOutcome{true});
  console.Finish();
  std::string s = out.str();
  CHECK(s.find("[0/1] + s3_sync.media ...\n") != std::string::npos);
  CHECK(s.find("reconcile: still running in stage sync (0s): s3_sync.media 0s\n") != std::string::npos);
  CHECK(s.find("[1/1] + s3_sync.media done (400ms)\n") != std::string::npos);
  CHECK(s.find('\r') == std::string::npos);
  CHECK(s.find('\x1b') == std::string::npos);
}

namespace {

// Counts the pieces written, as a file descriptor would count writes.
struct Pieces : std::stringbuf {
  std::size_t pieces = 0;
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    ++pieces;
    return std::stringbuf::xsputn(s, n);
  }
};

}  // namespace

TEST_CASE("a burst of events held is written as one piece at its release, in order") {
  Pieces buf;
  std::ostream out(&buf);
  ConsoleOptions o;
  o.tick = std::chrono::hours(1);
  ConsoleProgress console(out, o);
  console.StageStarted("switch", 3);
  std::string before = buf.str();
  std::size_t pieces = buf.pieces;
  {
    HeldProgress burst(console);
    console.StepStarted("dns_record.a", Action::kUpdate);
    console.StepStarted("dns_record.b", Action::kUpdate);
    {
      HeldProgress nested(console);  // another thread's burst at the same time
      console.StepStarted("dns_record.c", Action::kUpdate);
    }
    CHECK(buf.str() == before);  // nothing yet, while one hold is open
  }
  CHECK(buf.str() == before + "[0/3] ~ dns_record.a ...\n[0/3] ~ dns_record.b ...\n[0/3] ~ dns_record.c ...\n");
  CHECK(buf.pieces == pieces + 1);
  console.StepFinished("dns_record.a", Action::kUpdate, "", milliseconds(5));  // unheld: at once
  CHECK(buf.str().find("[1/3] ~ dns_record.a done (5ms)\n") != std::string::npos);
}

TEST_CASE("live: a burst held is written above the line, which is drawn again after it") {
  std::ostringstream out;
  ConsoleProgress console(out, Live(200, false));
  console.StageStarted("switch", 2);
  console.StepStarted("file.a", Action::kCreate);
  console.StepStarted("file.b", Action::kCreate);
  std::size_t drawn = out.str().size();
  {
    HeldProgress burst(console);
    console.StepFinished("file.a", Action::kCreate, "", milliseconds(1));
    console.StepFinished("file.b", Action::kCreate, "", milliseconds(2));
    CHECK(out.str().size() == drawn);
  }
  CHECK(out.str().substr(drawn) ==
        "\r\x1b[K[1/2] + file.a done (1ms)\n[2/2] + file.b done (2ms)\n\r[2/2] switch 0s\x1b[K");
}
