// The losses dealt to part 0 (see loss_parts.hpp).
#define FASTLOSS_TEST_PART 0
#include "loss_tests.hpp"
