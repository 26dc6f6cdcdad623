//! `FileContexts` load and lookup, on a file_contexts the size of Debian's.
//!
//! The rules: `$SELINUX_MCS_BENCH_FILE_CONTEXTS` if set, else the system's
//! (`/etc/selinux/<SELINUXTYPE>/contexts/files/file_contexts`) if present,
//! else (or when `SELINUX_MCS_BENCH_GENERATED` is set) a generated file of
//! more than 5,000 rules laid out like Debian's.
//! The lookups: a fixed list of a few thousand typical paths with their
//! kinds. Both are written to `$TMPDIR/selinux-mcs-bench/` so libselinux can
//! be timed on exactly the same input:
//!
//! ```text
//! cargo bench -p selinux-mcs --bench file_contexts
//! gcc -O2 -o target/selabel_bench bench/c/selabel_bench.c -lselinux
//! target/selabel_bench bench "$(cat /tmp/selinux-mcs-bench/file_contexts.path)" \
//!     /tmp/selinux-mcs-bench/requests.txt 20
//! ```

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use selinux_mcs::policy::{FileContexts, Root};
use selinux_mcs::FileKind;

const NAMES: &[&str] = &[
    "acpid",
    "apache2",
    "atd",
    "auditd",
    "avahi",
    "bind",
    "chronyd",
    "cron",
    "cups",
    "dbus",
    "dhcpd",
    "dnsmasq",
    "exim4",
    "fail2ban",
    "haproxy",
    "keepalived",
    "lighttpd",
    "memcached",
    "mysql",
    "named",
    "nginx",
    "nscd",
    "ntpd",
    "openvpn",
    "postfix",
    "postgresql",
    "rabbitmq",
    "redis",
    "rsyncd",
    "rsyslog",
    "samba",
    "slapd",
    "smartd",
    "snmpd",
    "squid",
    "ssh",
    "sssd",
    "tor",
    "unbound",
    "varnish",
    "vsftpd",
    "zabbix",
    "podman",
    "docker",
    "containerd",
    "crio",
    "kubelet",
    "libvirt",
    "qemu",
    "systemd",
    "udev",
    "polkit",
    "NetworkManager",
    "firewalld",
    "git",
    "python3",
    "perl",
    "ruby",
    "node",
    "java",
    "bash",
    "coreutils",
    "util-linux",
    "grub",
    "lvm",
    "mdadm",
    "iptables",
    "nftables",
    "wpa_supplicant",
    "bluetooth",
    "pulseaudio",
    "pipewire",
    "gdm3",
    "Xorg",
    "gnome-shell",
    "firefox",
    "thunderbird",
    "vim",
    "emacs",
    "tmux",
];

/// Typical paths, each with a kind (or none), built from `NAMES`.
fn requests() -> Vec<(String, Option<FileKind>)> {
    use FileKind::*;
    let mut out = Vec::new();
    for (i, n) in NAMES.iter().enumerate() {
        let templates: &[(&str, Option<FileKind>)] = &[
            ("/usr/bin/{}", Some(File)),
            ("/usr/sbin/{}", Some(File)),
            ("/usr/lib/x86_64-linux-gnu/lib{}.so.1", Some(File)),
            ("/usr/lib/{}/plugins/mod_{}.so", Some(File)),
            ("/usr/share/doc/{}/README.gz", Some(File)),
            ("/usr/share/{}/data/{}.xml", Some(File)),
            ("/usr/lib/systemd/system/{}.service", Some(File)),
            ("/etc/{}", Some(Dir)),
            ("/etc/{}/{}.conf", Some(File)),
            ("/etc/init.d/{}", Some(File)),
            ("/etc/systemd/system/{}.service", Some(Symlink)),
            ("/var/lib/{}", Some(Dir)),
            ("/var/lib/{}/db/{}.db", Some(File)),
            ("/var/log/{}", Some(Dir)),
            ("/var/log/{}/{}.log", Some(File)),
            ("/var/cache/{}/index", Some(File)),
            ("/run/{}.pid", Some(File)),
            ("/run/{}/{}.sock", Some(Socket)),
            ("/var/run/{}.pid", Some(File)),
            ("/home/user{}/.config/{}/settings", Some(File)),
            ("/home/user{}/.local/share/{}", Some(Dir)),
            ("/tmp/{}-XXXX", Some(File)),
            ("/opt/{}/bin/{}", Some(File)),
            ("/srv/{}/www/index.html", Some(File)),
            (
                "/var/lib/containers/storage/overlay/{}/diff/usr/bin/{}",
                Some(File),
            ),
            ("/usr/local/bin/{}", None),
            ("/dev/{}0", Some(Char)),
        ];
        for (t, kind) in templates {
            let path = t.replacen("{}", n, 1).replacen("{}", &format!("{n}{i}"), 1);
            out.push((path, *kind));
        }
    }
    out
}

/// A file_contexts of more than 5,000 rules, generic rules first, as
/// semodule writes Debian's.
fn generate_file_contexts() -> String {
    let mut fc = String::new();
    let s = |t: &str| format!("system_u:object_r:{t}:s0");
    for (regex, kind, t) in [
        ("/.*", "", "default_t"),
        ("/dev/.*", "", "device_t"),
        ("/etc/.*", "", "etc_t"),
        ("/usr/.*", "", "usr_t"),
        ("/var/.*", "", "var_t"),
        ("/run/.*", "", "var_run_t"),
        ("/opt/.*", "", "usr_t"),
        ("/srv/.*", "", "var_t"),
        ("/tmp/.*", "", "tmp_t"),
        ("/usr/(.*/)?bin(/.*)?", "", "bin_t"),
        ("/usr/(.*/)?lib(/.*)?", "", "lib_t"),
        ("/usr/(.*/)?man(/.*)?", "", "man_t"),
        ("/usr/lib/.*\\.so(\\.[^/]*)*", "--", "lib_t"),
        ("/home/[^/]+/.+", "", "user_home_t"),
    ] {
        let kind = if kind.is_empty() {
            String::new()
        } else {
            format!("\t{kind}")
        };
        let _ = writeln!(fc, "{regex}{kind}\t{}", s(t));
    }
    // 80 names x 65 rules: 5,200 service rules.
    for n in NAMES {
        let t = n.to_lowercase().replace('-', "_");
        let esc = n.replace('.', "\\.");
        for (j, (regex, kind, suffix)) in [
            ("/etc/{}(/.*)?", "", "conf_t"),
            ("/etc/{}/.*\\.conf", "--", "conf_t"),
            ("/etc/{}/secret(/.*)?", "", "secret_t"),
            ("/etc/rc\\.d/init\\.d/{}", "--", "initrc_exec_t"),
            ("/usr/sbin/{}", "--", "exec_t"),
            ("/usr/bin/{}", "--", "exec_t"),
            ("/usr/bin/{}-[^/]*", "--", "exec_t"),
            ("/usr/lib/{}(/.*)?", "", "lib_t"),
            ("/usr/lib/{}/.*\\.so", "--", "lib_t"),
            ("/usr/lib/{}/libexec/.*", "--", "exec_t"),
            ("/usr/share/{}(/.*)?", "", "share_t"),
            ("/usr/lib/systemd/system/{}.*", "--", "unit_t"),
            ("/var/lib/{}(/.*)?", "", "var_lib_t"),
            ("/var/lib/{}/db(/.*)?", "", "db_t"),
            ("/var/log/{}(/.*)?", "", "log_t"),
            ("/var/log/{}\\.log.*", "--", "log_t"),
            ("/var/cache/{}(/.*)?", "", "cache_t"),
            ("/var/spool/{}(/.*)?", "", "spool_t"),
            ("/run/{}(/.*)?", "", "runtime_t"),
            ("/run/{}\\.pid", "--", "runtime_t"),
            ("/run/{}\\.sock", "-s", "runtime_t"),
            ("/home/[^/]+/\\.{}(/.*)?", "", "home_t"),
            ("/home/[^/]+/\\.config/{}(/.*)?", "", "home_t"),
            ("/tmp/{}-.*", "", "tmp_t"),
            ("/opt/{}(/.*)?", "", "opt_t"),
            ("/dev/{}[0-9]*", "-c", "device_t"),
        ]
        .iter()
        .cycle()
        .take(65)
        .enumerate()
        {
            let regex = regex.replace("{}", &esc);
            // Past the first round, vary the rules so none is a duplicate.
            let regex = if j >= 26 {
                format!("{regex}/v{j}")
            } else {
                regex
            };
            let kind = if kind.is_empty() {
                String::new()
            } else {
                format!("\t{kind}")
            };
            let _ = writeln!(fc, "{regex}{kind}\t{}", s(&format!("{t}_{suffix}")));
        }
    }
    fc
}

/// The rules and the lookups (shared with `benches/vs_libselinux.rs`).
#[derive(Debug)]
pub struct Input {
    pub file_contexts: PathBuf,
    pub requests: Vec<(String, Option<FileKind>)>,
    pub origin: &'static str,
}

pub fn input() -> Input {
    let dir = std::env::temp_dir().join("selinux-mcs-bench");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let generate = std::env::var_os("SELINUX_MCS_BENCH_GENERATED").is_some();
    let (file_contexts, origin) = if let Ok(p) = std::env::var("SELINUX_MCS_BENCH_FILE_CONTEXTS") {
        (PathBuf::from(p), "$SELINUX_MCS_BENCH_FILE_CONTEXTS")
    } else if let Some(p) = Root::default()
        .file_contexts_path()
        .ok()
        .filter(|p| p.exists() && !generate)
    {
        (p, "the system's file_contexts")
    } else {
        let p = dir.join("generated/file_contexts");
        std::fs::create_dir_all(p.parent().unwrap_or(Path::new("."))).expect("bench dir");
        std::fs::write(&p, generate_file_contexts()).expect("write generated file_contexts");
        (p, "a generated file_contexts")
    };
    let requests = requests();
    let mut text = String::new();
    for (path, kind) in &requests {
        let _ = writeln!(text, "{path}\t{}", kind.map_or("-", FileKind::name));
    }
    std::fs::write(dir.join("requests.txt"), text).expect("write requests");
    std::fs::write(
        dir.join("file_contexts.path"),
        file_contexts.display().to_string(),
    )
    .expect("write path");
    Input {
        file_contexts,
        requests,
        origin,
    }
}

fn bench(c: &mut Criterion) {
    let input = input();
    let fc = FileContexts::from_path(&input.file_contexts).expect("file_contexts loads");
    eprintln!(
        "file_contexts: {} ({}, {} rules); {} lookups per iteration; inputs in {}",
        input.file_contexts.display(),
        input.origin,
        fc.len(),
        input.requests.len(),
        std::env::temp_dir().join("selinux-mcs-bench").display()
    );

    let mut g = c.benchmark_group("file_contexts");
    g.sample_size(20);
    g.bench_function("load", |b| {
        b.iter(|| FileContexts::from_path(black_box(&input.file_contexts)).map(|fc| fc.len()))
    });
    // First use compiles regexes lazily (as libselinux does); warm up once.
    for (path, kind) in &input.requests {
        black_box(fc.lookup(path, *kind));
    }
    g.sample_size(50);
    g.throughput(Throughput::Elements(input.requests.len() as u64));
    g.bench_function("lookup", |b| {
        b.iter(|| {
            let mut found = 0usize;
            for (path, kind) in &input.requests {
                found += usize::from(fc.lookup(black_box(path.as_str()), *kind).is_some());
            }
            found
        })
    });
    g.bench_function("lookup_rule", |b| {
        b.iter(|| {
            let mut found = 0usize;
            for (path, kind) in &input.requests {
                found += usize::from(fc.lookup_rule(black_box(path.as_str()), *kind).is_some());
            }
            found
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
