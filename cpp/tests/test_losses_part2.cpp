// The losses dealt to part 2 (see loss_parts.hpp).
#define FASTLOSS_TEST_PART 2
#include "loss_tests.hpp"
