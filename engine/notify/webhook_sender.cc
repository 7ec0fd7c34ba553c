#include "engine/notify/webhook_sender.h"

#include <memory>

#include "engine/duration.h"

namespace reconcile {

std::string WebhookOrigin(const std::string& url) {
  std::size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "the URL given";
  std::size_t start = scheme + 3;
  std::size_t end = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  // user:password@host: the part before the last '@' is a credential.
  if (std::size_t at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
  return url.substr(0, start) + authority;
}

WebhookSender::WebhookSender(std::string url, std::function<void(const std::string&)> warn, WebhookOptions options)
    : url_(std::move(url)),
      origin_(WebhookOrigin(url_)),
      warn_(std::move(warn)),
      options_(options) {
  worker_ = std::thread([this] { Work(); });
}

WebhookSender::~WebhookSender() { Finish(std::chrono::milliseconds(0)); }

void WebhookSender::Post(std::string body) {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (finished_ || queue_.size() >= options_.max_queued) return;
    queue_.push_back(std::move(body));
  }
  wake_.notify_one();
}

void WebhookSender::Finish(std::chrono::milliseconds budget) {
  std::size_t unsent = 0;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (finished_) return;
    idle_.wait_for(lock, budget, [&] { return queue_.empty() && !sending_; });
    finished_ = true;
    unsent = queue_.size() + (sending_ ? 1 : 0);
    queue_.clear();
  }
  abandon_ = true;
  wake_.notify_one();
  if (worker_.joinable()) worker_.join();
  if (unsent > 0)
    Warn("no answer before the run ended",
         std::to_string(unsent) + " message" + (unsent == 1 ? "" : "s") + " not sent");
}

void WebhookSender::Warn(const std::string& why, const std::string& then) {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (warned_) return;
    warned_ = true;
  }
  warn_("warning: the webhook (" + origin_ + ") failed: " + why + "; " + then + "; later failures are not said");
}

std::string WebhookSender::Scrubbed(std::string text) const {
  // curl's words name the host at most; whatever they say, the path (a token) never shows.
  std::size_t scheme = url_.find("://");
  std::size_t path = url_.find_first_of("/?#", scheme == std::string::npos ? 0 : scheme + 3);
  if (path == std::string::npos || url_.size() - path < 2) return text;
  std::string secret = url_.substr(path);
  for (std::size_t at; (at = text.find(secret)) != std::string::npos;) text.replace(at, secret.size(), "/...");
  return text;
}

void WebhookSender::Work() {
  http::Options o;
  o.connect_timeout = options_.connect_timeout;
  o.timeout = options_.timeout;
  o.max_attempts = 1;  // a message late by a retry's backoff is worth less than the next one
  o.abandon = [this] { return abandon_.load(); };
  http::Client client(o);
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return finished_ || !queue_.empty(); });
    if (finished_) return;
    http::Request request;
    request.method = "POST";
    request.url = url_;
    request.headers = {"Content-Type: application/json"};
    request.body = std::make_shared<const std::string>(std::move(queue_.front()));
    queue_.pop_front();
    sending_ = true;
    lock.unlock();
    http::Response response = client.Do(request);
    if (!response.ok() && !abandon_) {
      std::string why = response.status != 0 ? "HTTP " + std::to_string(response.status) : response.transport_error;
      if (response.status == 0 && why.find("timed out") != std::string::npos)
        why = "no answer within " + FormatDuration(options_.timeout);
      Warn(Scrubbed(why), "the cutover goes on without it");
    }
    lock.lock();
    sending_ = false;
    idle_.notify_all();
  }
}

}  // namespace reconcile
