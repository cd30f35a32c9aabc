//! Hosts tag on a Tickwire server: `cargo run -p tickwire-tag --example serve`, with every
//! flag of `tickwire-server` (`-- --help` lists them; `--game-config 'tag={"size":300}'`).

use clap::Parser as _;
use tickwire_server::{Server, ServerConfig};
use tickwire_tag::{Tag, TagConfig};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    Server::builder(ServerConfig::parse()).game::<Tag>(TagConfig::default()).serve().await
}
