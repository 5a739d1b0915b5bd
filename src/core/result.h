// Result types for expected failures: a value or a named error, never an exception across layers.
#pragma once

#include <tl/expected.hpp>

namespace satload {

template <class T, class E>
using Result = tl::expected<T, E>;

template <class E>
[[nodiscard]] inline tl::unexpected<E> fail(E e) {
    return tl::unexpected<E>(std::move(e));
}

}  // namespace satload
