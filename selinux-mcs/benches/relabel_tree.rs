//! Relabel benchmark: builds a tree in a temporary directory and measures,
//! in one run, this crate's relabel changing every label, the same with
//! nothing to change, `chcon -R -h -P` changing every label, and a floor
//! (one `lsetxattr` per path from a prepared list, one thread). It also
//! times the first labeling of a fresh, unlabeled tree (this relabel on the
//! tree, chcon on an identical twin). Every step prints wall-clock and CPU
//! time: on a shared machine the CPU figures are the steadier ones.
//!
//! ```text
//! cargo bench -p selinux-mcs --bench relabel_tree                  # 100,000 files, ~1,000 dirs
//! cargo bench -p selinux-mcs --bench relabel_tree -- --files 1000000 --rss
//! ```
//!
//! `--rss` measures the peak RSS of a relabel in a child process (the
//! bench's own memory, which holds the floor's path list, does not count).
//! Options: `--files N` (default 100000), `--dirs N` (default files/100),
//! `--threads N` (default: all cores), `--rounds N` (default 5; medians
//! are reported), `--dir PATH` (where the temporary tree goes; default the
//! system temp dir), `--no-chcon`, `--by-directory`.
//!
//! By default the files are created round-robin across the directories
//! (file i in directory i mod N), so that one directory's files have
//! interleaved inode numbers, far apart on disk and in the kernel's caches:
//! the hard case. `--by-directory` creates them one directory after the
//! other, as `tar`, `cp -r` or a package install do, so that a directory's
//! files have neighbouring inodes.
//!
//! `chcon` runs with `-h` (label symlinks themselves, not what they point
//! to) and `-P` (do not traverse symlinks; chcon's default with `-R`), so
//! it does the same work as the relabel.

use std::ffi::CString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use selinux_mcs::label::{Relabel, Report, Target};
use selinux_mcs::SecurityContext;

const LABELS: [&str; 2] = [
    "system_u:object_r:container_file_t:s0",
    "system_u:object_r:container_file_t:s0:c1,c2",
];

struct Opts {
    files: usize,
    dirs: Option<usize>,
    threads: usize,
    dir: Option<PathBuf>,
    chcon: bool,
    rss: bool,
    rounds: usize,
    relabel_only: Option<(PathBuf, String)>,
    by_directory: bool,
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        files: 100_000,
        dirs: None,
        threads: 0,
        dir: None,
        chcon: true,
        rss: false,
        rounds: 5,
        relabel_only: None,
        by_directory: false,
    };
    let mut args = std::env::args().skip(1);
    let num = |v: Option<String>, what: &str| -> usize {
        v.and_then(|v| v.replace('_', "").parse().ok())
            .unwrap_or_else(|| panic!("{what} needs a number"))
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--files" => o.files = num(args.next(), "--files"),
            "--dirs" => o.dirs = Some(num(args.next(), "--dirs")),
            "--threads" => o.threads = num(args.next(), "--threads"),
            "--rounds" => o.rounds = num(args.next(), "--rounds").max(1),
            "--dir" => o.dir = args.next().map(PathBuf::from),
            "--no-chcon" => o.chcon = false,
            "--by-directory" => o.by_directory = true,
            "--rss" => o.rss = true,
            "--relabel-only" => {
                let path = args
                    .next()
                    .map(PathBuf::from)
                    .expect("--relabel-only PATH CTX");
                let ctx = args.next().expect("--relabel-only PATH CTX");
                o.relabel_only = Some((path, ctx));
            }
            _ => {} // --bench and friends from cargo
        }
    }
    o
}

fn ctx(s: &str) -> SecurityContext {
    s.parse().expect("a valid benchmark label")
}

/// Builds `files` entries in about `dirs` directories (two levels), 2% of
/// them symlinks (to a sibling, to a path outside the tree, dangling),
/// round-robin across the directories or one directory after the other.
/// Returns (directories, regular files, symlinks).
fn build_tree(root: &Path, files: usize, dirs: usize, by_directory: bool) -> (usize, usize, usize) {
    let top = ((dirs as f64).sqrt().ceil() as usize).max(1);
    let per_top = dirs.div_ceil(top).saturating_sub(1).max(1);
    let mut leaves = Vec::new();
    let mut ndirs = 0;
    for t in 0..top {
        let d = root.join(format!("d{t:03}"));
        std::fs::create_dir(&d).expect("mkdir");
        ndirs += 1;
        leaves.push(d.clone());
        for s in 0..per_top {
            if ndirs >= dirs {
                break;
            }
            let sub = d.join(format!("s{s:03}"));
            std::fs::create_dir(&sub).expect("mkdir");
            ndirs += 1;
            leaves.push(sub);
        }
    }
    let (mut nfiles, mut nlinks) = (0, 0);
    let per_leaf = files.div_ceil(leaves.len());
    for i in 0..files {
        let dir = if by_directory {
            &leaves[(i / per_leaf).min(leaves.len() - 1)]
        } else {
            &leaves[i % leaves.len()]
        };
        let name = dir.join(format!("f{i:07}"));
        if i % 50 == 49 {
            let target = match i % 150 {
                49 => PathBuf::from(format!("f{:07}", i - 1)),
                99 => PathBuf::from("/etc/passwd"),
                _ => PathBuf::from("/nonexistent/target"),
            };
            std::os::unix::fs::symlink(target, &name).expect("symlink");
            nlinks += 1;
        } else {
            std::fs::File::create(&name).expect("create");
            nfiles += 1;
        }
    }
    (ndirs, nfiles, nlinks)
}

/// User + system CPU time of this process (all threads) or of its waited-for
/// children.
fn cpu(who: libc::c_int) -> Duration {
    // SAFETY: getrusage only writes the struct it is given, a live local.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable rusage.
    let rc = unsafe { libc::getrusage(who, &mut ru) };
    assert_eq!(rc, 0, "getrusage");
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Wall-clock and CPU time of one measured step.
#[derive(Clone, Copy)]
struct Took {
    wall: Duration,
    cpu: Duration,
}

fn measure<T>(who: libc::c_int, f: impl FnOnce() -> T) -> (Took, T) {
    let (c0, w0) = (cpu(who), Instant::now());
    let out = f();
    let took = Took {
        wall: w0.elapsed(),
        cpu: cpu(who).saturating_sub(c0),
    };
    (took, out)
}

fn relabel(root: &Path, label: &str, threads: usize) -> (Took, Report) {
    measure(libc::RUSAGE_SELF, || relabel_untimed(root, label, threads))
}

fn relabel_untimed(root: &Path, label: &str, threads: usize) -> Report {
    let report = Relabel::new(Target::Context(ctx(label)))
        .threads(threads)
        .run(root)
        .expect("relabel runs");
    assert_eq!(report.failed, 0, "{:?}", report.failures.first());
    report
}

fn chcon(root: &Path, label: &str) -> Took {
    let (took, status) = measure(libc::RUSAGE_CHILDREN, || {
        Command::new("chcon")
            .args(["-R", "-h", "-P", label])
            .arg(root)
            .status()
            .expect("run chcon")
    });
    assert!(status.success(), "chcon failed");
    took
}

/// Every path of the tree (the root last), as C strings, collected without
/// following symlinks.
fn all_paths(root: &Path) -> Vec<CString> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let e = e.expect("dir entry");
            let p = e.path();
            if e.file_type().expect("file type").is_dir() {
                stack.push(p.clone());
            }
            out.push(CString::new(p.as_os_str().as_bytes()).expect("no NUL"));
        }
    }
    out.push(CString::new(root.as_os_str().as_bytes()).expect("no NUL"));
    out
}

fn floor(paths: &[CString], label: &str) -> Took {
    let value = ctx(label).to_xattr_value();
    measure(libc::RUSAGE_SELF, || {
        for p in paths {
            rustix::fs::lsetxattr(
                p.as_c_str(),
                "security.selinux",
                &value,
                rustix::fs::XattrFlags::empty(),
            )
            .expect("lsetxattr");
        }
    })
    .0
}

fn line(name: &str, t: Took, entries: usize) {
    println!(
        "{name:<44} {:>7.3} s {:>9.0} entries/s  (CPU {:.3} s)",
        t.wall.as_secs_f64(),
        entries as f64 / t.wall.as_secs_f64(),
        t.cpu.as_secs_f64(),
    );
}

/// Peak RSS of the largest waited-for child, in KiB.
fn children_maxrss_kib() -> i64 {
    // SAFETY: getrusage only writes the struct it is given, a live local.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable rusage.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    assert_eq!(rc, 0, "getrusage");
    ru.ru_maxrss
}

fn main() {
    let o = parse_opts();
    if let Some((path, label)) = &o.relabel_only {
        let (t, r) = relabel(path, label, o.threads);
        println!(
            "child: {:.3} s, visited {}, changed {}",
            t.wall.as_secs_f64(),
            r.visited,
            r.changed
        );
        return;
    }
    let dirs = o.dirs.unwrap_or((o.files / 100).max(1));
    let tmp = match &o.dir {
        Some(d) => tempfile::Builder::new()
            .prefix("relabel-bench")
            .tempdir_in(d),
        None => tempfile::Builder::new().prefix("relabel-bench").tempdir(),
    }
    .expect("temporary directory");
    let root = tmp.path().join("tree");
    std::fs::create_dir(&root).expect("mkdir");
    let threads = if o.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        o.threads
    };
    print!("building {} files in {} directories ... ", o.files, dirs);
    let _ = std::io::stdout().flush();
    let start = Instant::now();
    let (nd, nf, nl) = build_tree(&root, o.files, dirs, o.by_directory);
    let entries = nd + nf + nl + 1;
    println!("{:.1} s", start.elapsed().as_secs_f64());
    println!(
        "tree: {} ({nd} dirs, {nf} files, {nl} symlinks; {entries} entries, created {}), {threads} threads",
        root.display(),
        if o.by_directory { "directory by directory" } else { "round-robin across directories" }
    );

    if o.rss {
        let exe = std::env::current_exe().expect("current exe");
        for (what, label) in [
            ("changing every label", LABELS[1]),
            ("nothing to change", LABELS[1]),
        ] {
            let (t, out) = measure(libc::RUSAGE_CHILDREN, || {
                Command::new(&exe)
                    .arg("--relabel-only")
                    .arg(&root)
                    .arg(label)
                    .args(["--threads", &o.threads.to_string()])
                    .output()
                    .expect("run the child")
            });
            assert!(out.status.success(), "child failed");
            line(&format!("relabel, {what} (child process)"), t, entries);
            println!(
                "  peak RSS of the largest child so far: {:.1} MiB",
                children_maxrss_kib() as f64 / 1024.0
            );
        }
        return;
    }

    // First labels on fresh, unlabeled trees: this relabel on `tree`, chcon
    // on an identical second tree.
    let (fresh, r) = relabel(&root, LABELS[0], threads);
    assert_eq!(r.changed as usize, entries);
    line("relabel (fresh tree: no labels yet)", fresh, entries);
    if o.chcon {
        let twin = tmp.path().join("twin");
        std::fs::create_dir(&twin).expect("mkdir");
        build_tree(&twin, o.files, dirs, o.by_directory);
        let t = chcon(&twin, LABELS[0]);
        line("chcon -R -h -P (fresh twin tree)", t, entries);
        println!(
            "  chcon / relabel on a fresh tree: {:.2}x wall, {:.2}x CPU",
            t.wall.as_secs_f64() / fresh.wall.as_secs_f64(),
            t.cpu.as_secs_f64() / fresh.cpu.as_secs_f64()
        );
    }

    // Rounds of: chcon changing every label, this relabel changing every
    // label, this relabel with nothing to change, the floor. Every step
    // writes a label the tree does not have yet (but the unchanged run).
    let mut steps: [Vec<Took>; 4] = Default::default();
    let mut n = 10;
    let mut next_label = || {
        n += 2;
        format!("system_u:object_r:container_file_t:s0:c{},c{}", n, n + 1)
    };
    let paths = all_paths(&root);
    assert_eq!(paths.len(), entries);
    for round in 1..=o.rounds {
        println!("round {round}:");
        if o.chcon {
            let t = chcon(&root, &next_label());
            line("  chcon -R -h -P (change every label)", t, entries);
            steps[0].push(t);
        }
        let label = next_label();
        let (t, r) = relabel(&root, &label, threads);
        assert_eq!(r.changed as usize, entries);
        line("  relabel (change every label)", t, entries);
        steps[1].push(t);
        let (t, r) = relabel(&root, &label, threads);
        assert_eq!(r.changed, 0);
        line("  relabel (nothing to change)", t, entries);
        steps[2].push(t);
        let t = floor(&paths, &next_label());
        line("  floor: lsetxattr per listed path, 1 thread", t, entries);
        steps[3].push(t);
    }

    // Medians: the machine may be shared, and one lucky or unlucky run
    // should not decide.
    let median = |v: &[Took]| -> Option<Took> {
        let mut walls: Vec<Took> = v.to_vec();
        walls.sort_by_key(|t| t.wall);
        let mut cpus: Vec<Duration> = v.iter().map(|t| t.cpu).collect();
        cpus.sort();
        Some(Took {
            wall: walls.get(walls.len() / 2)?.wall,
            cpu: *cpus.get(cpus.len() / 2)?,
        })
    };
    let [c, change, unchanged, f] = steps.each_ref().map(|v| median(v));
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    let say = |what: &str, a: Option<Took>, b: Option<Took>| {
        if let (Some(a), Some(b)) = (a, b) {
            println!(
                "{what}: {:.2}x wall, {:.2}x CPU",
                ratio(a.wall, b.wall),
                ratio(a.cpu, b.cpu)
            );
        }
    };
    println!("\nmedians of {} rounds:", o.rounds);
    for (name, t) in [
        ("chcon -R -h -P (change every label)", c),
        ("relabel (change every label)", change),
        ("relabel (nothing to change)", unchanged),
        ("floor: lsetxattr per listed path, 1 thread", f),
    ] {
        if let Some(t) = t {
            line(&format!("  {name}"), t, entries);
        }
    }
    say("chcon / relabel, changing every label", c, change);
    say(
        "chcon / relabel with nothing to change (chcon always writes)",
        c,
        unchanged,
    );
    say("changing / unchanged relabel", change, unchanged);
    say("relabel changing / floor", change, f);
}
