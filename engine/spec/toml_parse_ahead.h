// The pieces of a large spec (toml_pieces.h), parsed on a thread of their own a few pieces
// ahead of the loader that reads them. Parsing is about half of a large spec's load and reading
// what it parsed the other half; one after the other, each core waited on the other's half.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <toml++/toml.h>

#include "engine/spec/toml_pieces.h"

namespace reconcile {

// A piece as toml++ read it: its tables, or where and why it could not.
struct ParsedPiece {
  toml::table table;
  bool ok = true;
  std::string error;                   // toml++'s description
  std::uint32_t line = 0, column = 0;  // in the piece
};

class TomlParseAhead {
 public:
  // `text` and `pieces` must outlive the parser. `ahead`: how many parsed pieces may wait to
  // be taken (each is about ten times its text).
  TomlParseAhead(std::string_view text, std::string file, const std::vector<TomlPiece>& pieces, std::size_t ahead);
  ~TomlParseAhead();  // stops and joins the thread, whatever was taken
  TomlParseAhead(const TomlParseAhead&) = delete;
  TomlParseAhead& operator=(const TomlParseAhead&) = delete;

  // The next piece, in order, once parsed. What the thread could not survive (no memory) is
  // thrown here, on the loader's thread. Where no thread could be started, the piece is parsed
  // here.
  ParsedPiece Take();

 private:
  void Run();
  ParsedPiece Parse(std::size_t i) const;

  std::string_view text_;
  const std::string file_;
  const std::vector<TomlPiece>& pieces_;
  const std::size_t ahead_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ParsedPiece> parsed_;  // by piece index; moved out when taken
  std::size_t done_ = 0;             // pieces parsed
  std::size_t taken_ = 0;            // pieces taken
  bool stop_ = false;
  std::exception_ptr failure_;
  std::thread thread_;  // last: started once everything it reads is set
};

}  // namespace reconcile
