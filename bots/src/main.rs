//! `tickwire-bots`: load-tests a Tickwire server (see the library docs and `--help`).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser as _;
use tickwire_bots::game::{self, Chosen};
use tickwire_bots::progress::Progress;
use tickwire_bots::slo::BREACH_EXIT_CODE;
use tickwire_bots::swarm::STEADY_SETTLE;
use tickwire_bots::{
    Args, Players, Report, RssSample, Swarm, SwarmConfig, scrape_rss, scrape_ticks, server_ticks,
};
use tickwire_sim::Predict;
use tracing_subscriber::EnvFilter;

/// Every bot allocates a fresh snapshot per tick and frees the oldest: mimalloc's per-thread
/// free lists keep those pages instead of returning them to the kernel and faulting them back.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How often the run's progress is shown, and the server's memory and ticks looked at.
const POLL_EVERY: Duration = Duration::from_millis(500);

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    // On one thread (a load test pins the bots to a core): every bot task on a single run
    // queue, woken in order, without the multi-threaded scheduler's stealing (`Args::threads`).
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut builder = match args.threads.unwrap_or(cores).max(1) {
        1 => tokio::runtime::Builder::new_current_thread(),
        threads => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(threads);
            builder
        }
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(report) if report.slo.passed => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(BREACH_EXIT_CODE as u8),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<Report> {
    let mut config = args.swarm_config()?;
    // Where the game's description and the metrics are: --url's server, or with a directory
    // one of the fleet's live servers.
    let base = match &config.directory {
        None => args.http_base()?,
        Some(target) => tickwire_bots::directory::a_server_base(target)
            .await
            .with_context(|| format!("asking {} for a live server", target.url))?,
    };
    let name = match &args.game {
        Some(name) => name.clone(),
        None => game::default_game(&base, &config.tls).await?,
    };
    if let Some(target) = &mut config.directory {
        target.game = Some(name.clone());
        config.url = target.url.clone();
    }
    let metrics_url = match (&args.metrics_url, &config.directory) {
        (None, Some(_)) => format!("{base}/metrics"),
        _ => args.metrics_url()?,
    };
    // A game the bots were compiled with needs no description: a server with another version
    // of it refuses the hello (`rejected_schema_mismatch`).
    let (schema, rules) = match game::compiled(&name) {
        Some(schema) => {
            // Rules only tune prediction: without them the bots predict with the defaults.
            let rules = game::fetch_rules(&base, &name, &config.tls).await.unwrap_or_else(|e| {
                tracing::warn!("{e:#}: predicting with {name}'s default rules");
                serde_json::Value::Null
            });
            (schema, rules)
        }
        None => (game::fetch_schema(&base, &name, &config.tls).await?, serde_json::Value::Null),
    };
    match game::choose(schema, args.behaviour.as_deref(), &rules)? {
        Chosen::Arena(players) => play(args, config, players, metrics_url).await,
        Chosen::Kart(players) => play(args, config, players, metrics_url).await,
        Chosen::Dynamic(players) => play(args, config, players, metrics_url).await,
    }
}

async fn play<P: Predict>(
    args: Args,
    config: SwarmConfig,
    players: Players<P>,
    metrics_url: String,
) -> anyhow::Result<Report> {
    let thresholds = args.thresholds();
    let tls = config.tls.clone();
    let before = scrape_ticks(&metrics_url, &tls).await;
    if before.is_none() {
        tracing::warn!(%metrics_url, "server metrics not reachable; the tick p99 will be missing");
    }
    let progress = Progress::new(config.clients, !args.quiet);
    let start = tokio::time::Instant::now();
    // The server's ticks in the steady window (as the swarm's: from STEADY_SETTLE after the
    // ramp-up), scraped at its start and at the last poll before the run's end.
    let steady_from = start + config.ramp_up + STEADY_SETTLE;
    let steady_until = (start + config.duration).checked_sub(POLL_EVERY).unwrap_or(start);
    let (mut steady_before, mut steady_after) = (None, None);
    let swarm = Swarm::start(config, players);
    let mut ticker = tokio::time::interval(POLL_EVERY);
    let mut rss = Vec::new();
    let mut next_rss = start;
    while !swarm.is_finished() {
        ticker.tick().await;
        progress.update(&swarm.live());
        let now = tokio::time::Instant::now();
        if now >= steady_from && steady_before.is_none() {
            steady_before = scrape_ticks(&metrics_url, &tls).await;
        } else if now >= steady_until && steady_after.is_none() && steady_before.is_some() {
            steady_after = scrape_ticks(&metrics_url, &tls).await;
        }
        if tokio::time::Instant::now() >= next_rss {
            next_rss += args.rss_every.max(Duration::from_millis(500));
            if let Some(bytes) = scrape_rss(&metrics_url, &tls).await {
                let t_s = start.elapsed().as_secs_f64();
                rss.push(RssSample { t_s: (t_s * 10.0).round() / 10.0, mib: bytes / 1048576.0 });
            }
        }
    }
    progress.finish();
    let outcome = swarm.finish().await?;
    let after = scrape_ticks(&metrics_url, &tls).await;
    let mut report =
        Report::new(&outcome, server_ticks(before.as_ref(), after.as_ref()), &thresholds);
    report.server_rss = rss;
    report.set_steady_server_ticks(
        steady_before.as_ref().and_then(|before| server_ticks(Some(before), steady_after.as_ref())),
    );
    println!("{}", report.table());
    if let Some(path) = &args.json {
        std::fs::write(path, report.to_json() + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(report)
}
