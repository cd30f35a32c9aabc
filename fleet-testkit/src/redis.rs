//! A private Redis for tests (being written).
