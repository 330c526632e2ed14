// Everything in ember::nn: modules, containers, layers, activations, init, losses.
#pragma once

#include "ember/nn/activation.h"
#include "ember/nn/batch_norm.h"
#include "ember/nn/containers.h"
#include "ember/nn/conv.h"
#include "ember/nn/functional.h"
#include "ember/nn/init.h"
#include "ember/nn/layers.h"
#include "ember/nn/loss.h"
#include "ember/nn/module.h"
#include "ember/nn/ordered_dict.h"
#include "ember/nn/pooling.h"
#include "ember/nn/positional.h"
#include "ember/nn/transformer.h"
