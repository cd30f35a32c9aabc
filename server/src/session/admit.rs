//! Admission: turning a checked hello into a place in a room, either a new player (join) or a
//! detached one taken back (resume, PROTOCOL.md §1.3), and issuing the resume ticket that goes
//! into the welcome.
//!
//! What the HTTP layer vouched for before the upgrade ([`Authorized`]) must agree with the
//! hello: a token's room is the hello's room, and a connection admitted on a resume ticket
//! (token servers) must resume with that very ticket. The hello's game must be one the server
//! hosts (`UnknownGame`), with the same schema (`SchemaMismatch`), and the room must host that
//! game (`GameMismatch`). In a fleet, a room is claimed in the directory before this server
//! opens it (`RoomElsewhere` when another server holds it; [`crate::fleet`]).

use std::sync::Arc;

use tickwire_protocol::message::{Hello, RejectReason, ResumeTicket, Welcome};
use tickwire_protocol::{CHUNKS_VERSION, ClientId};

use crate::ServerCtx;
use crate::auth::Claims;
use crate::games::GameInfo;
use crate::resume::Grant;
use crate::room::{ClientLink, RoomGone, RoomHandle};

/// What the upgrade request proved, checked before the WebSocket upgrade.
#[derive(Debug, Clone)]
pub enum Authorized {
    /// Open dev mode: no token required.
    Open,
    /// A valid join token.
    Token(Claims),
    /// A valid resume ticket in the `resume` query parameter (token servers; the join token is
    /// single-use and already spent).
    Resume(ResumeTicket),
}

/// A session's place in a room.
#[derive(Debug)]
pub(crate) struct Admitted {
    pub room: RoomHandle,
    pub link: Arc<ClientLink>,
    pub welcome: Welcome,
    /// The authenticated player (one live socket per player).
    pub player: Option<String>,
}

/// Joins or resumes, as the hello asks.
pub(crate) async fn admit(
    ctx: &Arc<ServerCtx>,
    hello: &Hello,
    auth: Authorized,
) -> Result<Admitted, RejectReason> {
    match (hello.resume, auth) {
        (Some(ticket), Authorized::Resume(admitted)) if ticket != admitted => {
            Err(RejectReason::Unauthorized)
        }
        (Some(ticket), Authorized::Token(claims)) => {
            resume(ctx, hello, &ticket, Some(&claims.player)).await
        }
        (Some(ticket), Authorized::Open | Authorized::Resume(_)) => {
            resume(ctx, hello, &ticket, None).await
        }
        (None, Authorized::Resume(_)) => Err(RejectReason::Unauthorized),
        (None, Authorized::Token(claims)) if claims.room != hello.room => {
            Err(RejectReason::Unauthorized)
        }
        // A token bound to a game admits only a hello for that game (the upgrade could not
        // check it when the request named neither the game nor an existing room).
        (None, Authorized::Token(claims))
            if claims.game.as_ref().is_some_and(|g| *g != hello.game) =>
        {
            Err(RejectReason::Unauthorized)
        }
        (None, Authorized::Token(claims)) => {
            join(ctx, hello, Some(claims.player), claims.spectator).await
        }
        (None, Authorized::Open) => join(ctx, hello, None, false).await,
    }
}

/// The game the hello asks for, if the server hosts it with the same schema.
fn game<'a>(ctx: &'a ServerCtx, hello: &Hello) -> Result<&'a Arc<GameInfo>, RejectReason> {
    let game = ctx.rooms.game(&hello.game).ok_or(RejectReason::UnknownGame)?;
    if hello.schema_hash != game.schema.hash() {
        return Err(RejectReason::SchemaMismatch { server: game.schema.hash() });
    }
    Ok(game)
}

/// Whether the client gets its view as chunks: it reads them (protocol version 5,
/// `PROTOCOL.md` §6.10) and the server sends them (`--interest-chunks`).
fn chunks(ctx: &ServerCtx, hello: &Hello) -> bool {
    ctx.config.interest_chunks && hello.protocol_version >= CHUNKS_VERSION
}

async fn join(
    ctx: &Arc<ServerCtx>,
    hello: &Hello,
    player: Option<String>,
    spectator: bool,
) -> Result<Admitted, RejectReason> {
    let game = game(ctx, hello)?;
    claim(ctx, &hello.room).await?;
    let client = ClientId(ctx.next_client_id());
    let link = ClientLink::new(client, game.release_mask.clone());
    let link = Arc::new(link.with_chunks(chunks(ctx, hello)));
    // A room may close between the lookup and the join; ask the registry once more.
    for _ in 0..2 {
        let room = ctx.rooms.get_or_create(&hello.game, &hello.room)?;
        match room.join(hello.name.clone(), player.clone(), link.clone(), spectator).await {
            Ok(Ok(mut welcome)) => {
                let grant = Grant { room: room.name.clone(), player: player.clone() };
                welcome.resume_secret = ctx.tickets.issue(client, grant);
                return Ok(Admitted { room, link, welcome, player });
            }
            Ok(Err(reason)) => return Err(reason),
            Err(RoomGone) => continue,
        }
    }
    Err(RejectReason::TooManyRooms)
}

/// In a fleet (`--redis`), claims a room this server is about to open: a room another live
/// server holds is `RoomElsewhere`. When the directory cannot be reached the room opens anyway
/// (the directory claimed it for this server before handing out the token), and the failure
/// is counted.
async fn claim(ctx: &ServerCtx, room: &str) -> Result<(), RejectReason> {
    let Some(registration) = ctx.fleet.registration() else { return Ok(()) };
    if ctx.rooms.get(room).is_some() || ctx.rooms.is_draining() || room == ctx.config.default_room {
        return Ok(());
    }
    match registration.claim(room).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(RejectReason::RoomElsewhere),
        Err(e) => {
            ctx.metrics.fleet_errors.get_or_create(&[("call", "claim")]).inc();
            tracing::debug!(error = %e, room, "room claim not checked");
            Ok(())
        }
    }
}

async fn resume(
    ctx: &Arc<ServerCtx>,
    hello: &Hello,
    ticket: &ResumeTicket,
    token_player: Option<&String>,
) -> Result<Admitted, RejectReason> {
    let game = game(ctx, hello)?;
    let grant = ctx.tickets.check(ticket).ok_or(RejectReason::ResumeFailed)?;
    if *grant.room != *hello.room {
        return Err(RejectReason::ResumeFailed);
    }
    if token_player.is_some_and(|p| grant.player.as_ref() != Some(p)) {
        return Err(RejectReason::Unauthorized);
    }
    // Use the ticket up before asking the room: two connections racing with one ticket get one
    // welcome between them.
    let (grant, secret) = ctx.tickets.redeem(ticket).ok_or(RejectReason::ResumeFailed)?;
    let room = ctx.rooms.get(&grant.room).ok_or(RejectReason::ResumeFailed)?;
    if room.game.name != game.name {
        return Err(RejectReason::ResumeFailed);
    }
    let link = ClientLink::new(ticket.client_id, game.release_mask.clone());
    let link = Arc::new(link.with_chunks(chunks(ctx, hello)));
    match room.resume(link.clone()).await {
        Ok(Ok(mut welcome)) => {
            welcome.resume_secret = secret;
            Ok(Admitted { room, link, welcome, player: grant.player })
        }
        Ok(Err(reason)) => Err(reason),
        Err(RoomGone) => Err(RejectReason::ResumeFailed),
    }
}
