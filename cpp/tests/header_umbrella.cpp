// fastloss.hpp must compile on its own.
#include <fastloss/fastloss.hpp>

int main() { return fastloss::get_num_threads() >= 1 ? 0 : 1; }
