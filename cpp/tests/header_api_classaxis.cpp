// api_classaxis.hpp must compile on its own (no other fastloss include before it).
#include <fastloss/api_classaxis.hpp>

int main() {
  const double t[] = {0.0, 1.0}, p[] = {0.5, 0.5};
  const double v = fastloss::forward(fastloss::CategoricalCrossentropy{}, t, p, 1, 2);
  return v > 0.69 && v < 0.70 ? 0 : 1;
}
