// Ember data: CSV tables, preprocessing, splits, data-quality reports and the DataLoader.
#pragma once

#include "ember/data/csv.h"
#include "ember/data/inspect.h"
#include "ember/data/loader.h"
#include "ember/data/preprocess.h"
#include "ember/data/split.h"
