// fastloss: forward values, gradients and Hessians of loss functions over
// strided arrays, with no Python dependency. Include this one header.
#pragma once

#define FASTLOSS_VERSION_MAJOR 0
#define FASTLOSS_VERSION_MINOR 1
#define FASTLOSS_VERSION_PATCH 0

#include "api.hpp"
#include "api_classaxis.hpp"
#include "detail/driver.hpp"
#include "detail/math.hpp"
#include "detail/rows.hpp"
#include "detail/threads.hpp"
#include "losses/classaxis.hpp"
#include "losses/multiclass.hpp"
#include "losses/embedding.hpp"
#include "losses/likelihood.hpp"
#include "losses/multi_quantile.hpp"
#include "losses/linear_ce.hpp"
#include "losses/models.hpp"
#include "losses/ranking.hpp"
#include "losses/sequence.hpp"
#include "losses/xentropy_lambda.hpp"
#include "registry.hpp"
