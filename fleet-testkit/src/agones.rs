//! The mock Agones SDK sidecar (being written).
