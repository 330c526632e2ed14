// IDX files (the MNIST format), plain or gzip-compressed, and the Fashion-MNIST dataset.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ember/core/tensor.h"

namespace ember::data {

/// Reads an IDX file: a big-endian header (two zero bytes, an element type code, the number of
/// dimensions, then each dimension as a uint32) followed by the elements in row-major order.
/// The file may be gzip-compressed (detected by its 1f 8b magic). Element types 0x08 ubyte,
/// 0x09 byte, 0x0B short, 0x0C int, 0x0D float and 0x0E double are converted to dtype
/// (kFloat32/kFloat64 keep the raw values, e.g. 0..255 for images; kInt32/kInt64 for labels, which
/// need an integer element type). The result has the header's shape (1 to 4 dimensions).
/// Everything is checked before it is used: the header, that the data has exactly the size the
/// dimensions promise (neither truncated nor with trailing bytes), and for gzip input that
/// decompression stops as soon as it yields more than that. Errors are ember::IOError naming the
/// file and the numbers, e.g. "train.gz: IDX header says 60000x28x28 ubyte = 47040000 bytes of
/// data, file has 1000 bytes".
Tensor read_idx(const std::string& path, DType dtype = kFloat32);

/// read_idx on bytes already in memory; name identifies them in errors.
Tensor decode_idx(std::string_view bytes, const std::string& name, DType dtype = kFloat32);

/// Fashion-MNIST (Zalando): 28x28 grayscale clothing images in 10 classes.
struct FashionMnist {
  Tensor train_images;               ///< (60000, 1, 28, 28) float32, raw values 0..255
  Tensor train_labels;               ///< (60000,) int64 in [0, 10)
  Tensor test_images;                ///< (10000, 1, 28, 28) float32, raw values 0..255
  Tensor test_labels;                ///< (10000,) int64 in [0, 10)
  std::vector<std::string> classes;  ///< the 10 class names, by label
};

/// The 10 Fashion-MNIST class names by label: "T-shirt/top", "Trouser", ..., "Ankle boot".
const std::vector<std::string>& fashion_mnist_classes();

/// Loads dir/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz (or the same names without .gz), as
/// scripts/get-data.sh fashion-mnist writes them to data/fashion-mnist. Checks the counts
/// (60000 training and 10000 test images of 28x28), that images and labels agree, and that every
/// label is in [0, 10); errors are ember::IOError naming the file.
FashionMnist load_fashion_mnist(const std::string& dir);

}  // namespace ember::data
