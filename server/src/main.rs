//! `tickwire-server`: run `tickwire-server --help` for the flags.
//!
//! The binary hosts the built-in games: the arena (the default), kart and tag. A host with
//! games of its own writes the same few lines with
//! `tickwire_server::Server::builder(...).game::<G>(...)`.

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use tickwire_arena::{Arena, ArenaConfig};
use tickwire_kart::{KartConfig, Race};
use tickwire_server::auth::{Claims, Signer};
use tickwire_server::{Server, ServerBuilder, ServerConfig};
use tickwire_tag::{Tag, TagConfig};
use tracing_subscriber::EnvFilter;

/// A room's tick allocates and frees per view, per chunk and per client (the views' chunk
/// lists, the encoded payloads, the event batches), across the runtime's workers: mimalloc's
/// per-thread free lists keep that off glibc's arena locks and its free-chunk coalescing. The
/// big world's tick (`benches/benches/big_world.rs`) took about a tenth less with it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The built-in games, the arena first (the default).
fn games(builder: ServerBuilder) -> ServerBuilder {
    builder
        .game::<Arena>(ArenaConfig::default())
        .game::<Race>(KartConfig::default())
        .game::<Tag>(TagConfig::default())
}

const AFTER_HELP: &str =
    "Games: arena (the default), kart, tag. A hello names its game; a room hosts one. Examples:
  tickwire-server --game-config 'arena={\"npcs\":{\"count\":200},\"tick_rate\":60}'
  tickwire-server --game-config 'kart={\"barrels\":{\"count\":1000},\"rules\":{\"laps\":5}}'
  tickwire-server games        # every game's configuration, with its defaults

Join tokens are JWTs your backend mints (claims sub, room, aud, exp, jti; optional game, nbf):
  tickwire-server --auth-secret SECRET              # HS256
  tickwire-server --auth-public-key ed25519.pub.pem # EdDSA or ES256: no signing key on the server
  tickwire-server --auth-jwks keys.json             # keys chosen by the token's kid
  tickwire-server mint-token --secret SECRET --player alice --room lobby";

/// The command line: the server's flags, or a subcommand.
#[derive(Debug, Parser)]
#[command(
    name = "tickwire-server",
    version,
    about = "Tickwire: an authoritative game server hosting rooms of its games over WebSocket",
    after_help = AFTER_HELP,
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
    /// Mint a join token, a JWT (what a backend does after authenticating a player), and print it.
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

/// `mint-token`: signs as a backend would, with the server's shared secret (HS256) or a private
/// key whose public half the server holds (EdDSA, ES256).
#[derive(Debug, Args)]
struct MintToken {
    /// The shared secret the server was started with (`--auth-secret`): an HS256 token.
    #[arg(
        long,
        env = "TICKWIRE_AUTH_SECRET",
        hide_env_values = true,
        required_unless_present = "private_key",
        conflicts_with = "private_key"
    )]
    secret: Option<String>,
    /// A private key (PKCS#8 PEM) whose public key the server was given (`--auth-public-key`,
    /// `--auth-jwks`): Ed25519 signs EdDSA, P-256 signs ES256.
    #[arg(long, value_name = "PATH")]
    private_key: Option<std::path::PathBuf>,
    /// The key id to name in the token's header (`kid`), for a server with `--auth-jwks`.
    #[arg(long)]
    kid: Option<String>,
    /// The player's id in your backend (the `sub` claim).
    #[arg(long)]
    player: String,
    /// The room the token admits to.
    #[arg(long, default_value = "lobby")]
    room: String,
    /// The game the token admits to (any game the room hosts when absent).
    #[arg(long)]
    game: Option<String>,
    /// The audience (`aud`): one of the server's `--auth-audience` values.
    #[arg(long, default_value = tickwire_server::auth::DEFAULT_AUDIENCE)]
    audience: String,
    /// Seconds until the token expires.
    #[arg(long, default_value_t = 60)]
    ttl_secs: u64,
    /// The player joins as a spectator: it sees the whole world and controls nothing.
    #[arg(long)]
    spectator: bool,
    /// Binds the token to one server of a fleet (the `server` claim): only the server started
    /// with this `--server-id` accepts it.
    #[arg(long, value_name = "ID")]
    server: Option<String>,
}

impl MintToken {
    fn run(self) -> anyhow::Result<String> {
        let signer = match (&self.secret, &self.private_key) {
            (_, Some(path)) => Signer::from_private_key_file(path)?,
            (Some(secret), None) => Signer::hs256(secret.as_bytes())?,
            (None, None) => anyhow::bail!("--secret or --private-key is required"),
        };
        let signer = match self.kid {
            Some(kid) => signer.with_kid(kid),
            None => signer,
        };
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
        let mut claims =
            Claims::new(self.player, self.room, now, self.ttl_secs).with_audience(self.audience);
        claims.game = self.game;
        claims.spectator = self.spectator;
        claims.server = self.server;
        Ok(signer.mint(&claims)?)
    }
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
        println!("{}", m.run().context("mint-token")?);
        return Ok(());
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    games(Server::builder(cli.server)).serve().await
}
