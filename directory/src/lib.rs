//! # tickwire-directory (being built: see the issue 17 design)
