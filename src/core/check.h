// Always-on assertions for programmer mistakes (never for validating input).
#pragma once

#include <cstdio>
#include <cstdlib>

#define SATLOAD_ASSERT(cond)                                                              \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            std::fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                 \
        }                                                                                 \
    } while (0)
