//! A real etcd for tests: members on loopback ports, their data in a
//! temporary directory, killed and removed when the cluster is dropped.
//!
//! The binary is `$SELINUX_MCS_ETCD`, else `etcd` on `PATH` (Debian's
//! `etcd-server`). Without one, [`Cluster::start`] returns `None` and the
//! test says it skipped, unless `SELINUX_MCS_REQUIRE_ETCD=1` (CI sets it),
//! when it panics: a test that needs etcd must not pass without it.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One member of a test cluster.
#[derive(Debug)]
pub struct Member {
    name: String,
    client: u16,
    peer: u16,
    child: Option<Child>,
}

impl Member {
    /// `127.0.0.1:port` of its client URL.
    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.client)
    }

    /// Whether its process runs.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }
}

/// A cluster of etcd members on loopback.
#[derive(Debug)]
pub struct Cluster {
    binary: PathBuf,
    dir: tempfile::TempDir,
    token: String,
    members: Vec<Member>,
}

fn required() -> bool {
    std::env::var_os("SELINUX_MCS_REQUIRE_ETCD").is_some_and(|v| v == "1")
}

fn find_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SELINUX_MCS_ETCD") {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("etcd"))
            .find(|p| p.is_file())
    })
}

/// A port nothing listens on now (the kernel's pick; another process may
/// take it before etcd does, in which case the start is retried).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind a loopback port")
}

impl Cluster {
    /// Starts `size` members and waits until the cluster has a leader.
    /// `None` (after saying so on stderr) when there is no etcd binary and
    /// `SELINUX_MCS_REQUIRE_ETCD` is not `1`.
    pub fn start(size: usize) -> Option<Cluster> {
        Cluster::start_in(size, None)
    }

    /// [`start`](Self::start) with the data under `base` (a benchmark
    /// keeps it on disk; `/tmp` may be a tmpfs) instead of the system's
    /// temporary directory.
    pub fn start_in(size: usize, base: Option<&Path>) -> Option<Cluster> {
        let Some(binary) = find_binary() else {
            assert!(
                !required(),
                "SELINUX_MCS_REQUIRE_ETCD=1 but no etcd binary (install etcd-server, or set SELINUX_MCS_ETCD)"
            );
            eprintln!("skipping: no etcd binary (install etcd-server; SELINUX_MCS_REQUIRE_ETCD=1 makes this a failure)");
            return None;
        };
        let mut last = String::new();
        for _ in 0..3 {
            let dir = match base {
                Some(base) => tempfile::tempdir_in(base),
                None => tempfile::tempdir(),
            }
            .expect("tempdir");
            let token = format!(
                "selinux-mcs-test-{}-{}",
                std::process::id(),
                dir.path()
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            );
            let members = (0..size)
                .map(|i| Member {
                    name: format!("m{i}"),
                    client: free_port(),
                    peer: free_port(),
                    child: None,
                })
                .collect();
            let mut cluster = Cluster {
                binary: binary.clone(),
                dir,
                token,
                members,
            };
            for i in 0..size {
                cluster.spawn(i, "new");
            }
            match cluster.wait_for_leader(Duration::from_secs(30)) {
                Ok(_) => return Some(cluster),
                Err(e) => last = format!("{e}\n{}", cluster.logs()),
            }
        }
        panic!("etcd did not start: {last}");
    }

    fn spawn(&mut self, i: usize, state: &str) {
        let initial: Vec<String> = self
            .members
            .iter()
            .map(|m| format!("{}=http://127.0.0.1:{}", m.name, m.peer))
            .collect();
        let m = &self.members[i];
        let data = self.dir.path().join(&m.name);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join(format!("{}.log", m.name)))
            .expect("log file");
        let err = log.try_clone().expect("log file");
        let child = Command::new(&self.binary)
            .arg("--name")
            .arg(&m.name)
            .arg("--data-dir")
            .arg(&data)
            .arg(format!(
                "--listen-client-urls=http://127.0.0.1:{}",
                m.client
            ))
            .arg(format!(
                "--advertise-client-urls=http://127.0.0.1:{}",
                m.client
            ))
            .arg(format!("--listen-peer-urls=http://127.0.0.1:{}", m.peer))
            .arg(format!(
                "--initial-advertise-peer-urls=http://127.0.0.1:{}",
                m.peer
            ))
            .arg(format!("--initial-cluster={}", initial.join(",")))
            .arg(format!("--initial-cluster-state={state}"))
            .arg(format!("--initial-cluster-token={}", self.token))
            // Elections within about a second on a busy two-core machine.
            .arg("--heartbeat-interval=100")
            .arg("--election-timeout=1000")
            .arg("--logger=zap")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .expect("spawn etcd");
        self.members[i].child = Some(child);
    }

    /// The members.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// `etcd://` with every member, and `prefix`.
    pub fn url(&self, prefix: &str) -> String {
        let eps: Vec<String> = self.members.iter().map(Member::endpoint).collect();
        format!(
            "etcd://{}/{}",
            eps.join(","),
            prefix.trim_start_matches('/')
        )
    }

    /// SIGKILLs member `i` (its data stays for a restart).
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.members[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts member `i` again from its data directory.
    pub fn restart(&mut self, i: usize) {
        assert!(self.members[i].child.is_none(), "member {i} runs");
        self.spawn(i, "existing");
    }

    /// The index of the member that leads, as the running members see it.
    pub fn leader(&self) -> Option<usize> {
        for m in self.members.iter().filter(|m| m.is_running()) {
            let Some(st) = status(m.client) else {
                continue;
            };
            let leader = st.get("leader").and_then(id_of);
            let me = st
                .get("header")
                .and_then(|h| h.get("member_id"))
                .and_then(id_of);
            if let (Some(leader), Some(me)) = (leader, me) {
                if leader == 0 {
                    continue;
                }
                if leader == me {
                    return self.members.iter().position(|x| x.client == m.client);
                }
                // Ask the others who they are.
                for (j, other) in self.members.iter().enumerate() {
                    if !other.is_running() {
                        continue;
                    }
                    let id = status(other.client).and_then(|s| {
                        s.get("header")
                            .and_then(|h| h.get("member_id"))
                            .and_then(id_of)
                    });
                    if id == Some(leader) {
                        return Some(j);
                    }
                }
            }
        }
        None
    }

    /// Waits until a running member reports a leader.
    pub fn wait_for_leader(&self, within: Duration) -> Result<usize, String> {
        let start = Instant::now();
        while start.elapsed() < within {
            if let Some(i) = self.leader() {
                return Ok(i);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("no etcd leader after {within:?}"))
    }

    /// The members' logs, for a failure message.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for m in &self.members {
            let path = self.dir.path().join(format!("{}.log", m.name));
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            out.push_str(&format!("--- {} ({})\n", m.name, path.display()));
            for line in tail.into_iter().rev() {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    /// The temporary directory holding the members' data.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.members.len() {
            self.kill(i);
        }
    }
}

/// etcd's JSON gateway answers uint64 as strings.
fn id_of(v: &serde_json::Value) -> Option<u64> {
    match v {
        serde_json::Value::String(s) => s.parse().ok(),
        serde_json::Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// `POST /v3/maintenance/status` on etcd's HTTP gateway.
fn status(port: u16) -> Option<serde_json::Value> {
    post(port, "/v3/maintenance/status", "{}")
}

/// A JSON request to etcd's HTTP gateway.
fn post(port: u16, path: &str, body: &str) -> Option<serde_json::Value> {
    let mut s = TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(500),
    )
    .ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    let (head, body) = resp.split_once("\r\n\r\n")?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = String::new();
        let mut rest = body;
        loop {
            let (size, after) = rest.split_once("\r\n")?;
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            if size == 0 {
                break;
            }
            out.push_str(after.get(..size)?);
            rest = after.get(size + 2..)?;
        }
        out
    } else {
        body.to_owned()
    };
    serde_json::from_str(body.trim()).ok()
}

impl Cluster {
    /// Writes `key` = `value` through a running member's JSON gateway (for
    /// tests that plant foreign or damaged keys).
    pub fn put(&self, key: &str, value: &str) {
        let m = self
            .members
            .iter()
            .find(|m| m.is_running())
            .expect("a running member");
        let body = format!(
            "{{\"key\":\"{}\",\"value\":\"{}\"}}",
            base64(key.as_bytes()),
            base64(value.as_bytes())
        );
        let answer = post(m.client, "/v3/kv/put", &body).expect("etcd put");
        assert!(answer.get("header").is_some(), "put {key}: {answer}");
    }
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
