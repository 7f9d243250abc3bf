// The slave agent's exit codes (DESIGN.md section 5), and the exception that carries one from
// deep inside a job to main(): anything that ends a run early says how it should end.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace slave {

enum exit_code : int {
  exit_ok = 0,
  exit_usage = 2,         // usage or configuration error
  exit_unreachable = 3,   // master unreachable or timed out
  exit_rejected = 4,      // rejected by the master (401 / 4xx)
  exit_local_db = 5,      // local database error
  exit_locked = 6,        // another sync holds the lock
};

// A failure that ends the current run with `code`; what() is the one-line reason.
// `http_status` is the master's answer when it refused a request (0 otherwise), and
// `answer_body` that answer's whole body (what() holds only its start).
class run_failure : public std::runtime_error {
 public:
  run_failure(exit_code code, const std::string& message, int http_status = 0,
              std::string answer_body = {})
      : std::runtime_error(message),
        code_(code),
        http_status_(http_status),
        answer_body_(std::move(answer_body)) {}
  exit_code code() const noexcept { return code_; }
  int http_status() const noexcept { return http_status_; }
  const std::string& answer_body() const noexcept { return answer_body_; }

 private:
  exit_code code_;
  int http_status_;
  std::string answer_body_;
};

}  // namespace slave
