//! From a `hecs::World` to a snapshot: [`NetId`], the network identity of a replicated entity,
//! and [`Extract`], which writes every entity that has one into a
//! [`tickwire_protocol::SnapshotBuilder`] through the protocol's component list.
//!
//! Extraction walks hecs' archetypes, not entities: per archetype it adds the `NetId` column's
//! rows at once, then quantizes each replicated component's column into them
//! ([`SnapshotBuilder::set_column`]), so a tick of 1,000 NPCs costs a few column lookups and a
//! linear pass per component. Entities are written in archetype order;
//! the builder sorts them by id when they arrive out of order.

use hecs::World;
use tickwire_protocol::game::ComponentSet;
use tickwire_protocol::{EntityId, SnapshotBuilder};

/// The network id of a replicated entity: its [`EntityId`] on the wire. Allocated by the room
/// ([`Ctx::new_id`](crate::Ctx::new_id)) in increasing order and never reused, so that a
/// client never confuses a new entity with a despawned one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NetId(pub EntityId);

/// A room's id allocator.
#[derive(Debug, Clone, Default)]
pub struct NetIds {
    next: u32,
}

impl NetIds {
    /// The next id.
    pub fn allocate(&mut self) -> NetId {
        let id = NetId(EntityId(self.next));
        self.next = self.next.wrapping_add(1);
        id
    }

    /// How many ids were handed out.
    pub fn allocated(&self) -> u32 {
        self.next
    }
}

/// A [`ComponentSet`] that can be extracted from a `hecs::World` (every tuple of
/// [`ReplicatedComponent`](tickwire_protocol::game::ReplicatedComponent)s).
pub trait Extract: ComponentSet {
    /// Writes every entity that has a [`NetId`] and at least one of the components.
    fn extract(world: &World, out: &mut SnapshotBuilder<'_>);
}

macro_rules! extract_tuple {
    ($(($i:tt, $t:ident)),+) => {
        impl<$($t: tickwire_protocol::game::ReplicatedComponent),+> Extract for ($($t,)+) {
            #[allow(non_snake_case)]
            fn extract(world: &World, out: &mut SnapshotBuilder<'_>) {
                for archetype in world.archetypes() {
                    let Some(ids) = archetype.get::<&NetId>() else { continue };
                    $( let $t = archetype.get::<&$t>(); )+
                    if $( $t.is_none() )&&+ {
                        continue;
                    }
                    // Column by column: each component's fields are looked up once per
                    // archetype, not once per entity.
                    let first = out.rows(ids.iter().map(|id| id.0));
                    $(
                        if let Some(column) = &$t {
                            out.set_column($i, first, column);
                        }
                    )+
                }
            }
        }
    };
}

/// `extract_tuple!` for every prefix of the list: tuples of 1 to 16 components.
macro_rules! extract_tuples {
    ([$($done:tt)*]) => {};
    ([$($done:tt)*] ($i:tt, $t:ident) $(, $rest:tt)*) => {
        extract_tuple!($($done)* ($i, $t));
        extract_tuples!([$($done)* ($i, $t),] $($rest),*);
    };
}

#[rustfmt::skip]
extract_tuples!(
    [] (0, A), (1, B), (2, C), (3, D), (4, E), (5, F), (6, G), (7, H),
    (8, I), (9, J), (10, K), (11, L), (12, M), (13, N), (14, O), (15, P)
);
