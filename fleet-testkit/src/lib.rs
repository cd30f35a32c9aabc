//! # tickwire-fleet-testkit
//!
//! Fixtures for testing Tickwire fleets on one machine (issue 17):
//! - [`agones`]: a faithful mock of the Agones SDK sidecar's REST gateway, recording the calls;
//! - [`redis`]: a private `redis-server` on a loopback port, persistence off, stopped on drop.

pub mod agones;
pub mod redis;
