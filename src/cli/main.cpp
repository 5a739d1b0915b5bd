// Entry point of the `satload` command.
#include <cstdio>

int main() {
    std::puts("satload 0.1.0");
    return 0;
}
