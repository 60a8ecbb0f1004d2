// The registry as a type list, and how its losses are split across the
// translation units of fastloss_test_losses.
#pragma once

#include <cstddef>
#include <type_traits>
#include <vector>

#include <fastloss/registry.hpp>

#include "check.hpp"

namespace fastloss_test {

template <class... L>
struct LossList {
  static constexpr std::size_t size = sizeof...(L);
};

template <class First, class... Rest>
struct DropFirst {
  using type = LossList<Rest...>;
};

#define FASTLOSS_TEST_LIST_ITEM(S) , fastloss::S
/// Every loss of FASTLOSS_ELEMENTWISE_LOSSES, in registry order.
using AllLosses = typename DropFirst<void FASTLOSS_ELEMENTWISE_LOSSES(FASTLOSS_TEST_LIST_ITEM)>::type;
#undef FASTLOSS_TEST_LIST_ITEM

/// Loss i of the registry is tested in part i % kParts (test_losses_part<k>.cpp).
inline constexpr int kParts = 4;

template <int Part>
using PartTag = std::integral_constant<int, Part>;

std::vector<Group> loss_groups(PartTag<0>);
std::vector<Group> loss_groups(PartTag<1>);
std::vector<Group> loss_groups(PartTag<2>);
std::vector<Group> loss_groups(PartTag<3>);

}  // namespace fastloss_test
