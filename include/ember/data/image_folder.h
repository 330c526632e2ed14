// Image folder datasets: root/<class>/<image> files loaded into one (N, C, H, W) tensor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ember/core/tensor.h"

namespace ember::data {

/// How load_image_folder decodes and sizes the images.
struct ImageFolderOptions {
  int64_t channels = 3;  ///< 1 gray, 3 RGB, 4 RGBA; 0: as the first image stores them
  int64_t height = 0;    ///< with width: resize every image (bilinear) to (height, width);
  int64_t width = 0;     ///< 0 and 0: every image must have the first image's size
};

/// An image classification dataset held in memory.
struct ImageFolder {
  Tensor images;                     ///< (N, C, H, W) float32 in [0, 1]
  Tensor labels;                     ///< (N,) int64: index into classes
  std::vector<std::string> classes;  ///< class names: the sorted subdirectory names
  std::vector<std::string> paths;    ///< the file of each image, in order
};

/// Loads root/<class>/<file> images, as torchvision's ImageFolder: one subdirectory per class
/// (sorted by name; the index is the label), image files .png, .jpg, .jpeg and .bmp (any case)
/// sorted by name within each class; other files and hidden entries are skipped. Errors
/// (ember::IOError) for a missing root, no class folders, a class folder without images, an
/// image that does not decode, or sizes that differ when no resize is asked for.
ImageFolder load_image_folder(const std::string& root, const ImageFolderOptions& options = {});

}  // namespace ember::data
