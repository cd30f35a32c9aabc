//! `tickwire-server`: run `tickwire-server --help` for the flags.
//!
//! The binary hosts the built-in games: the arena (the default), kart and tag. A host with
//! games of its own writes the same few lines with
//! `tickwire_server::Server::builder(...).game::<G>(...)`.

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use tickwire_arena::{Arena, ArenaConfig};
use tickwire_kart::{KartConfig, Race};
use tickwire_server::auth::{Claims, mint, new_nonce};
use tickwire_server::{Server, ServerBuilder, ServerConfig};
use tickwire_tag::{Tag, TagConfig};
use tracing_subscriber::EnvFilter;

/// The built-in games, the arena first (the default).
fn games(builder: ServerBuilder) -> ServerBuilder {
    builder
        .game::<Arena>(ArenaConfig::default())
        .game::<Race>(KartConfig::default())
        .game::<Tag>(TagConfig::default())
}

const GAMES_HELP: &str =
    "Games: arena (the default), kart, tag. A hello names its game; a room hosts one. Examples:
  tickwire-server --game-config 'arena={\"npcs\":{\"count\":200},\"tick_rate\":60}'
  tickwire-server --game-config 'kart={\"barrels\":{\"count\":1000},\"rules\":{\"laps\":5}}'
  tickwire-server games        # every game's configuration, with its defaults";

/// The command line: the server's flags, or a subcommand.
#[derive(Debug, Parser)]
#[command(
    name = "tickwire-server",
    version,
    about = "Tickwire: an authoritative game server hosting rooms of its games over WebSocket",
    after_help = GAMES_HELP,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    server: ServerConfig,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
enum Command {
    /// Mint a join token (what a backend does after authenticating a player) and print it.
    MintToken(MintToken),
    /// Print the games this server hosts: each one's name, schema hash and configuration (its
    /// defaults merged with any `--game-config`), as JSON.
    Games(GamesArgs),
}

#[derive(Debug, Args)]
struct GamesArgs {
    #[command(flatten)]
    server: ServerConfig,
}

#[derive(Debug, Args)]
struct MintToken {
    /// The shared secret the server was started with (`--auth-secret`).
    #[arg(long, env = "TICKWIRE_AUTH_SECRET", hide_env_values = true)]
    secret: String,
    /// The player's id in your backend.
    #[arg(long)]
    player: String,
    /// The room the token admits to.
    #[arg(long, default_value = "lobby")]
    room: String,
    /// Seconds until the token expires.
    #[arg(long, default_value_t = 60)]
    ttl_secs: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Command::Games(g)) = cli.command {
        let mut config = g.server;
        config.addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let server = games(Server::builder(config)).bind().await.context("the games")?;
        println!("{}", serde_json::to_string_pretty(&server.handle().games_json())?);
        return Ok(());
    }
    if let Some(Command::MintToken(m)) = cli.command {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
        let claims = Claims {
            player: m.player,
            room: m.room,
            exp: now.as_secs() + m.ttl_secs,
            v: tickwire_protocol::PROTOCOL_VERSION,
            nonce: new_nonce(),
        };
        println!("{}", mint(m.secret.as_bytes(), &claims));
        return Ok(());
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    games(Server::builder(cli.server)).serve().await
}
