// Ember I/O: JSON, atomic files and safetensors.
#pragma once

#include "ember/io/file.h"
#include "ember/io/json.h"
#include "ember/io/safetensors.h"
#include "ember/io/state_dict.h"
#include "ember/io/toml.h"
