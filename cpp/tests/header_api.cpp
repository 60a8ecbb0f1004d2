// api.hpp must compile on its own (no other fastloss include before it).
#include <fastloss/api.hpp>

int main() {
  const double t[] = {1.0}, p[] = {2.0};
  return fastloss::forward(fastloss::MeanSquaredError{}, t, p, 1) == 1.0 ? 0 : 1;
}
