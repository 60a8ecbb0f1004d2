// The losses dealt to part 1 (see loss_parts.hpp).
#define FASTLOSS_TEST_PART 1
#include "loss_tests.hpp"
