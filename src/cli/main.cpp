#include "cli/app.hpp"

int main(int argc, char** argv) { return moerecal::cli::run_main(argc, argv); }
