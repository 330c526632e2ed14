// Ember data: CSV tables, IDX files, images, preprocessing, splits, data-quality reports,
// augmentation transforms and the DataLoader.
#pragma once

#include "ember/data/csv.h"
#include "ember/data/fields.h"
#include "ember/data/idx.h"
#include "ember/data/image.h"
#include "ember/data/image_folder.h"
#include "ember/data/inspect.h"
#include "ember/data/loader.h"
#include "ember/data/preprocess.h"
#include "ember/data/split.h"
#include "ember/data/tokenizer.h"
#include "ember/data/transforms.h"
