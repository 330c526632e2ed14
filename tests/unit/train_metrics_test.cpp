// Metrics: hand-checked small cases, random cases checked against numpy/torch, and input errors.
#include <gtest/gtest.h>

#include <cmath>

#include "ember/ember.h"
#include "ember/train/metrics.h"
#include "support/expect.h"

using namespace ember;
using namespace ember::train;
using ember::testing::expect_error;

namespace {

Tensor f64(const std::vector<double>& v, IntList shape = {}) {
  return from_vector(v, shape);
}
Tensor i64(const std::vector<int64_t>& v, IntList shape = {}) {
  return from_vector(v, shape);
}

double value_of(const Metrics& m, const std::string& name) {
  for (const auto& [k, v] : m)
    if (k == name) return v;
  ADD_FAILURE() << "no metric " << name;
  return NAN;
}

}  // namespace

TEST(TrainMetrics, RegressionByHand) {
  // errors 0, 0, -2: mse 4/3, mae 2/3; target mean 8/3, SS_tot 78/9, SS_res 4 -> r2 = 7/13.
  const Tensor pred = f64({1, 2, 3}), target = f64({1, 2, 5});
  EXPECT_DOUBLE_EQ(mse(pred, target), 4.0 / 3);
  EXPECT_DOUBLE_EQ(rmse(pred, target), std::sqrt(4.0 / 3));
  EXPECT_DOUBLE_EQ(mae(pred, target), 2.0 / 3);
  EXPECT_DOUBLE_EQ(r2_score(pred, target), 7.0 / 13);
  // (N, 1) and (N) mix; float32 inputs.
  EXPECT_DOUBLE_EQ(mse(f64({1, 2, 3}, {3, 1}), target), 4.0 / 3);
  EXPECT_DOUBLE_EQ(mae(tensor({1, 2, 3}), tensor({1, 2, 5})), 2.0 / 3);
  // A constant target: 1 when predicted exactly, else 0 (sklearn's convention).
  EXPECT_EQ(r2_score(f64({2, 2}), f64({2, 2})), 1.0);
  EXPECT_EQ(r2_score(f64({1, 3}), f64({2, 2})), 0.0);
}

TEST(TrainMetrics, RegressionMatchesTorch) {
  // /usr/bin/python3, numpy seed 7:
  //   pred = np.round(rng.normal(size=12), 4); target = np.round(pred*0.8 + rng.normal(scale=0.5,
  //   size=12), 4); F.mse_loss, F.l1_loss, r2 = 1 - ((t-p)**2).sum() / ((t-t.mean())**2).sum()
  const Tensor pred = f64({0.0012, 0.2987, -0.2741, -0.8906, -0.4547, -0.9916, 0.0601, 1.3402,
                           -0.4922, -0.6205, 0.4898, 0.3569});
  const Tensor target = f64({0.0537, -0.2263, -0.2339, -0.3648, -1.0359, -1.0221, -0.9025, 0.4274,
                             -1.3146, -0.6139, -0.2419, 0.4212});
  const Metrics m = regression_metrics(pred, target);
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0].first, "mse");
  EXPECT_EQ(m[1].first, "rmse");
  EXPECT_EQ(m[2].first, "mae");
  EXPECT_EQ(m[3].first, "r2");
  EXPECT_NEAR(m[0].second, 0.32257449333333338, 1e-14);
  EXPECT_NEAR(m[1].second, 0.56795641851583412, 1e-14);
  EXPECT_NEAR(m[2].second, 0.43796666666666667, 1e-14);
  EXPECT_NEAR(m[3].second, -0.084414667477769711, 1e-13);
}

TEST(TrainMetrics, ClassificationByHand) {
  // pred 0 1 2 1, true 0 2 2 1 (class 3 never occurs).
  const Tensor pred = i64({0, 1, 2, 1}), labels = i64({0, 2, 2, 1});
  EXPECT_DOUBLE_EQ(accuracy(pred, labels), 0.75);
  const ClassReport r = precision_recall_f1(pred, labels, 4);
  // class 0: tp 1; class 1: tp 1, fp 1; class 2: tp 1, fn 1; class 3: nothing (0/0 -> 0).
  EXPECT_EQ(r.precision, (std::vector<double>{1, 0.5, 1, 0}));
  EXPECT_EQ(r.recall, (std::vector<double>{1, 1, 0.5, 0}));
  EXPECT_DOUBLE_EQ(r.f1[1], 2.0 / 3);
  EXPECT_DOUBLE_EQ(r.f1[2], 2.0 / 3);
  EXPECT_EQ(r.f1[3], 0.0);
  EXPECT_EQ(r.support, (std::vector<int64_t>{1, 1, 2, 0}));
  EXPECT_DOUBLE_EQ(r.macro_precision, 0.625);
  EXPECT_DOUBLE_EQ(r.macro_recall, 0.625);
  EXPECT_DOUBLE_EQ(r.macro_f1, 7.0 / 12);
  const Tensor cm = confusion_matrix(pred, labels, 4);
  EXPECT_EQ(cm.dtype(), kInt64);
  EXPECT_EQ(cm.shape(), (Shape{4, 4}));
  EXPECT_EQ(cm.to_vector<int64_t>(),
            (std::vector<int64_t>{1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0}));
  // int32 labels of shape (N, 1) work too.
  EXPECT_DOUBLE_EQ(accuracy(pred.to(kInt32).reshape({4, 1}), labels), 0.75);
}

TEST(TrainMetrics, RocAucAndLogLossByHand) {
  // The classic example: scores 0.1 0.4 0.35 0.8 for labels 0 0 1 1 -> 3 of 4 pairs ordered.
  const Tensor probs = f64({0.9, 0.1, 0.6, 0.4, 0.65, 0.35, 0.2, 0.8}, {4, 2});
  EXPECT_DOUBLE_EQ(roc_auc(probs, i64({0, 0, 1, 1})), 0.75);
  // A tie between a positive and a negative counts one half.
  EXPECT_DOUBLE_EQ(roc_auc(f64({0.5, 0.5, 0.5, 0.5}, {2, 2}), i64({0, 1})), 0.5);
  // One class only: undefined.
  EXPECT_TRUE(std::isnan(roc_auc(probs, i64({1, 1, 1, 1}))));
  // Three classes, class 2 absent: the mean of classes 0 and 1, each separated perfectly.
  const Tensor p3 = f64({0.8, 0.1, 0.1, 0.2, 0.7, 0.1, 0.6, 0.3, 0.1}, {3, 3});
  EXPECT_DOUBLE_EQ(roc_auc(p3, i64({0, 1, 0})), 1.0);

  EXPECT_DOUBLE_EQ(log_loss(f64({0.9, 0.1, 0.2, 0.8}, {2, 2}), i64({0, 1})),
                   -(std::log(0.9) + std::log(0.8)) / 2);
  // A zero probability for the true class is clipped to eps.
  EXPECT_DOUBLE_EQ(log_loss(f64({1, 0}, {1, 2}), i64({1})), -std::log(1e-15));
  EXPECT_DOUBLE_EQ(log_loss(f64({1, 0}, {1, 2}), i64({1}), 1e-3), -std::log(1e-3));
}

TEST(TrainMetrics, ClassificationMatchesNumpy) {
  // /usr/bin/python3, numpy seed 7 (after the regression draw): N=16, C=3,
  //   probs = np.round(torch.softmax(torch.tensor(rng.normal(size=(N,C))*1.5), 1).numpy(), 6),
  //   last column = 1 - the others; labels = rng.integers(0, C, N); pred = probs.argmax(1);
  //   per class tp/fp/fn by counting; auc = mean over classes of the pairwise definition
  //   ((s_pos > s_neg).sum() + 0.5*(s_pos == s_neg).sum()) / (n_pos*n_neg);
  //   log_loss = F.nll_loss(torch.log(probs.clamp(1e-15, 1-1e-15)), labels).
  const Tensor probs = f64({0.619074, 0.369703, 0.011222999999999983,
                            0.174058, 0.363099, 0.462843,
                            0.122919, 0.595914, 0.28116699999999994,
                            0.053988, 0.891918, 0.054093999999999975,
                            0.185389, 0.733498, 0.08111299999999999,
                            0.270518, 0.377506, 0.35197600000000007,
                            0.017774, 0.125149, 0.857077,
                            0.019945, 0.737136, 0.242919,
                            0.016177, 0.850982, 0.132841,
                            0.045226, 0.305634, 0.64914,
                            0.169539, 0.626796, 0.20366499999999998,
                            0.23183,  0.737243, 0.030927000000000038,
                            0.442393, 0.162801, 0.394806,
                            0.126415, 0.314633, 0.558952,
                            0.402746, 0.582888, 0.014366000000000101,
                            0.10145,  0.881725, 0.01682499999999998},
                           {16, 3});
  const Tensor labels = i64({0, 1, 1, 0, 2, 2, 1, 2, 1, 2, 2, 1, 0, 0, 1, 0});
  const Metrics m = classification_metrics(probs, labels);
  ASSERT_EQ(m.size(), 6u);
  const char* names[] = {"accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"};
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(m[i].first, names[i]);
  EXPECT_DOUBLE_EQ(value_of(m, "accuracy"), 0.4375);
  EXPECT_NEAR(value_of(m, "precision"), 0.54999999999999993, 1e-14);
  EXPECT_NEAR(value_of(m, "recall"), 0.42222222222222222, 1e-14);
  EXPECT_NEAR(value_of(m, "f1"), 0.43121693121693133, 1e-14);
  EXPECT_NEAR(value_of(m, "roc_auc"), 0.5792929292929293, 1e-14);
  EXPECT_NEAR(value_of(m, "log_loss"), 1.2612452077263614, 1e-12);

  const Tensor pred = i64({0, 2, 1, 1, 1, 1, 2, 1, 1, 2, 1, 1, 0, 2, 1, 1});  // probs.argmax(1)
  const ClassReport r = precision_recall_f1(pred, labels, 3);
  const std::vector<double> p = {1.0, 0.4, 0.25}, rec = {0.4, 0.6666666666666666, 0.2},
                            f1 = {0.5714285714285715, 0.5, 0.22222222222222224};
  for (size_t c = 0; c < 3; ++c) {
    EXPECT_NEAR(r.precision[c], p[c], 1e-15);
    EXPECT_NEAR(r.recall[c], rec[c], 1e-15);
    EXPECT_NEAR(r.f1[c], f1[c], 1e-15);
  }
  EXPECT_EQ(confusion_matrix(pred, labels, 3).to_vector<int64_t>(),
            (std::vector<int64_t>{2, 2, 1, 0, 4, 2, 0, 4, 1}));
}

TEST(TrainMetrics, BinaryAucWithTiesMatchesNumpy) {
  // s = np.round(rng.uniform(size=14), 1); y = rng.integers(0, 2, 14); pairwise AUC as above.
  const std::vector<double> s = {0.9, 0.6, 0.2, 0.9, 0.6, 0.6, 0.4,
                                 0.4, 0.2, 0.0, 0.9, 0.5, 0.5, 0.3};
  std::vector<double> probs;
  for (double v : s) probs.insert(probs.end(), {1 - v, v});
  const Tensor labels = i64({0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0, 1});
  EXPECT_NEAR(roc_auc(f64(probs, {14, 2}), labels), 0.38541666666666669, 1e-15);
}

TEST(TrainMetrics, HigherIsBetter) {
  for (const char* m :
       {"accuracy", "val_accuracy", "train_f1", "test_roc_auc", "r2", "precision", "recall"})
    EXPECT_TRUE(higher_is_better(m)) << m;
  for (const char* m :
       {"loss", "val_loss", "train_loss", "log_loss", "val_mse", "rmse", "test_mae"})
    EXPECT_FALSE(higher_is_better(m)) << m;
  expect_error<ValueError>([] { higher_is_better("val_bleu"); },
                           {"higher_is_better", "'val_bleu'", "accuracy", "mse", "val_"});
  expect_error<ValueError>([] { higher_is_better("val_train_loss"); }, {"val_train_loss"});
}

TEST(TrainMetrics, Errors) {
  expect_error<ShapeError>(
      [] {
        mse(f64({1, 2, 3}), f64({1, 2, 3, 4}));
      },
      {"mse", "pred (3,)", "target (4,)"});
  expect_error<ShapeError>(
      [] {
        r2_score(f64({1, 2, 3, 4}, {2, 2}), f64({1, 2}));
      },
      {"r2_score", "(2, 2)"});
  expect_error<ShapeError>([] { mae(f64({}), f64({})); }, {"mae", "empty"});
  expect_error<DTypeError>([] { rmse(i64({1, 2}), f64({1, 2})); }, {"mse", "floating point"});
  expect_error<ValueError>(
      [] {
        confusion_matrix(i64({0, 3}), i64({0, 1}), 3);
      },
      {"confusion_matrix", "pred_labels[1] = 3", "3 classes"});
  expect_error<ValueError>(
      [] {
        precision_recall_f1(i64({0, 1}), i64({-1, 1}), 2);
      },
      {"precision_recall_f1", "labels[0] = -1"});
  expect_error<DTypeError>([] { accuracy(f64({0, 1}), i64({0, 1})); }, {"accuracy", "int64"});
  expect_error<ShapeError>(
      [] {
        accuracy(i64({0, 1}), i64({0, 1, 1}));
      },
      {"accuracy", "pred_labels (2,)", "labels (3,)"});
  expect_error<ShapeError>([] { roc_auc(f64({0.5, 0.5}), i64({0, 1})); }, {"roc_auc", "(N, C)"});
  expect_error<ShapeError>(
      [] {
        log_loss(f64({0.5, 0.5}, {1, 2}), i64({0, 1}));
      },
      {"log_loss", "probs (1, 2)", "labels (2,)"});
  expect_error<ValueError>(
      [] {
        log_loss(f64({2.0, -1.0}, {1, 2}), i64({0}));
      },
      {"log_loss", "row 0", "logits"});
  expect_error<ValueError>(
      [] {
        roc_auc(f64({0.5, 0.5}, {1, 2}), i64({2}));
      },
      {"roc_auc", "labels[0] = 2"});
  expect_error<ValueError>(
      [] {
        classification_metrics(f64({0.2, 0.2}, {1, 2}), i64({0}));
      },
      {"classification_metrics", "sum 0.4"});
}
