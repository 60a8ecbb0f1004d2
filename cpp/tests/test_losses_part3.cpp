// The losses dealt to part 3 (see loss_parts.hpp).
#define FASTLOSS_TEST_PART 3
#include "loss_tests.hpp"
