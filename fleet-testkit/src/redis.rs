//! A private `redis-server` for tests: Debian's binary on `127.0.0.1` and a free port,
//! persistence off, killed and reaped on drop.
//!
//! [`RedisServer::start`] picks a port (a listener bound to port 0, then released), launches
//! `redis-server --port P --bind 127.0.0.1 --save '' --appendonly no --daemonize no`, and waits
//! until it answers `PING`. If another process takes the port in between, the server exits
//! with "Address already in use" and the start is retried on a new port. Its log goes to a
//! file in the temporary directory, quoted in the error when it fails and removed on drop.
//!
//! [`RedisServer::command`] does one RESP round trip on a fresh connection, so that tests can
//! check what a server or the directory wrote without a Redis client crate. The calls block
//! (briefly: a local round trip), which is fine in tests, async ones included.

use std::fs;
use std::io::{BufRead, BufReader, Write as _};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};

/// Where Debian installs the server.
pub const DEFAULT_BINARY: &str = "/usr/bin/redis-server";
/// Starts tried before giving up on port clashes.
const ATTEMPTS: usize = 5;
/// How long a fresh server may take to answer `PING`.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one command may take.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest bulk reply read (tests read keys and small JSON records).
const MAX_BULK: usize = 16 << 20;

/// A running `redis-server`, stopped when dropped.
#[derive(Debug)]
pub struct RedisServer {
    child: Child,
    port: u16,
    log: PathBuf,
}

/// One RESP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`.
    Simple(String),
    /// `:1`.
    Int(i64),
    /// `$3\r\nabc` (`None` for the nil bulk string).
    Bulk(Option<String>),
    /// `*2...` (`None` for the nil array).
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// The reply as text: arrays one element per line, nil as the empty string.
    pub fn text(&self) -> String {
        match self {
            Self::Simple(s) | Self::Bulk(Some(s)) => s.clone(),
            Self::Int(i) => i.to_string(),
            Self::Bulk(None) | Self::Array(None) => String::new(),
            Self::Array(Some(items)) => items.iter().map(Self::text).collect::<Vec<_>>().join("\n"),
        }
    }
}

impl RedisServer {
    /// Starts Debian's `redis-server` (the first on `PATH`, else [`DEFAULT_BINARY`]).
    pub fn start() -> anyhow::Result<Self> {
        Self::start_with_binary(find_binary())
    }

    /// Starts the given `redis-server` binary.
    pub fn start_with_binary(binary: impl AsRef<Path>) -> anyhow::Result<Self> {
        let binary = binary.as_ref();
        if !binary.is_file() {
            bail!(
                "{} not found: install Redis with `scripts/install-test-deps.sh fleet` \
                 (or `apt-get install -y redis-server`)",
                binary.display()
            );
        }
        let mut last = None;
        for _ in 0..ATTEMPTS {
            match Self::try_start(binary) {
                Ok(server) => return Ok(server),
                Err(Start::PortClash(e)) => last = Some(e),
                Err(Start::Failed(e)) => return Err(e),
            }
        }
        Err(last
            .unwrap_or_else(|| anyhow!("no attempt made"))
            .context("redis-server: ports kept clashing"))
    }

    fn try_start(binary: &Path) -> Result<Self, Start> {
        let port = free_port().map_err(Start::Failed)?;
        let log =
            std::env::temp_dir().join(format!("tickwire-redis-{}-{port}.log", std::process::id()));
        let child = Command::new(binary)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(["--daemonize", "no", "--logfile"])
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("launching {}", binary.display()))
            .map_err(Start::Failed)?;
        // From here on, dropping `server` kills and reaps the child.
        let mut server = Self { child, port, log };
        server.wait_ready()?;
        Ok(server)
    }

    /// Polls until `PING` answers `PONG`, or the process exits, or [`READY_TIMEOUT`].
    fn wait_ready(&mut self) -> Result<(), Start> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = fs::read_to_string(&self.log).unwrap_or_default();
                let e =
                    anyhow!("redis-server exited ({status}) on port {}: {}", self.port, log.trim());
                return Err(if log.contains("Address already in use") {
                    Start::PortClash(e)
                } else {
                    Start::Failed(e)
                });
            }
            if matches!(self.command_reply(&["PING"]), Ok(Reply::Simple(s)) if s == "PONG") {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Start::Failed(anyhow!(
                    "redis-server on port {} did not answer PING",
                    self.port
                )));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The port it listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// One command, its reply as text ([`Reply::text`]); an error reply is an `Err`.
    pub fn command(&self, args: &[&str]) -> anyhow::Result<String> {
        self.command_reply(args).map(|r| r.text())
    }

    /// One command on a fresh connection, its reply parsed; an error reply is an `Err`.
    pub fn command_reply(&self, args: &[&str]) -> anyhow::Result<Reply> {
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port))
            .with_context(|| format!("connecting to redis on port {}", self.port))?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        stream.write_all(&encode(args))?;
        read_reply(&mut BufReader::new(stream))
            .map_err(|e| anyhow!("redis {}: {e:#}", args.join(" ")))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // Already gone is fine: the point is that it is not left running, nor a zombie.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_file(&self.log);
    }
}

/// Why one start attempt failed.
enum Start {
    /// Another process took the port first: try another.
    PortClash(anyhow::Error),
    /// Anything else: give up.
    Failed(anyhow::Error),
}

fn find_binary() -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path).map(|d| d.join("redis-server")).find(|p| p.is_file())
        })
        .unwrap_or_else(|| PathBuf::from(DEFAULT_BINARY))
}

/// A port that was free a moment ago.
fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("picking a free port")?;
    Ok(listener.local_addr()?.port())
}

/// A command as a RESP array of bulk strings.
fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn read_reply(r: &mut impl BufRead) -> anyhow::Result<Reply> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        bail!("redis closed the connection");
    }
    let line = line.trim_end_matches(['\r', '\n']);
    let (kind, rest) = line.split_at_checked(1).ok_or_else(|| anyhow!("empty RESP line"))?;
    match kind {
        "+" => Ok(Reply::Simple(rest.to_owned())),
        "-" => bail!("redis error: {rest}"),
        ":" => Ok(Reply::Int(rest.parse().context("RESP integer")?)),
        "$" => read_bulk(r, rest.parse().context("RESP bulk length")?),
        "*" => {
            let n: i64 = rest.parse().context("RESP array length")?;
            if n < 0 {
                return Ok(Reply::Array(None));
            }
            (0..n)
                .map(|_| read_reply(r))
                .collect::<anyhow::Result<_>>()
                .map(|v| Reply::Array(Some(v)))
        }
        other => bail!("unexpected RESP type {other:?}"),
    }
}

fn read_bulk(r: &mut impl BufRead, len: i64) -> anyhow::Result<Reply> {
    let Ok(len) = usize::try_from(len) else { return Ok(Reply::Bulk(None)) };
    if len > MAX_BULK {
        bail!("RESP bulk of {len} bytes is over the {MAX_BULK}-byte limit");
    }
    let mut buf = vec![0; len + 2];
    r.read_exact(&mut buf)?;
    buf.truncate(len);
    Ok(Reply::Bulk(Some(String::from_utf8_lossy(&buf).into_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_resp_arrays_of_bulk_strings() {
        assert_eq!(encode(&["SET", "k", ""]), b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
    }

    #[test]
    fn replies_are_parsed() {
        let parse = |b: &[u8]| read_reply(&mut BufReader::new(b));
        assert_eq!(parse(b"+OK\r\n").expect("ok"), Reply::Simple("OK".into()));
        assert_eq!(parse(b":-3\r\n").expect("ok"), Reply::Int(-3));
        assert_eq!(parse(b"$-1\r\n").expect("ok"), Reply::Bulk(None));
        let arr = parse(b"*2\r\n$1\r\na\r\n$2\r\nbc\r\n").expect("ok");
        assert_eq!(arr.text(), "a\nbc");
        assert!(parse(b"-ERR wrong\r\n").expect_err("refused").to_string().contains("ERR wrong"));
        assert!(parse(b"$5\r\nab").is_err());
        assert!(parse(b"?x\r\n").is_err());
    }
}
