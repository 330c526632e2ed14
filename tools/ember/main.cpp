// The `ember` command: a skeleton that reports its version; subcommands arrive with the pipeline.
#include <cstring>
#include <iostream>

#include "ember/ember.h"

int main(int argc, char** argv) {
  const char* usage =
      "usage: ember [--help] [--version]\n\n"
      "Ember, a C++ deep-learning framework. This build provides the library; the train, eval,\n"
      "inspect and predict subcommands arrive with the training pipeline.\n";
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::cout << usage;
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::cout << "ember 0.1.0\n";
    return 0;
  }
  std::cerr << "ember: unknown command '" << argv[1] << "'\n" << usage;
  return 2;
}
