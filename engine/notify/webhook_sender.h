// Posts messages to a webhook from a thread of its own, so a slow or dead receiver never holds
// up a cutover: Post queues and returns; one worker sends, one request at a time, each with a
// short timeout; Finish waits a little for the queue to drain at the end of the run, then gives
// up on the rest. The first failure is said once, through `warn`; the run's outcome never
// depends on the webhook. The URL is a secret: only its scheme://host is ever shown.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "providers/http/http_client.h"

namespace reconcile {

struct WebhookOptions {
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds timeout{5000};  // each request, connecting included
  // Messages waiting past this many are dropped: a receiver slower than the run falls behind
  // by minutes at most, and memory does not grow with a long wait's messages.
  std::size_t max_queued = 256;
};

class WebhookSender {
 public:
  // `warn` gets one line (no "reconcile: " prefix), at most once, from any thread.
  WebhookSender(std::string url, std::function<void(const std::string&)> warn, WebhookOptions options = {});
  ~WebhookSender();  // Finish(0)
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;

  // Queues `body` (JSON) to be POSTed; never waits on the network.
  void Post(std::string body);
  // Waits at most `budget` for every queued message to be sent, then abandons the rest (the
  // request in flight too) and stops the worker. Posts after it are dropped.
  void Finish(std::chrono::milliseconds budget);

 private:
  void Work();
  // Says once that the webhook failed, `why`, and `then` what follows; by its origin only.
  void Warn(const std::string& why, const std::string& then);
  std::string Scrubbed(std::string text) const;

  const std::string url_;
  const std::string origin_;
  const std::function<void(const std::string&)> warn_;
  const WebhookOptions options_;
  std::atomic<bool> abandon_{false};  // asked by the request in flight
  std::mutex mu_;
  std::condition_variable wake_;  // the worker: a message or the end
  std::condition_variable idle_;  // Finish: the queue drained
  std::deque<std::string> queue_;
  bool sending_ = false;
  bool finished_ = false;
  bool warned_ = false;
  std::thread worker_;
};

// "https://hooks.slack.com" for "https://hooks.slack.com/services/T0/B0/token": the scheme and
// host (and port) of a URL, without user, path or query, which may hold a token.
std::string WebhookOrigin(const std::string& url);

}  // namespace reconcile
