// fastloss_test_losses: runs each group of loss_tests.hpp over every part,
// i.e. over every loss of the registry.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <fastloss/fastloss.hpp>

#include "check.hpp"
#include "loss_parts.hpp"
#include "loss_table.hpp"

namespace fastloss_test {
namespace {

/// Each loss has a row in loss_table.hpp (enforced at compile time) with at
/// least one parameter set and one hand-computed value.
void registry(Harness& h) {
  int count = 0;
#define FASTLOSS_TEST_ROW(S)                                                             \
  ++count;                                                                               \
  h.check(!Table<fastloss::S>::instances().empty(), std::string(#S) + ": no instances"); \
  h.check(!Table<fastloss::S>::hand().empty(), std::string(#S) + ": no hand values");
  FASTLOSS_ELEMENTWISE_LOSSES(FASTLOSS_TEST_ROW)
#undef FASTLOSS_TEST_ROW
  std::printf("%d elementwise losses in the registry\n", count);
  h.check(count == static_cast<int>(AllLosses::size), "type list and registry disagree");
}

std::vector<Group> all_groups() {
  static_assert(kParts == 4, "declare and merge one loss_groups() per part");
  const std::vector<std::vector<Group>> parts = {loss_groups(PartTag<0>{}),
                                                 loss_groups(PartTag<1>{}),
                                                 loss_groups(PartTag<2>{}),
                                                 loss_groups(PartTag<3>{})};
  std::vector<Group> merged = {{"registry", registry}};
  for (const auto& [name, body] : parts[0]) {
    std::vector<std::function<void(Harness&)>> bodies;
    for (const auto& part : parts)
      for (const auto& g : part)
        if (std::string(g.first) == name) bodies.push_back(g.second);
    merged.push_back({name, [bodies](Harness& h) {
                        for (const auto& b : bodies) b(h);
                      }});
  }
  return merged;
}

}  // namespace
}  // namespace fastloss_test

int main(int argc, char** argv) {
  return fastloss_test::run_groups(argc, argv, fastloss_test::all_groups());
}
