//! One mirror per replicated component type: what copies the game's components from the client
//! library's state into [`Replicated<C>`] Bevy components.
//!
//! The plugin visits the game's component list once ([`ComponentSet::visit`]) and builds a
//! [`ComponentMirror<P, C>`] for each type, boxed as a [`Mirror<P>`] so that the sync system
//! can hold them in one list. Each frame, every mirror
//!
//! 1. [`capture`](Mirror::capture)s its component of every entity, with the state locked (a
//!    copy per entity: the lock is held for microseconds), and adds the positions its
//!    [position mapping](crate::TickwirePlugin::position) gives;
//! 2. [`apply`](Mirror::apply)s them to the Bevy entities, once the lock is released:
//!    updated when they changed, inserted when the entity gained the component, removed when it
//!    lost it.

use std::any::{Any, TypeId};
use std::collections::{HashMap, HashSet};
use std::marker::PhantomData;

use bevy::prelude::*;
use tickwire_client::Bracket;
use tickwire_protocol::game::{ComponentSet, ComponentVisitor, GameProtocol, ReplicatedComponent};
use tickwire_protocol::snapshot::EntityRef;
use tickwire_protocol::{EntityId, Schema};
use tickwire_sim::Predict;

use crate::components::Replicated;
use crate::replicate::NetEntities;

/// Where a component puts its entity: `Transform.translation.x/y`, world units.
pub(crate) type PositionFn<C> = fn(&C) -> Vec2;
/// How the prediction changes the local player's component.
pub(crate) type PredictFn<P, C> = fn(&<P as Predict>::State, &mut C);

/// What a frame reads from the client library's state, for every mirror.
pub(crate) struct Capture<'a, P: Predict> {
    /// The game's snapshot schema.
    pub(crate) schema: &'static Schema,
    /// The two snapshots around the render time.
    pub(crate) bracket: Option<Bracket<'a>>,
    /// The entity this client controls.
    pub(crate) own: Option<EntityId>,
    /// That entity in the newest snapshot, when it is predicted (otherwise it is drawn from the
    /// bracket like the others).
    pub(crate) own_newest: Option<EntityRef<'a>>,
    /// The predicted state, after every input sent.
    pub(crate) predicted: Option<&'a P::State>,
}

/// Positions found this frame (the first positioned component of each entity wins).
#[derive(Debug, Default)]
pub(crate) struct Positions {
    /// Interpolated entities (and the local one when it is not predicted).
    pub(crate) drawn: HashMap<EntityId, Vec2>,
    /// The local player's position in the newest snapshot.
    pub(crate) own_server: Option<Vec2>,
    /// The local player's predicted position.
    pub(crate) own_predicted: Option<Vec2>,
}

impl Positions {
    pub(crate) fn clear(&mut self) {
        self.drawn.clear();
        self.own_server = None;
        self.own_predicted = None;
    }
}

/// One component type's mirror, boxed (see the module docs).
pub(crate) trait Mirror<P: Predict>: Send + Sync + 'static {
    /// Copies this frame's values, under the state lock.
    fn capture(&mut self, cap: &Capture<'_, P>, positions: &mut Positions);
    /// Writes them onto the entities of `entities`.
    fn apply(&mut self, world: &mut World, entities: &NetEntities);
    /// Forgets everything (a new session: the entities are gone).
    fn reset(&mut self);
}

/// The mirror of component type `C` (see the module docs).
pub(crate) struct ComponentMirror<P: Predict, C: ReplicatedComponent> {
    index: usize,
    position: Option<PositionFn<C>>,
    predict: Option<PredictFn<P, C>>,
    /// This frame's values, by entity.
    values: Vec<(EntityId, C)>,
    /// Entities that carry `Replicated<C>` (as of the last apply).
    had: HashSet<EntityId>,
    /// Scratch for the next `had`.
    seen: HashSet<EntityId>,
    _protocol: PhantomData<fn() -> P>,
}

impl<P: Predict, C: ReplicatedComponent> Mirror<P> for ComponentMirror<P, C> {
    fn capture(&mut self, cap: &Capture<'_, P>, positions: &mut Positions) {
        self.values.clear();
        let predicting = cap.own_newest.is_some();
        if let Some(bracket) = &cap.bracket {
            for e in bracket.iter() {
                if predicting && Some(e.id()) == cap.own {
                    continue;
                }
                if let Some(c) = e.get::<C>(self.index) {
                    if let Some(f) = self.position {
                        positions.drawn.entry(e.id()).or_insert_with(|| f(&c));
                    }
                    self.values.push((e.id(), c));
                }
            }
        }
        let own = cap.own.zip(cap.own_newest);
        if let Some((id, mut c)) =
            own.and_then(|(id, e)| Some((id, e.get::<C>(cap.schema, self.index)?)))
        {
            if let Some(f) = self.position {
                positions.own_server.get_or_insert_with(|| f(&c));
            }
            if let (Some(p), Some(state)) = (self.predict, cap.predicted) {
                p(state, &mut c);
            }
            if let Some(f) = self.position {
                positions.own_predicted.get_or_insert_with(|| f(&c));
            }
            self.values.push((id, c));
        }
    }

    fn apply(&mut self, world: &mut World, entities: &NetEntities) {
        self.seen.clear();
        for (id, c) in self.values.drain(..) {
            let Some(mut entity) = entities.get(id).and_then(|e| world.get_entity_mut(e).ok())
            else {
                continue;
            };
            match entity.get_mut::<Replicated<C>>() {
                Some(mut r) => {
                    r.set_if_neq(Replicated(c));
                }
                None => {
                    entity.insert(Replicated(c));
                }
            }
            self.seen.insert(id);
        }
        for id in self.had.difference(&self.seen) {
            if let Some(mut entity) = entities.get(*id).and_then(|e| world.get_entity_mut(e).ok()) {
                entity.remove::<Replicated<C>>();
            }
        }
        std::mem::swap(&mut self.had, &mut self.seen);
    }

    fn reset(&mut self) {
        self.values.clear();
        self.had.clear();
    }
}

/// The game-specific views an app registered on the plugin: position and prediction mappings
/// by component type (type-erased until the mirrors are built).
#[derive(Default)]
pub(crate) struct Views {
    positions: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
    predictions: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
    /// Type names registered, to say which one is not the game's.
    registered: Vec<(TypeId, &'static str)>,
}

impl Views {
    pub(crate) fn position<C: ReplicatedComponent>(&mut self, f: PositionFn<C>) {
        self.positions.insert(TypeId::of::<C>(), Box::new(f));
        self.registered.push((TypeId::of::<C>(), std::any::type_name::<C>()));
    }

    pub(crate) fn predict<P: Predict, C: ReplicatedComponent>(&mut self, f: PredictFn<P, C>) {
        self.predictions.insert(TypeId::of::<C>(), Box::new(f));
        self.registered.push((TypeId::of::<C>(), std::any::type_name::<C>()));
    }

    /// One mirror per component of `P`.
    ///
    /// # Panics
    /// If a mapping was registered for a type that is not one of `P`'s replicated components
    /// (a programming error, reported when the app is built).
    pub(crate) fn mirrors<P: Predict + GameProtocol>(&self) -> Vec<Box<dyn Mirror<P>>> {
        let mut builder = Builder::<P> { views: self, mirrors: Vec::new(), types: Vec::new() };
        P::Components::visit(&mut builder);
        for (ty, name) in &self.registered {
            assert!(
                builder.types.contains(ty),
                "TickwirePlugin: `{name}` is not a replicated component of the game `{}` \
                 (its components are {:?})",
                P::NAME,
                P::schema()
                    .components()
                    .components()
                    .iter()
                    .map(|c| c.def.name)
                    .collect::<Vec<_>>(),
            );
        }
        builder.mirrors
    }
}

struct Builder<'a, P: Predict> {
    views: &'a Views,
    mirrors: Vec<Box<dyn Mirror<P>>>,
    types: Vec<TypeId>,
}

impl<P: Predict> ComponentVisitor for Builder<'_, P> {
    fn visit<C: ReplicatedComponent>(&mut self, index: usize) {
        let ty = TypeId::of::<C>();
        let position = self.views.positions.get(&ty).and_then(|f| f.downcast_ref().copied());
        let predict = self.views.predictions.get(&ty).and_then(|f| f.downcast_ref().copied());
        self.types.push(ty);
        self.mirrors.push(Box::new(ComponentMirror::<P, C> {
            index,
            position,
            predict,
            values: Vec::new(),
            had: HashSet::new(),
            seen: HashSet::new(),
            _protocol: PhantomData,
        }));
    }
}
