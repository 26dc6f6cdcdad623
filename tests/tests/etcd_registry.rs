//! The registry on a real etcd (feature `etcd`): members the tests start on
//! loopback ports, with their data in a temporary directory, killed when
//! each test ends (`selinux_mcs_tests::etcd`). Skipped without an etcd
//! binary unless `SELINUX_MCS_REQUIRE_ETCD=1` (CI), when they fail.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::collections::HashSet;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use selinux_mcs::mcs::{InUse, Location, McsError, PairSpace, Registry, RegistryOptions};
use selinux_mcs::mls::Level;
use selinux_mcs_tests::etcd::{free_port, Cluster};

const WORKER: &str = env!("CARGO_BIN_EXE_mcs-worker");

fn level(text: &str) -> Level {
    text.parse().unwrap()
}

fn open(url: &str) -> Registry {
    open_with(url, RegistryOptions::new())
}

fn open_with(url: &str, mut options: RegistryOptions) -> Registry {
    options
        .timeout(Duration::from_secs(20))
        .open(&Location::parse(url).unwrap())
        .unwrap()
}

fn worker(url: &str, prefix: &str, count: u64, timeout_ms: u64) -> Command {
    let mut cmd = Command::new(WORKER);
    cmd.arg(url).arg(prefix).arg(count.to_string());
    cmd.env("MCS_WORKER_TIMEOUT_MS", timeout_ms.to_string());
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

/// Waits for the workers; each line they printed, per worker.
fn collect(children: Vec<Child>) -> Vec<(std::process::ExitStatus, Vec<String>, String)> {
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            let lines = String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect();
            (
                out.status,
                lines,
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        })
        .collect()
}

#[test]
fn the_api_keeps_sqlites_promises_on_etcd() {
    let Some(cluster) = Cluster::start(1) else {
        return;
    };
    let url = cluster.url("api");
    // A read-only open of an empty prefix creates nothing.
    let e = RegistryOptions::new()
        .read_only(true)
        .open(&Location::parse(&url).unwrap())
        .unwrap_err();
    assert!(matches!(e, McsError::NoRegistry { .. }), "{e}");

    let reg = open(&url);
    assert!(reg.is_empty().unwrap());
    let vol = reg.allocate_for("volume:pgdata").unwrap();
    assert_eq!(reg.allocate_for("volume:pgdata").unwrap().level, vol.level);
    // Another handle (another process, another host) sees it.
    let other = open(&url);
    assert_eq!(
        other.allocate_for("volume:pgdata").unwrap().level,
        vol.level
    );
    assert_eq!(
        other.get("volume:pgdata").unwrap().unwrap().level,
        vol.level
    );
    assert_eq!(
        other.holder(&vol.level).unwrap().unwrap().owner,
        "volume:pgdata"
    );

    // One pair, one owner; one owner, one pair; reserve is idempotent.
    let l12 = level("s0:c1,c2");
    reg.reserve(&l12, "container:web").unwrap();
    assert_eq!(other.reserve(&l12, "container:web").unwrap().level, l12);
    let e = other.reserve(&l12, "container:other").unwrap_err();
    assert!(
        matches!(&e, McsError::Taken { owner: Some(o), .. } if o == "container:web"),
        "{e}"
    );
    let e = other
        .reserve(&level("s0:c3,c4"), "container:web")
        .unwrap_err();
    assert!(matches!(e, McsError::OwnerHoldsOther { .. }), "{e}");
    let e = reg.reserve(&vol.level, "x").unwrap_err();
    assert!(matches!(e, McsError::Taken { .. }), "{e}");
    // Not a pair, reserved by convention, a bad owner.
    assert!(matches!(
        reg.reserve(&level("s0:c1"), "z"),
        Err(McsError::NotAPair { .. })
    ));
    assert!(matches!(
        reg.reserve(&level("s0:c1022,c1023"), "z"),
        Err(McsError::Reserved { .. })
    ));
    assert!(matches!(
        reg.allocate_for("a\nb"),
        Err(McsError::BadOwner { .. })
    ));

    // Anonymous pairs own themselves; a batch is all or nothing.
    let anon = reg.allocate_anonymous(3).unwrap();
    for e in &anon {
        assert_eq!(e.owner, format!("pair:{}", e.level));
    }
    let many = reg
        .allocate_many(&["m1", "m2", "m1", "volume:pgdata"])
        .unwrap();
    assert_eq!(many.len(), 4);
    assert_eq!(many[0].level, many[2].level);
    assert_eq!(many[3].level, vol.level);
    let e = reg.allocate_anonymous(64).unwrap_err();
    assert!(
        matches!(e, McsError::BatchTooLarge { asked: 64, max: 63 }),
        "{e}"
    );
    assert_eq!(reg.len().unwrap(), 2 + 3 + 2);

    // list: oldest first, then by owner; everything parses and matches.
    let listed = other.list().unwrap();
    assert_eq!(listed.len(), 7);
    let levels: HashSet<Level> = listed.iter().map(|e| e.level).collect();
    assert_eq!(levels.len(), 7);
    assert!(listed
        .windows(2)
        .all(|w| (w[0].created, &w[0].owner) <= (w[1].created, &w[1].owner)));
    other.check().unwrap();

    // Release by owner and by level; releasing nothing is None.
    assert_eq!(
        reg.release_owner("volume:pgdata").unwrap().unwrap().level,
        vol.level
    );
    assert!(reg.release_owner("volume:pgdata").unwrap().is_none());
    assert_eq!(
        other.release_level(&l12).unwrap().unwrap().owner,
        "container:web"
    );
    assert!(other.release_level(&l12).unwrap().is_none());
    assert!(reg.get("container:web").unwrap().is_none());
    assert_eq!(reg.len().unwrap(), 5);

    // Read-only handles read and refuse to write.
    let ro = RegistryOptions::new()
        .read_only(true)
        .open(&Location::parse(&url).unwrap())
        .unwrap();
    assert_eq!(ro.list().unwrap().len(), 5);
    assert!(matches!(
        ro.allocate_for("x"),
        Err(McsError::ReadOnly { .. })
    ));
    assert!(matches!(
        ro.release_owner("m1"),
        Err(McsError::ReadOnly { .. })
    ));
    assert_eq!(ro.len().unwrap(), 5);
}

#[test]
fn a_tiny_pool_is_used_up_uniformly_then_exhausted() {
    let Some(cluster) = Cluster::start(1) else {
        return;
    };
    let url = cluster.url("tiny");
    let space = PairSpace::new("c4.c9".parse().unwrap()).unwrap(); // 15 pairs
    let mut options = RegistryOptions::new();
    options.space(space.clone());
    let a = open_with(&url, options.clone());
    let b = open_with(&url, options);
    assert_eq!(a.available().unwrap(), 15);
    let e = a.allocate_anonymous(16).unwrap_err();
    assert_eq!(
        e.to_string(),
        "asked for 16 pairs; the pool has 15 free of 15"
    );
    let mut seen = HashSet::new();
    for i in 0..15 {
        let reg = if i % 2 == 0 { &a } else { &b };
        assert!(seen.insert(reg.allocate_for(&format!("o{i}")).unwrap().level));
    }
    let e = b.allocate_for("one-more").unwrap_err();
    assert!(matches!(e, McsError::Exhausted { capacity: 15, .. }), "{e}");
    // An owner that holds a pair still gets it from a full pool.
    assert!(seen.contains(&a.allocate_for("o3").unwrap().level));
    // A pair released by one handle is drawn by the other.
    let freed = a.release_owner("o0").unwrap().unwrap().level;
    assert_eq!(b.available().unwrap(), 1);
    assert_eq!(b.allocate_for("late").unwrap().level, freed);

    // Uniform: from a fresh prefix, each of 15 pairs comes first about
    // equally often (chi-square, 14 degrees of freedom, p < 0.001 is 36.1).
    let mut counts = [0u32; 15];
    let rounds = 300;
    let c = open_with(&cluster.url("uniform"), {
        let mut o = RegistryOptions::new();
        o.space(space.clone());
        o
    });
    for r in 0..rounds {
        let e = c.allocate_for(&format!("u{r}")).unwrap();
        counts[space.rank(&e.pair().unwrap()).unwrap()] += 1;
        c.release_owner(&format!("u{r}")).unwrap();
    }
    let expected = f64::from(rounds) / 15.0;
    let chi: f64 = counts
        .iter()
        .map(|&n| (f64::from(n) - expected).powi(2) / expected)
        .sum();
    assert!(
        chi < 36.1,
        "draws are not uniform: {counts:?} (chi-square {chi:.1})"
    );
}

#[test]
fn a_prefix_of_another_program_or_a_newer_version_is_refused() {
    let Some(cluster) = Cluster::start(1) else {
        return;
    };
    cluster.put("/theirs/config", "{}");
    let e = RegistryOptions::new()
        .open(&Location::parse(cluster.url("theirs")).unwrap())
        .unwrap_err();
    assert!(matches!(e, McsError::NotARegistry { .. }), "{e}");
    assert!(e.to_string().contains("another program's keys"), "{e}");

    cluster.put(
        "/newer/meta",
        r#"{"format":"selinux-mcs registry","version":9}"#,
    );
    let e = RegistryOptions::new()
        .open(&Location::parse(cluster.url("newer")).unwrap())
        .unwrap_err();
    assert!(
        matches!(e, McsError::UnsupportedVersion { found: 9, .. }),
        "{e}"
    );

    // A damaged entry is reported by check(), naming the key.
    let reg = open(&cluster.url("damaged"));
    reg.allocate_for("fine").unwrap();
    cluster.put(
        "/damaged/owners/ghost",
        r#"{"owner":"ghost","level":"s0:c1,c2","created":0}"#,
    );
    let e = reg.check().unwrap_err();
    assert!(matches!(e, McsError::Corrupt { .. }), "{e}");
    assert!(e.to_string().contains("ghost"), "{e}");
}

#[test]
fn an_unreachable_etcd_fails_within_the_timeout_naming_the_endpoints() {
    // Needs no etcd: nothing listens on these ports.
    let (p1, p2) = (free_port(), free_port());
    let url = format!("etcd://127.0.0.1:{p1},127.0.0.1:{p2}/x");
    let start = Instant::now();
    let e = RegistryOptions::new()
        .timeout(Duration::from_millis(1500))
        .open(&Location::parse(&url).unwrap())
        .unwrap_err();
    let took = start.elapsed();
    assert!(matches!(e, McsError::Unavailable { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains(&format!("127.0.0.1:{p1},127.0.0.1:{p2}")),
        "{text}"
    );
    assert!(
        took >= Duration::from_millis(1400),
        "gave up early: {took:?}"
    );
    assert!(took < Duration::from_secs(4), "not bounded: {took:?}");
}

#[test]
fn eight_processes_allocate_200_pairs_each_without_a_duplicate() {
    let Some(cluster) = Cluster::start(1) else {
        return;
    };
    let url = cluster.url("eight");
    drop(open(&url)); // the marker, so that the workers race on pairs only
    let children: Vec<Child> = (0..8)
        .map(|i| worker(&url, &format!("w{i}"), 200, 30_000).spawn().unwrap())
        .collect();
    let mut printed = HashSet::new();
    for (status, lines, err) in collect(children) {
        assert!(status.success(), "worker failed: {err}\n{}", cluster.logs());
        assert_eq!(lines.len(), 200);
        for line in lines {
            assert!(printed.insert(level(&line)), "pair {line} handed out twice");
        }
    }
    assert_eq!(printed.len(), 1600);
    let reg = open(&url);
    let listed: HashSet<Level> = reg.list().unwrap().into_iter().map(|e| e.level).collect();
    assert_eq!(listed, printed, "list differs from what was printed");
    reg.check().unwrap();
}

#[test]
fn one_owner_from_16_processes_at_once_gets_one_pair() {
    let Some(cluster) = Cluster::start(1) else {
        return;
    };
    let url = cluster.url("same");
    drop(open(&url));
    for round in 0..3 {
        let prefix = format!("volume:shared{round}");
        let children: Vec<Child> = (0..16)
            .map(|_| worker(&url, &prefix, 1, 30_000).spawn().unwrap())
            .collect();
        let mut levels = HashSet::new();
        for (status, lines, err) in collect(children) {
            assert!(status.success(), "{err}");
            assert_eq!(lines.len(), 1);
            levels.insert(lines[0].clone());
        }
        assert_eq!(levels.len(), 1, "one owner got several pairs: {levels:?}");
        let reg = open(&url);
        let held: Vec<_> = reg
            .list()
            .unwrap()
            .into_iter()
            .filter(|e| e.owner.starts_with(&prefix))
            .collect();
        assert_eq!(held.len(), 1, "{held:?}");
        assert!(levels.contains(&held[0].level.to_string()));
    }
}

#[test]
fn adopt_records_the_pairs_in_use_on_etcd() {
    let Some(cluster) = Cluster::start(1) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let proc_root = dir.path().join("proc");
    for (pid, label) in [
        ("1", "system_u:system_r:init_t:s0-s0:c0.c1023\0"),
        ("20", "system_u:system_r:container_t:s0:c7,c9\0"),
        ("21", "system_u:system_r:container_t:s0:c7,c9\0"),
        ("30", "system_u:system_r:container_t:s0:c1,c2\n"),
        ("31", "garbage"),
    ] {
        let attr = proc_root.join(pid).join("attr");
        std::fs::create_dir_all(&attr).unwrap();
        std::fs::write(attr.join("current"), label).unwrap();
    }
    let reg = open(&cluster.url("adopt"));
    reg.reserve(&level("s0:c1,c2"), "known").unwrap();
    let mut in_use = InUse::new();
    in_use.processes(&proc_root);
    let report = reg.adopt_in_use(&in_use).unwrap();
    assert_eq!(report.adopted.len(), 1, "{report:?}");
    assert_eq!(report.adopted[0].level, level("s0:c7,c9"));
    assert_eq!(
        report.adopted[0].owner,
        format!("adopted:{}", proc_root.join("20").display())
    );
    assert_eq!(report.already_held, 2);
    assert_eq!(report.not_pairs, 1);
    assert_eq!(report.unreadable, 1);
    let again = reg.adopt_in_use(&in_use).unwrap();
    assert!(again.adopted.is_empty());
    assert_eq!(again.already_held, 3);
    let listed = reg.list().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed
        .iter()
        .any(|e| e.source.as_deref() == Some(proc_root.join("20/attr/current").to_str().unwrap())));
    // Nobody can be handed an adopted pair.
    assert!(matches!(
        reg.reserve(&level("s0:c7,c9"), "new"),
        Err(McsError::Taken { .. })
    ));
}

/// Reads each worker's lines as they come, into one shared list.
fn follow(children: &mut [Child]) -> (Arc<Mutex<Vec<String>>>, Vec<std::thread::JoinHandle<()>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let readers = children
        .iter_mut()
        .map(|c| {
            let out = c.stdout.take().unwrap();
            let lines = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    lines.lock().unwrap().push(line);
                }
            })
        })
        .collect();
    (lines, readers)
}

#[test]
fn a_cluster_survives_its_leader_then_refuses_without_quorum() {
    let Some(mut cluster) = Cluster::start(3) else {
        return;
    };
    let url = cluster.url("ha");
    drop(open(&url));
    let mut children: Vec<Child> = (0..4)
        .map(|i| worker(&url, &format!("h{i}"), 150, 60_000).spawn().unwrap())
        .collect();
    let (lines, readers) = follow(&mut children);
    // In the middle of the run: some pairs printed, most to come.
    let start = Instant::now();
    while lines.lock().unwrap().len() < 60 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "workers made no progress\n{}",
            cluster.logs()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let leader = cluster.leader().unwrap();
    cluster.kill(leader);
    let at_kill = lines.lock().unwrap().len();
    for mut child in children {
        let status = child.wait().unwrap();
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        assert!(
            status.success(),
            "a worker failed after the leader died: {err}\n{}",
            cluster.logs()
        );
    }
    for r in readers {
        r.join().unwrap();
    }
    let printed: Vec<String> = lines.lock().unwrap().clone();
    assert_eq!(printed.len(), 600);
    assert!(at_kill < 600, "the leader died after the run");
    let set: HashSet<Level> = printed.iter().map(|l| level(l)).collect();
    assert_eq!(set.len(), 600, "a pair was handed out twice");
    let reg = open(&url);
    let listed: HashSet<Level> = reg.list().unwrap().into_iter().map(|e| e.level).collect();
    assert_eq!(
        listed, set,
        "a printed pair is missing, or an unprinted one is there"
    );
    reg.check().unwrap();

    // A second member down: no quorum. A clear error, in bounded time,
    // and nothing allocated.
    let handle = RegistryOptions::new()
        .timeout(Duration::from_secs(3))
        .open(&Location::parse(&url).unwrap())
        .unwrap();
    handle.available().unwrap(); // loaded while etcd answers
    let running: Vec<usize> = (0..3)
        .filter(|&i| cluster.members()[i].is_running())
        .collect();
    cluster.kill(running[0]);
    let start = Instant::now();
    let e = handle.allocate_for("no-quorum").unwrap_err();
    let took = start.elapsed();
    assert!(matches!(e, McsError::Unavailable { .. }), "{e}");
    assert!(took < Duration::from_secs(8), "not bounded: {took:?}");
    let text = e.to_string();
    for m in cluster.members() {
        assert!(text.contains(&m.endpoint()), "{text}");
    }
    // The same from a worker process: exit 1, nothing printed.
    let out = worker(&url, "nq", 1, 2000).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("etcd gave no answer"));

    // Quorum back: exactly the printed pairs, and allocation works again.
    cluster.restart(running[0]);
    cluster.wait_for_leader(Duration::from_secs(30)).unwrap();
    let reg = open(&url);
    assert!(reg.get("no-quorum").unwrap().is_none());
    assert!(reg.get("nq-0").unwrap().is_none());
    let listed: HashSet<Level> = reg.list().unwrap().into_iter().map(|e| e.level).collect();
    assert_eq!(listed, set);
    let e = reg.allocate_for("after").unwrap();
    assert!(!set.contains(&e.level));
}
