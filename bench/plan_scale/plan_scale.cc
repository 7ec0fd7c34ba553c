// Planning at scale on the in-memory provider: N resources over four stages — some with
// overlays, some ordered by `after`, some referring to others, a few checks — with half of
// them already in the world. Times each phase and reports peak memory.
// Usage: plan_scale N   (one N per process, so peak RSS is that N's alone)
#include <malloc.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/support/test_world.h"

using namespace reconcile;
using Clock = std::chrono::steady_clock;

namespace {

std::string MakeSpec(int n) {
  std::string s = "version = 1\nname = \"scale\"\nstages = [\"prepare\", \"freeze\", \"switch\", \"cleanup\"]\n";
  s.reserve(static_cast<std::size_t>(n) * 160);
  const char* stages[] = {"prepare", "freeze", "switch", "cleanup"};
  for (int i = 0; i < n; ++i) {
    std::string id = std::to_string(i);
    s += "[mem_item.r" + id + "]\nstage = \"" + stages[i % 4 == 3 ? 1 : 0] + "\"\nkey = \"k" + id + "\"\nvalue = \"v" +
         id + "\"\nsize = " + std::to_string(i % 1000) + "\n";
    if (i % 10 == 1) s += "tags = [\"a\", \"b\"]\n";
    if (i % 10 == 2 && i > 10) s += "after = [\"mem_item.r" + std::to_string(i - 10) + "\"]\n";
    if (i % 20 == 3 && i > 20) s += "color = \"red\"\nwait = \"${mem_item.r" + std::to_string(i - 20) + ".size}s\"\n";
    if (i % 10 == 5) s += "[mem_item.r" + id + ".at.switch]\nvalue = \"switched\"\n";
  }
  for (int c = 0; c < 4; ++c)
    s += "[check.c" + std::to_string(c) + "]\nstage = \"" + stages[c] +
         "\"\nkind = \"tcp\"\naddress = \"127.0.0.1\"\nport = 1\n";
  return s;
}

// PLAN_SCALE_MARKS=1: after each phase, on stderr, the resident memory, its peak so far and
// what the heap holds (the rest of the resident memory is freed but not given back).
long Hwm(const char* key) {
  FILE* f = std::fopen("/proc/self/status", "r");
  char line[256];
  long v = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, key, std::strlen(key)) == 0) v = std::atol(line + std::strlen(key)) / 1024;
  std::fclose(f);
  return v;
}
// jemalloc's, where the binary's allocator is linked in (CMakeLists.txt); glibc's otherwise.
extern "C" int mallctl(const char* name, void* old, std::size_t* old_len, void* new_value, std::size_t new_len)
    __attribute__((weak));
std::size_t HeapBytes() {
  if (!mallctl) {
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
  }
  std::uint64_t epoch = 1;  // its statistics are as of the last epoch
  std::size_t len = sizeof epoch;
  mallctl("epoch", &epoch, &len, &epoch, len);
  std::size_t allocated = 0;
  len = sizeof allocated;
  return mallctl("stats.allocated", &allocated, &len, nullptr, 0) == 0 ? allocated : 0;
}
void Mark(const char* what) {
  if (!std::getenv("PLAN_SCALE_MARKS")) return;
  std::fprintf(stderr, "%-12s rss %5ld MiB  peak %5ld MiB  heap %5zu MiB\n", what, Hwm("VmRSS:"), Hwm("VmHWM:"),
               HeapBytes() >> 20);
}

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  TestWorld w;
  // Half already there: even ones exactly as wanted at prepare, the rest absent.
  for (int i = 0; i < n; i += 2) {
    std::string id = std::to_string(i);
    w.mem->world["k" + id] = State{true, {{"key", "k" + id}, {"value", "v" + id}, {"size", std::int64_t{i % 1000}}}};
  }
  std::string text = MakeSpec(n);

  Mark("world+text");
  auto t0 = Clock::now();
  // Handed over, as the binary hands the file it read: the loader keeps the one copy.
  LoadResult load = w.Load(std::move(text), {}, "scale.toml");
  auto t1 = Clock::now();
  if (!load.spec) {
    std::fprintf(stderr, "%s", TestWorld::Errors(load).c_str());
    return 1;
  }
  Mark("loaded");
  DependencyGraph graph;
  if (!graph.Build(*load.spec, &load.diags)) {
    std::fprintf(stderr, "%s", TestWorld::Errors(load).c_str());
    return 1;
  }
  load.sources->ForgetTexts();  // as the binary does, once nothing can be shown with its line
  auto t2 = Clock::now();
  Mark("graph");
  auto plan = MakePlan(*load.spec, graph, {});
  auto t3 = Clock::now();
  Mark("plan");
  if (!plan) {
    std::fprintf(stderr, "%s\n", plan.error().message.c_str());
    return 1;
  }
  std::string out = RenderText(*load.spec, *plan, {});
  auto t4 = Clock::now();

  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  PlanCounts c = plan->Counts();
  std::printf("%d %.3f %.3f %.3f %.3f %.3f %.1f %zu %zu %zu\n", n, Seconds(t0, t1), Seconds(t1, t2), Seconds(t2, t3),
              Seconds(t3, t4), Seconds(t0, t4), static_cast<double>(ru.ru_maxrss) / 1024.0, c.create, c.update,
              out.size());
  return 0;
}
