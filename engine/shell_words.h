// POSIX sh quoting, for what runs on hosts and for plans that show it: every argument stays
// one word and nothing in it is expanded (the form of Python's shlex.join).
#pragma once

#include <string>
#include <vector>

namespace reconcile {

// 'it'\''s': an argument as one sh word; plain words (a-z, 0-9, _-./=:@,+%) stay bare.
std::string ShellQuote(const std::string& arg);
// argv as one sh line.
std::string ShellCommand(const std::vector<std::string>& argv);

}  // namespace reconcile
