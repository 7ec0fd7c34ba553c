#include "engine/cli/run_view.h"

#include <iostream>

namespace reconcile {

RunView::RunView(std::string op, bool json, const Spec& spec)
    : op_(std::move(op)),
      tally_(json ? static_cast<Progress&>(json_.emplace(std::cerr))
                  : static_cast<Progress&>(console_.emplace(std::cerr, ConsoleOptionsForStderr()))),
      notifier_(OpenNotifier(spec, op_, tally_)) {}

RunView::~RunView() {
  if (notifier_) notifier_->Finish();
}

void RunView::Started(nlohmann::json fields) {
  fields["op"] = op_;
  if (notifier_) notifier_->RunStarted(fields);
  if (json_) json_->Emit("run_started", std::move(fields));
}

void RunView::ConfirmWaiting(const StageSpec& stage) {
  if (notifier_) notifier_->ConfirmWaiting(stage.name, stage.confirm);
}

void RunView::Finished(const RunEnd& end) {
  static const char* kResult[] = {"ok", "failed", "stopped", "interrupted"};
  nlohmann::json fields = tally_.ToJson();
  fields["op"] = op_;
  fields["result"] = kResult[end.kind];
  if (end.kind != RunEnd::kOk) fields["error"] = end.Message();
  if (notifier_) notifier_->RunFinished(fields, tally_.Summary());
  if (console_) console_->Finish();
  if (json_) json_->Emit("run_finished", std::move(fields));
}

}  // namespace reconcile
