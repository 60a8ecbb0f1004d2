// Uses fastloss through add_subdirectory; exits non-zero on a wrong answer.
#include <cstdio>

#include <fastloss/fastloss.hpp>

int main() {
  const float y_true[] = {0.0f, 1.0f, 2.0f, 3.0f};
  const float y_pred[] = {0.5f, 1.0f, 5.0f, 2.0f};
  float grad[4], hess[4];
  const fastloss::Huber huber(1.0);
  // Per element: 0.125, 0, 2.5, 0.5; their mean is 0.78125.
  const double mean = fastloss::forward(huber, y_true, y_pred, 4);
  fastloss::gradient_hessian(huber, y_true, y_pred, 4, grad, hess);
  const bool ok = mean == 0.78125 && grad[0] == 0.5f && grad[2] == 1.0f && grad[3] == -1.0f &&
                  hess[0] == 1.0f && hess[2] == 0.0f;
  std::printf("add_subdirectory consumer: Huber mean %g, %s (threads: %s)\n", mean,
              ok ? "ok" : "WRONG", fastloss::has_threads() ? "yes" : "no");
  return ok ? 0 : 1;
}
