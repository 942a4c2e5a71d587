#include <cstdio>
int main() { std::puts("moe-recal"); return 0; }
