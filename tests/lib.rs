//! Empty library: this package exists to own the integration tests in `tests/it`.
