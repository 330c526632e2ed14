// Figures made of images: a labelled grid of predictions and an attribution panel.
#pragma once

#include <string>
#include <vector>

#include "ember/core/tensor.h"

namespace ember::train {

/// One image of a prediction grid.
struct GridItem {
  Tensor pixels;          ///< (C, H, W) in [0, 1]
  std::string predicted;  ///< class name
  std::string truth;      ///< class name
};

/// A PNG grid (`columns` per row) of images scaled up, each captioned "pred: ..." and
/// "true: ..."; mistakes get a red frame and red caption, correct predictions a green caption.
void prediction_grid_png(const std::string& png, const std::vector<GridItem>& items,
                         int64_t columns = 8);

/// A PNG of three panels side by side: the image, then each attribution map overlaid on it
/// (attribution_overlay), with titles above and a caption line below.
void attribution_png(const std::string& png, const Tensor& pixels, const Tensor& saliency,
                     const Tensor& integrated_gradients, const std::string& caption);

/// A PNG of a text's tokens laid out as a paragraph, each on a background of its attribution:
/// red for positive (evidence for the class), blue for negative, stronger with |score| / max
/// |score|; a caption line above. tokens and scores have the same length; non-ASCII characters
/// are drawn as '?'.
void token_attribution_png(const std::string& png, const std::vector<std::string>& tokens,
                           const std::vector<double>& scores, const std::string& caption);

}  // namespace ember::train
