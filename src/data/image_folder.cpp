// Image folder datasets: directory scan, decode, optional bilinear resize, stacking.
#include "ember/data/image_folder.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "ember/core/error.h"
#include "ember/data/image.h"
#include "ember/data/transforms.h"

namespace ember::data {

namespace {

namespace fs = std::filesystem;

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

bool hidden(const fs::path& p) {
  return p.filename().string().starts_with(".");
}

// Sorted entries of dir that pass keep.
template <class Keep>
std::vector<fs::path> sorted_entries(const fs::path& dir, Keep keep) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (!hidden(it->path()) && keep(*it)) out.push_back(it->path());
  EMBER_CHECK_IO(!ec, dir.string(), ": cannot list the directory (", ec.message(), ")");
  std::sort(out.begin(), out.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  return out;
}

std::string size_str(const Tensor& t) {
  return std::to_string(t.size(2)) + "x" + std::to_string(t.size(1)) + " (width x height) with " +
         std::to_string(t.size(0)) + " channels";
}

}  // namespace

ImageFolder load_image_folder(const std::string& root, const ImageFolderOptions& options) {
  EMBER_CHECK(options.channels >= 0 && options.channels <= 4 && options.channels != 2,
              "load_image_folder: channels must be 0 (as stored), 1, 3 or 4; got ",
              options.channels);
  EMBER_CHECK(
      (options.height > 0) == (options.width > 0) && options.height >= 0 && options.width >= 0,
      "load_image_folder: height and width must both be > 0 (resize) or both 0; got ",
      options.height, "x", options.width);
  std::error_code ec;
  EMBER_CHECK_IO(fs::is_directory(root, ec), root, ": not a directory");
  const std::vector<fs::path> class_dirs = sorted_entries(root, [](const fs::directory_entry& e) {
    std::error_code ec2;
    return e.is_directory(ec2);
  });
  EMBER_CHECK_IO(!class_dirs.empty(), root,
                 ": no class folders (expected one subdirectory of images per class)");
  ImageFolder ds;
  std::vector<Tensor> images;
  std::vector<int64_t> labels;
  int64_t channels = options.channels;
  for (size_t label = 0; label < class_dirs.size(); ++label) {
    const fs::path& dir = class_dirs[label];
    ds.classes.push_back(dir.filename().string());
    const std::vector<fs::path> files = sorted_entries(dir, [](const fs::directory_entry& e) {
      std::error_code ec2;
      return e.is_regular_file(ec2) && is_image_file(e.path());
    });
    EMBER_CHECK_IO(!files.empty(), dir.string(),
                   ": class folder has no image files (.png, .jpg, .jpeg, .bmp)");
    for (const fs::path& file : files) {
      Tensor image = read_image(file.string(), channels);
      if (channels == 0) channels = image.size(0);
      if (options.height > 0) {
        if (image.size(1) != options.height || image.size(2) != options.width)
          image = resize_bilinear(image, options.height, options.width);
      } else if (!images.empty()) {
        EMBER_CHECK_IO(image.shape() == images.front().shape(), file.string(), ": image is ",
                       size_str(image), " but ", ds.paths.front(), " is ", size_str(images.front()),
                       "; set a height and width to resize them all");
      }
      images.push_back(std::move(image));
      labels.push_back(static_cast<int64_t>(label));
      ds.paths.push_back(file.string());
    }
  }
  const Shape& one = images.front().shape();
  const auto n = static_cast<int64_t>(images.size());
  ds.images = detail::make_tensor({n, one[0], one[1], one[2]}, kFloat32);
  float* dst = ds.images.data_ptr<float>();
  const int64_t per = images.front().numel();
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(dst + i * per, images[static_cast<size_t>(i)].data_ptr<float>(),
                static_cast<size_t>(per) * sizeof(float));
  ds.labels = detail::make_tensor({n}, kInt64);
  std::copy(labels.begin(), labels.end(), ds.labels.data_ptr<int64_t>());
  return ds;
}

}  // namespace ember::data
