#include "engine/cli/run_view.h"

#include <iostream>

namespace reconcile {

RunView::RunView(std::string op, bool json)
    : op_(std::move(op)),
      tally_(json ? static_cast<Progress&>(json_.emplace(std::cerr))
                  : static_cast<Progress&>(console_.emplace(std::cerr, ConsoleOptionsForStderr()))) {}

void RunView::Started(nlohmann::json fields) {
  if (!json_) return;
  fields["op"] = op_;
  json_->Emit("run_started", std::move(fields));
}

void RunView::Finished(const RunEnd& end) {
  if (console_) console_->Finish();
  if (!json_) return;
  static const char* kResult[] = {"ok", "failed", "stopped", "interrupted"};
  nlohmann::json fields = tally_.ToJson();
  fields["op"] = op_;
  fields["result"] = kResult[end.kind];
  if (end.kind != RunEnd::kOk) fields["error"] = end.error;
  json_->Emit("run_finished", std::move(fields));
}

}  // namespace reconcile
