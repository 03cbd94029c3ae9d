// A checker whose every attempt is an exchange of its own (a connection
// with its reads and writes), sharing with the others what the checker
// keeps (a resolver, a TLS context, a prepared request). An abandoned
// exchange finishes its own composed operations on its own socket, so it
// never touches the next attempt's; what they share outlives both.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>

#include "badges_health/health/checker.hpp"

namespace badges_health::health {

/// `Exchange` is made from (std::shared_ptr<Shared>, executor) and has
/// start(completion) and cancel().
template <class Shared, class Exchange>
class exchange_checker : public checker {
 public:
  exchange_checker(std::shared_ptr<Shared> shared, boost::asio::any_io_executor ex)
      : ex_(std::move(ex)), shared_(std::move(shared)) {}

  void start(completion done) override {
    current_ = std::make_shared<Exchange>(shared_, ex_);
    current_->start(std::move(done));
  }

  void cancel() noexcept override {
    if (current_) current_->cancel();
    current_.reset();
  }

 protected:
  Shared& shared() noexcept { return *shared_; }

 private:
  boost::asio::any_io_executor ex_;
  std::shared_ptr<Shared> shared_;
  std::shared_ptr<Exchange> current_;
};

}  // namespace badges_health::health
