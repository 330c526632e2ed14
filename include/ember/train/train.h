// The train layer: configs, trainer, checkpoints, metrics, history, plots, reports and summaries.
#pragma once

#include "ember/train/checkpoint.h"
#include "ember/train/config.h"
#include "ember/train/factory.h"
#include "ember/train/history.h"
#include "ember/train/metrics.h"
#include "ember/train/pipeline.h"
#include "ember/train/plot.h"
#include "ember/train/progress.h"
#include "ember/train/recommend.h"
#include "ember/train/report.h"
#include "ember/train/run_files.h"
#include "ember/train/summary.h"
#include "ember/train/trainer.h"
