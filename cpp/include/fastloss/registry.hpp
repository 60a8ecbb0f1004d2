// THE lists of losses. Bindings, the kernel tables, the C++ tests and the
// Python tests iterate them: a new loss is one line here plus its struct.
// X(StructName) — the struct's kName is the kernel's public name.
#pragma once

// A unit that binds one list only may define FASTLOSS_REGISTRY_LISTS_ONLY and
// include that list's headers itself (register_multi_input.cpp): the lists are
// macros, and parsing every loss header costs each such unit seconds of build.
#ifndef FASTLOSS_REGISTRY_LISTS_ONLY
#include "losses/binary.hpp"
#include "losses/boosting.hpp"
#include "losses/classaxis.hpp"
#include "losses/likelihood.hpp"
#include "losses/multiclass.hpp"
#include "losses/regression.hpp"
#include "losses/segmentation.hpp"
#endif

#define FASTLOSS_ELEMENTWISE_LOSSES(X) \
  X(MeanSquaredError)                  \
  X(MeanAbsoluteError)                 \
  X(MeanAbsolutePercentageError)       \
  X(MeanSquaredLogarithmicError)       \
  X(Huber)                             \
  X(PseudoHuber)                       \
  X(LogCosh)                           \
  X(Poisson)                           \
  X(PoissonLogInput)                   \
  X(HalfSquaredError)                  \
  X(SmoothL1)                          \
  X(Pinball)                           \
  X(AsymmetricLinear)                  \
  X(Gamma)                             \
  X(GammaLogInput)                     \
  X(Tweedie)                           \
  X(TweedieLogInput)                   \
  X(Fair)                              \
  X(Expectile)                         \
  X(BinaryCrossentropy)                \
  X(BinaryCrossentropyLogits)          \
  X(BinaryFocalCrossentropy)           \
  X(BinaryFocalCrossentropyLogits)     \
  X(Hinge)                             \
  X(SquaredHinge)                      \
  X(ExponentialLoss)                   \
  X(ZeroOneLoss)                       \
  X(SoftMargin)                        \
  X(HingeEmbedding)                    \
  X(Perceptron)                        \
  X(Sparsemax)                         \
  X(ModifiedHuber)                     \
  X(EpsilonInsensitive)                \
  X(SquaredEpsilonInsensitive)         \
  X(Lq)                                \
  X(PinballLogInput)                   \
  X(MultiRMSEWithMissingValues)

/// The class-axis losses (losses/classaxis.hpp): one row of classes per sample.
#define FASTLOSS_CLASSAXIS_LOSSES(X) \
  X(CategoricalCrossentropy)         \
  X(SparseCategoricalCrossentropy)   \
  X(CategoricalFocalCrossentropy)    \
  X(KLDivergence)                    \
  X(CategoricalHinge)                \
  X(CosineSimilarity)                \
  X(Entropy)                         \
  X(CategoricalZeroOne)              \
  X(SparseCategoricalZeroOne)        \
  X(Dice)                            \
  X(Tversky)                         \
  X(Jaccard)                         \
  X(NLL)                             \
  X(MultiMargin)                     \
  X(MultiLabelMargin)                \
  X(MultiLabelSoftMargin)            \
  X(MultiClassPerceptron)            \
  X(PolyLoss)                        \
  X(MulticlassSparsemax)             \
  X(GeneralizedCrossentropy)         \
  X(OneVsAllCrossentropy)            \
  X(MulticlassHinge)                 \
  X(GeneralizedKLDivergence)         \
  X(CosineDistance)

/// The declared multi-input elementwise losses (losses/multi_input.hpp):
/// several same-shaped inputs per element, targets first, trained inputs last.
#define FASTLOSS_MULTI_INPUT_LOSSES(X) \
  X(GaussianNLL)                       \
  X(SurvivalAft)                       \
  X(RMSEWithUncertainty)
