// The cost of journaling one step: an intent record and a done record, each fsync'd before
// the run goes on. Printed beside the floor the disk allows (the same bytes written with
// write + fdatasync and nothing else) and the target (≤ 2 ms a step).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/journal/journal.h"

using namespace reconcile;
using Clock = std::chrono::steady_clock;

namespace {

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

nlohmann::json State(int i) {
  return {{"exists", true},
          {"attrs",
           {{"path", "/etc/nginx/sites-enabled/site-" + std::to_string(i) + ".conf"},
            {"content", std::string(600, 'x')},
            {"mode", "0644"},
            {"owner", "root"},
            {"group", "root"}}}};
}

}  // namespace

int main(int argc, char** argv) {
  int steps = argc > 1 ? std::atoi(argv[1]) : 500;
  std::string dir = argc > 2 ? argv[2] : "bench-journal-tmp";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  auto journal = OpenFileJournal(dir + "/bench.journal");
  std::vector<double> step_ms;
  std::size_t bytes = 0;
  for (int i = 0; i < steps; ++i) {
    JournalRecord intent{0,
                         "",
                         "intent",
                         {{"op", "apply"},
                          {"stage", "switch"},
                          {"address", "file.site" + std::to_string(i)},
                          {"type", "file"},
                          {"action", "update"},
                          {"prior", State(i)},
                          {"desired", State(i + 1)}}};
    JournalRecord done{
        0,
        "",
        "done",
        {{"op", "apply"}, {"stage", "switch"}, {"address", "file.site" + std::to_string(i)}, {"state", State(i + 1)}}};
    auto t0 = Clock::now();
    if (!journal->Append(&intent) || !journal->Append(&done)) {
      std::fprintf(stderr, "journal append failed\n");
      return 1;
    }
    step_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    bytes += intent.data.dump().size() + done.data.dump().size() + 200;
  }

  // The floor: the same number of bytes per record, written and fdatasync'd, nothing else.
  std::string line(bytes / static_cast<std::size_t>(steps) / 2, 'x');
  line += '\n';
  int fd = ::open((dir + "/floor").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
  std::vector<double> floor_ms;
  for (int i = 0; i < steps; ++i) {
    auto t0 = Clock::now();
    for (int r = 0; r < 2; ++r) {
      if (::write(fd, line.data(), line.size()) < 0 || ::fdatasync(fd) != 0) return 1;
    }
    floor_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  ::close(fd);
  std::filesystem::remove_all(dir);

  double median = Percentile(step_ms, 0.5), floor_median = Percentile(floor_ms, 0.5);
  std::printf("%-34s %10s %10s %10s\n", "one journaled step (2 records)", "median ms", "p90 ms", "p99 ms");
  std::printf("%-34s %10.3f %10.3f %10.3f\n", "reconcile journal", median, Percentile(step_ms, 0.9),
              Percentile(step_ms, 0.99));
  std::printf("%-34s %10.3f %10.3f %10.3f\n", "floor: write + fdatasync only", floor_median, Percentile(floor_ms, 0.9),
              Percentile(floor_ms, 0.99));
  std::printf("%-34s %10.3f\n", "target", 2.0);
  std::printf("ratio to floor %.2fx, to target %.2fx (%d steps, %zu bytes a step)\n", median / floor_median,
              median / 2.0, steps, bytes / static_cast<std::size_t>(steps));
  return 0;
}
