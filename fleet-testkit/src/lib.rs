//! # tickwire-fleet-testkit (being built: see the issue 17 design)
