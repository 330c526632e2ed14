// Tensor basics: creation, views sharing storage, printing, element access, errors.
#include <gtest/gtest.h>

#include "ember/ember.h"

using namespace ember;

TEST(Tensor, ViewsShareStorage) {
  Tensor a = arange(6).to(kFloat32).view({2, 3});
  Tensor t = a.t();
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  EXPECT_FALSE(t.is_contiguous());
  t.select(0, 1).fill_(7);  // column 1 of a
  EXPECT_EQ(a.at<float>({0, 1}), 7);
  EXPECT_EQ(a.at<float>({1, 1}), 7);
  EXPECT_EQ(a.at<float>({1, 2}), 5);
}

TEST(Tensor, ReprLikePyTorch) {
  EXPECT_EQ(tensor({1, 2}).str(), "tensor([1., 2.])");
  EXPECT_EQ(arange(3).str(), "tensor([0, 1, 2])");
  EXPECT_EQ(scalar_tensor(2.5).str(), "tensor(2.5000)");
  EXPECT_EQ(zeros({0}).str(), "tensor([])");
}

TEST(Tensor, ItemRequiresOneElement) {
  EXPECT_THROW(ones({2}).item(), ValueError);
  EXPECT_EQ(ones({1, 1}).item<float>(), 1.0f);
}

TEST(Tensor, EmptyTensorsAreContiguousAsInTorch) {
  EXPECT_TRUE(zeros({2, 0}).is_contiguous());
  EXPECT_TRUE(zeros({0, 3}).t().is_contiguous());
  EXPECT_TRUE(zeros({4, 3}).narrow(0, 1, 0).is_contiguous());
  EXPECT_FALSE(zeros({4, 3}).t().is_contiguous());
  EXPECT_EQ(zeros({2, 0}).contiguous().numel(), 0);
}
