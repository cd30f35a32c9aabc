//! The server process's own figures for the console: CPU time from `/proc/self/stat` and
//! resident memory from `/proc/self/status` (Linux only; `None` elsewhere).

/// Clock ticks per second of `/proc/self/stat`'s times: Linux's `USER_HZ`, 100 on every
/// architecture it exports to user space.
const USER_HZ: f64 = 100.0;

/// CPU time used by the process (user + system), seconds.
pub(crate) fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    cpu_seconds_of(&stat)
}

/// Parses `utime` and `stime` (fields 14 and 15) from a `/proc/<pid>/stat` line; the command
/// name (field 2, in parentheses) may contain spaces, so fields are counted after its `)`.
fn cpu_seconds_of(stat: &str) -> Option<f64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / USER_HZ)
}

/// Resident memory, bytes.
pub(crate) fn resident_bytes() -> Option<u64> {
    crate::metrics::resident_memory_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utime_and_stime_after_the_command_name() {
        let line = "4242 (tick wire) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 9 0 100 0 0";
        assert_eq!(cpu_seconds_of(line), Some(3.0));
        assert_eq!(cpu_seconds_of("garbage"), None);
        if cfg!(target_os = "linux") {
            assert!(cpu_seconds().is_some());
            assert!(resident_bytes().is_some_and(|b| b > 0));
        }
    }
}
