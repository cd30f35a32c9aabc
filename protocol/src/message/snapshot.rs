//! [`SnapshotMessage`]: one tick of replicated state, server → client.

use bincode::{Decode, Encode};
use serde::Serialize;

use crate::ids::Tick;

/// The envelope of a snapshot payload (`PROTOCOL.md` §6). The payload may be shared by many
/// clients; the envelope's per-client fields are small.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct SnapshotMessage {
    /// The tick this state belongs to.
    pub tick: Tick,
    /// The snapshot this is a delta against, or `None` for a full snapshot.
    pub baseline: Option<Tick>,
    /// The newest input tick from this client that the simulation has consumed (for
    /// prediction reconciliation), if any.
    pub last_input: Option<Tick>,
    /// Bit-packed state, decoded with [`crate::snapshot::decode`].
    pub payload: Vec<u8>,
}
