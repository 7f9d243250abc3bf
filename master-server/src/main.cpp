// master-server entry point: parses the command line; the server/agent itself is wired in later issues.
#include <synccore/version.hpp>

#include <boost/program_options.hpp>

#include <iostream>

namespace po = boost::program_options;

int main(int argc, char** argv) {
  po::options_description opts("master-server options");
  opts.add_options()("help,h", "show this help and exit")("version", "print the version and exit");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "master-server: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << "Usage: master-server [options]\n" << opts;
    return 0;
  }
  if (vm.count("version")) {
    std::cout << "master-server " << synccore::version_string << "\n";
    return 0;
  }
  std::cerr << "master-server: not implemented yet\n";
  return 2;
}
