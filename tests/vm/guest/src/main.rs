//! `vm-guest`: runs inside the qemu guest that tests/vm/run.sh boots (a real
//! SELinux kernel with Debian's policy and tests/vm/container.cil loaded)
//! and compares selinux-mcs with the kernel. Results go to standard output,
//! which the guest's init sends to a serial port the host reads.
//!
//! ```text
//! vm-guest suite [--contexts FILE] [--count N] [--seed N]
//! vm-guest probe read|create PATH EXPECTED-CONTEXT   (check 4's child)
//! vm-guest expect-current CONTEXT PREV                (check 6's children)
//! vm-guest peer-socketpair FD | peer-connect NAME | pause | expect-hidden
//! ```

use std::ffi::{CString, OsStr};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use selinux_mcs::policydb::Policy;
use selinux_mcs::SecurityContext;
use selinux_mcs_vm_guest::{
    compare_access, compare_context, generate, random_mcs_range, Kernel, Tally,
};

mod check6;
mod check7;

const SELINUXFS: &str = "/sys/fs/selinux";
const RELABEL: &str = "/bin/relabel";
const CAP_MAC_ADMIN: libc::c_ulong = 33;

/// The kernel, through selinuxfs.
struct SelinuxFs;

impl SelinuxFs {
    fn transaction(file: &str, request: &[u8]) -> io::Result<Option<Vec<u8>>> {
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(Path::new(SELINUXFS).join(file))?;
        // One write: the kernel takes the whole request from a single call.
        match f.write(request) {
            Ok(n) if n == request.len() => {}
            Ok(n) => {
                return Err(io::Error::other(format!(
                    "short write to {file}: {n} of {} bytes",
                    request.len()
                )))
            }
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => return Ok(None),
            Err(e) => return Err(e),
        }
        let mut out = Vec::new();
        f.read_to_end(&mut out)?;
        if out.last() == Some(&0) {
            out.pop();
        }
        Ok(Some(out))
    }
}

impl Kernel for SelinuxFs {
    fn canonicalize(&mut self, ctx: &[u8]) -> io::Result<Option<String>> {
        Ok(SelinuxFs::transaction("context", ctx)?
            .map(|out| String::from_utf8_lossy(&out).into_owned()))
    }

    fn access(&mut self, scon: &str, tcon: &str, tclass: u16) -> io::Result<u32> {
        let request = format!("{scon} {tcon} {tclass}");
        let out = SelinuxFs::transaction("access", request.as_bytes())?.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("access refused: {request}"),
            )
        })?;
        let text = String::from_utf8_lossy(&out);
        let first = text.split_whitespace().next().unwrap_or("");
        u32::from_str_radix(first, 16)
            .map_err(|e| io::Error::other(format!("access answer {text:?}: {e}")))
    }
}

fn say(line: &str) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn result(check: &str, pass: bool, started: Instant) -> bool {
    say(&format!(
        "RESULT {check} {} ({:.1}s)",
        if pass { "PASS" } else { "FAIL" },
        started.elapsed().as_secs_f64()
    ));
    pass
}

// ---------------------------------------------------------------- check 1

/// The policy the guest's init loads into the kernel.
const POLICY: &str = "/policy";

/// Each context goes to the kernel and to our prediction from the same
/// policy file (`Policy::parse_context`, then `canonical_context`): the
/// verdicts and the canonical texts must be identical. `generated`: the
/// corpus is ours, so it must hold contexts the kernel accepts and, for
/// every policy-dependent rule, one it refuses for that rule (a corpus the
/// kernel refuses entirely would prove nothing).
fn check1(corpus: &[Vec<u8>], generated: bool) -> io::Result<bool> {
    let started = Instant::now();
    say(&format!(
        "== check 1: canonical form and validity ({} contexts, /sys/fs/selinux/context, predicted from {POLICY})",
        corpus.len()
    ));
    let policy = Policy::from_path(POLICY).map_err(|e| io::Error::other(e.to_string()))?;
    let mut kernel = SelinuxFs;
    let mut tally = Tally::default();
    for input in corpus {
        let outcome = compare_context(input, &policy, &mut kernel)?;
        tally.add(input, outcome);
    }
    print!("{}", tally.report());
    let mut pass = tally.disagreements.is_empty();
    if generated {
        let missing = tally.rules_not_seen();
        if !missing.is_empty() {
            say(&format!("check1: no input was refused for {missing:?}"));
        }
        if tally.renamed == 0 {
            say("check1: no input used an alias");
        }
        pass &= tally.agree_accept > 0 && missing.is_empty() && tally.renamed > 0;
    }
    Ok(result("check1", pass, started))
}

// ---------------------------------------------------------------- check 2

fn read_number(path: &str) -> io::Result<u32> {
    let text = fs::read_to_string(Path::new(SELINUXFS).join(path))?;
    text.trim()
        .parse()
        .map_err(|e| io::Error::other(format!("{path}: {text:?}: {e}")))
}

fn check2(pairs: usize, rng: &mut ChaCha8Rng) -> io::Result<bool> {
    let started = Instant::now();
    say(&format!(
        "== check 2: MCS decisions ({pairs} level pairs per type pair, /sys/fs/selinux/access)"
    ));
    let tclass = u16::try_from(read_number("class/file/index")?)
        .map_err(|e| io::Error::other(format!("class index: {e}")))?;
    let mut bits = [0u32; 3];
    for (bit, name) in bits.iter_mut().zip(["read", "write", "create"]) {
        *bit = 1 << (read_number(&format!("class/file/perms/{name}"))? - 1);
    }
    let mut kernel = SelinuxFs;
    let mut pass = true;
    for (subject, object, n) in [
        (
            "system_u:system_r:container_t",
            "system_u:object_r:container_file_t",
            pairs,
        ),
        (
            "system_u:system_r:svirt_t",
            "system_u:object_r:svirt_image_t",
            pairs,
        ),
        (
            "system_u:system_r:spc_t",
            "system_u:object_r:container_file_t",
            pairs / 5,
        ),
    ] {
        let (mut compared, mut denied, mut disagreements) = (0usize, 0usize, 0usize);
        for _ in 0..n {
            let p = format!("{subject}:{}", random_mcs_range(rng));
            let f = format!("{object}:{}", random_mcs_range(rng));
            let diff = compare_access(&p, &f, tclass, &bits, &mut kernel)?;
            compared += 3;
            let allowed = kernel.access(&p, &f, tclass)?;
            denied += bits.iter().filter(|b| allowed & **b == 0).count();
            for (perm, ours, theirs) in diff {
                disagreements += 1;
                if disagreements <= 20 {
                    say(&format!(
                        "check2 DISAGREE input=({p}, {f}, {perm}) ours={} kernel={}",
                        if ours { "allow" } else { "deny" },
                        if theirs { "allow" } else { "deny" }
                    ));
                }
            }
        }
        say(&format!(
            "check2: {subject} -> {object}: pairs={n} decisions={compared} kernel-denied={denied} disagreements={disagreements}"
        ));
        pass &= disagreements == 0 && compared > 0;
    }
    Ok(result("check2", pass, started))
}

// ---------------------------------------------------------------- check 3

fn lgetcon(path: &Path) -> io::Result<Option<String>> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let name = c"security.selinux";
    let mut buf = vec![0u8; 4096];
    // SAFETY: c and name are NUL-terminated; buf is valid for buf.len() bytes.
    let n = unsafe {
        libc::lgetxattr(
            c.as_ptr(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if n < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::ENODATA) {
            return Ok(None);
        }
        return Err(e);
    }
    buf.truncate(usize::try_from(n).map_err(io::Error::other)?);
    if buf.last() == Some(&0) {
        buf.pop();
    }
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

/// Every entry under `root` (itself included), sorted.
fn entries(root: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = vec![root.to_path_buf()];
    let mut i = 0;
    while i < out.len() {
        let p = out[i].clone();
        if fs::symlink_metadata(&p)?.is_dir() {
            for e in fs::read_dir(&p)? {
                out.push(e?.path());
            }
        }
        i += 1;
    }
    out.sort();
    Ok(out)
}

fn labels(root: &Path) -> io::Result<Vec<(PathBuf, Option<String>)>> {
    entries(root)?
        .into_iter()
        .map(|p| lgetcon(&p).map(|l| (p, l)))
        .collect()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn relabel(args: &[&str], drop_mac_admin: bool) -> io::Result<Run> {
    let mut cmd = Command::new(RELABEL);
    cmd.args(args).stdin(Stdio::null());
    if drop_mac_admin {
        // SAFETY: prctl is async-signal-safe; nothing else runs in the child.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_CAPBSET_DROP, CAP_MAC_ADMIN, 0, 0, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let out = cmd.output()?;
    Ok(Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

fn make_tree(vol: &Path) -> io::Result<()> {
    fs::create_dir_all(vol.join("b/c"))?;
    fs::write(vol.join("a"), b"a\n")?;
    fs::write(vol.join("b/c/d"), b"d\n")?;
    std::os::unix::fs::symlink("a", vol.join("link"))?;
    Ok(())
}

struct Checker {
    failures: usize,
    checks: usize,
}

impl Checker {
    fn expect(&mut self, what: &str, ok: bool, detail: impl FnOnce() -> String) {
        self.checks += 1;
        if !ok {
            self.failures += 1;
            say(&format!("check FAIL {what}: {}", detail()));
        }
    }
}

fn all_labeled(c: &mut Checker, what: &str, vol: &Path, want: &str) -> io::Result<()> {
    for (p, l) in labels(vol)? {
        c.expect(what, l.as_deref() == Some(want), || {
            format!("{}: label {l:?}, expected {want:?}", p.display())
        });
    }
    Ok(())
}

fn check3_on(c: &mut Checker, fs_name: &str, mnt: &Path) -> io::Result<()> {
    let vol = mnt.join("vol");
    make_tree(&vol)?;
    let v = vol.to_string_lossy().into_owned();
    let mut kernel = SelinuxFs;

    // apply --context with a non-canonical level: the kernel stores (and
    // returns) the canonical form, and so does show.
    let input = "system_u:object_r:container_file_t:s0:c9,c5,c3,c4";
    let canonical = kernel
        .canonicalize(input.as_bytes())?
        .ok_or_else(|| io::Error::other(format!("the kernel refuses {input}")))?;
    let ours = input.parse::<SecurityContext>().map(|c| c.to_string());
    c.expect(
        &format!("{fs_name}: canonical"),
        ours.as_deref() == Ok(canonical.as_str()),
        || format!("ours {ours:?}, kernel {canonical:?}"),
    );
    let r = relabel(&["apply", "--context", input, &v], false)?;
    c.expect(
        &format!("{fs_name}: apply --context exit"),
        r.code == 0,
        || format!("exit {}: {}{}", r.code, r.stdout, r.stderr),
    );
    all_labeled(c, &format!("{fs_name}: apply --context"), &vol, &canonical)?;

    // show prints what the kernel holds.
    let r = relabel(&["show", "-R", &v], false)?;
    c.expect(&format!("{fs_name}: show exit"), r.code == 0, || {
        format!("exit {}: {}", r.code, r.stderr)
    });
    let mut shown = 0;
    for line in r.stdout.lines() {
        let (label, path) = line.split_once(' ').unwrap_or((line, ""));
        let held = lgetcon(Path::new(path))?;
        shown += 1;
        c.expect(
            &format!("{fs_name}: show"),
            held.as_deref() == Some(label),
            || format!("{path}: show says {label:?}, the kernel {held:?}"),
        );
    }
    let n = entries(&vol)?.len();
    c.expect(
        &format!("{fs_name}: show lists every entry"),
        shown == n,
        || format!("{shown} lines for {n} entries:\n{}", r.stdout),
    );

    // --private with an unsorted level.
    let r = relabel(&["apply", "--private", "--level", "s0:c7,c2", &v], false)?;
    c.expect(
        &format!("{fs_name}: apply --private exit"),
        r.code == 0,
        || format!("exit {}: {}{}", r.code, r.stdout, r.stderr),
    );
    let private = "system_u:object_r:container_file_t:s0:c2,c7";
    all_labeled(c, &format!("{fs_name}: apply --private"), &vol, private)?;

    // A context the policy refuses (unknown type): relabel reads the loaded
    // policy and refuses it before writing (exit 2); with --no-policy-check
    // it tries, and without CAP_MAC_ADMIN the kernel says EINVAL, relabel
    // exits 1. Nothing changes either way.
    let before = labels(&vol)?;
    let bad = "system_u:object_r:nosuch_file_t:s0";
    let r = relabel(&["apply", "--context", bad, &v], true)?;
    c.expect(
        &format!("{fs_name}: policy-rejected context exits 2 before writing"),
        r.code == 2 && r.stderr.contains("nosuch_file_t"),
        || format!("exit {}: {}{}", r.code, r.stdout, r.stderr),
    );
    let r = relabel(&["apply", "--no-policy-check", "--context", bad, &v], true)?;
    c.expect(
        &format!("{fs_name}: kernel-rejected context exits 1"),
        r.code == 1,
        || format!("exit {}: {}{}", r.code, r.stdout, r.stderr),
    );
    let after = labels(&vol)?;
    c.expect(
        &format!("{fs_name}: policy-rejected context changes nothing"),
        before == after,
        || format!("before {before:?}\nafter {after:?}"),
    );
    if r.code == 1 {
        say(&format!(
            "check3: {fs_name}: {bad} refused as expected: {}",
            r.stdout
                .lines()
                .chain(r.stderr.lines())
                .find(|l| l.contains("nvalid") || l.contains("error"))
                .unwrap_or("")
        ));
    }
    // MLS-invalid: our parser refuses it before anything is written (exit 2).
    let r = relabel(
        &[
            "apply",
            "--context",
            "system_u:object_r:container_file_t:s0:c5.c1",
            &v,
        ],
        false,
    )?;
    c.expect(
        &format!("{fs_name}: invalid level exits 2"),
        r.code == 2,
        || format!("exit {}: {}{}", r.code, r.stdout, r.stderr),
    );
    c.expect(
        &format!("{fs_name}: invalid level changes nothing"),
        labels(&vol)? == after,
        String::new,
    );

    // restore from a file_contexts of our own.
    let fc = mnt.join("file_contexts");
    fs::write(
        &fc,
        format!("{}(/.*)?\tsystem_u:object_r:container_ro_file_t:s0\n", v),
    )?;
    let fcs = fc.to_string_lossy().into_owned();
    let r = relabel(&["restore", "--file-contexts", &fcs, "-R", "-F", &v], false)?;
    c.expect(&format!("{fs_name}: restore exit"), r.code == 0, || {
        format!("exit {}: {}{}", r.code, r.stdout, r.stderr)
    });
    all_labeled(
        c,
        &format!("{fs_name}: restore"),
        &vol,
        "system_u:object_r:container_ro_file_t:s0",
    )?;
    Ok(())
}

fn check3(ext4: Option<&Path>) -> io::Result<bool> {
    let started = Instant::now();
    say("== check 3: relabel apply/show/restore on a live SELinux kernel");
    let mut c = Checker {
        failures: 0,
        checks: 0,
    };
    check3_on(&mut c, "tmpfs", Path::new("/mnt/tmpfs"))?;
    match ext4 {
        Some(m) => check3_on(&mut c, "ext4", m)?,
        None => {
            c.expect("ext4 mounted", false, || {
                "no ext4 file system (see the console)".to_owned()
            });
        }
    }
    say(&format!(
        "check3: file systems={} checks={} failures={}",
        if ext4.is_some() {
            "tmpfs,ext4"
        } else {
            "tmpfs"
        },
        c.checks,
        c.failures
    ));
    Ok(result("check3", c.failures == 0, started))
}

// ---------------------------------------------------------------- check 4

/// Runs `vm-guest probe OP PATH` as `context` (through /proc/self/attr/exec);
/// returns its exit code: 0, an errno, or 100 when it did not run as `context`.
fn probe(context: &str, op: &str, path: &Path) -> io::Result<i32> {
    let exe = std::env::current_exe()?;
    let attr = c"/proc/self/attr/exec";
    let value = context.as_bytes().to_vec();
    let mut cmd = Command::new(exe);
    cmd.arg("probe")
        .arg(op)
        .arg(path)
        .arg(context)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: only open/write/close (async-signal-safe) on data prepared above.
    unsafe {
        cmd.pre_exec(move || {
            let fd = libc::open(attr.as_ptr(), libc::O_WRONLY);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            let n = libc::write(fd, value.as_ptr().cast(), value.len());
            let e = io::Error::last_os_error();
            libc::close(fd);
            if n < 0 {
                return Err(e);
            }
            Ok(())
        });
    }
    Ok(cmd.status()?.code().unwrap_or(-1))
}

fn probe_main(op: &str, path: &OsStr, expected: &str) -> ExitCode {
    let current = fs::read("/proc/self/attr/current").unwrap_or_default();
    let current = String::from_utf8_lossy(&current);
    if current.trim_end_matches('\0') != expected {
        return ExitCode::from(100);
    }
    let r = match op {
        "read" => File::open(path).and_then(|mut f| {
            let mut s = Vec::new();
            f.read_to_end(&mut s).map(|_| ())
        }),
        "create" => OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .and_then(|mut f| f.write_all(b"new\n")),
        _ => return ExitCode::from(101),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(u8::try_from(e.raw_os_error().unwrap_or(102)).unwrap_or(102)),
    }
}

fn set_enforce(on: bool) -> io::Result<()> {
    fs::write(
        Path::new(SELINUXFS).join("enforce"),
        if on { "1" } else { "0" },
    )
}

fn check4() -> io::Result<bool> {
    let started = Instant::now();
    say("== check 4: enforcing, end to end (container_t processes via /proc/self/attr/exec)");
    let root = Path::new("/mnt/enforce");
    for v in ["vola", "volb", "shared"] {
        fs::create_dir_all(root.join(v))?;
        fs::write(root.join(v).join("data"), format!("{v}\n"))?;
    }
    let db = "/tmp/mcs.db";
    let mut c = Checker {
        failures: 0,
        checks: 0,
    };
    for (owner, vol) in [("vol:a", "vola"), ("vol:b", "volb")] {
        let p = root.join(vol).to_string_lossy().into_owned();
        let r = relabel(
            &["apply", "--private", "--owner", owner, "--db", db, &p],
            false,
        )?;
        c.expect(
            &format!("apply --private --owner {owner}"),
            r.code == 0,
            || format!("exit {}: {}{}", r.code, r.stdout, r.stderr),
        );
    }
    let p = root.join("shared").to_string_lossy().into_owned();
    let r = relabel(&["apply", "--shared", &p], false)?;
    c.expect("apply --shared", r.code == 0, || {
        format!("exit {}: {}{}", r.code, r.stdout, r.stderr)
    });
    let level_of = |vol: &str| -> io::Result<String> {
        let l = lgetcon(&root.join(vol))?.unwrap_or_default();
        let ctx: SecurityContext = l
            .parse()
            .map_err(|e| io::Error::other(format!("{vol}: label {l:?}: {e}")))?;
        Ok(ctx.range().map(|r| r.to_string()).unwrap_or_default())
    };
    let (la, lb) = (level_of("vola")?, level_of("volb")?);
    say(&format!("check4: vol:a has {la}, vol:b has {lb}"));
    c.expect("vol:a and vol:b differ", la != lb, || format!("both {la}"));
    let pa = format!("system_u:system_r:container_t:{la}");
    let pb = format!("system_u:system_r:container_t:{lb}");
    let spc = "system_u:system_r:spc_t:s0".to_owned();

    set_enforce(true)?;
    let enforcing = fs::read_to_string(Path::new(SELINUXFS).join("enforce"))?;
    c.expect("enforcing on", enforcing.trim() == "1", || {
        enforcing.clone()
    });
    let cases: Vec<(&str, &String, &str, PathBuf, i32)> = vec![
        ("vol:a reads vol:a", &pa, "read", root.join("vola/data"), 0),
        (
            "vol:b reads vol:a",
            &pb,
            "read",
            root.join("vola/data"),
            libc::EACCES,
        ),
        (
            "vol:a reads vol:b",
            &pa,
            "read",
            root.join("volb/data"),
            libc::EACCES,
        ),
        (
            "vol:a reads shared",
            &pa,
            "read",
            root.join("shared/data"),
            0,
        ),
        (
            "vol:b reads shared",
            &pb,
            "read",
            root.join("shared/data"),
            0,
        ),
        ("spc_t reads vol:a", &spc, "read", root.join("vola/data"), 0),
        (
            "vol:a creates in vol:a",
            &pa,
            "create",
            root.join("vola/new"),
            0,
        ),
        (
            "vol:b creates in vol:a",
            &pb,
            "create",
            root.join("vola/newb"),
            libc::EACCES,
        ),
    ];
    let mut outcomes = Vec::new();
    for (what, ctx, op, path, want) in &cases {
        let got = probe(ctx, op, path);
        outcomes.push(format!("{what}: {got:?}"));
        let got = got?;
        c.expect(what, got == *want, || {
            format!("exit {got} (100: not running as {ctx}), expected {want}")
        });
    }
    set_enforce(false)?;
    let new_label = lgetcon(&root.join("vola/new"))?;
    let want = format!("system_u:object_r:container_file_t:{la}");
    c.expect(
        "a file vol:a's process creates keeps vol:a's level",
        new_label.as_deref() == Some(want.as_str()),
        || format!("label {new_label:?}, expected {want:?}"),
    );
    say(&format!("check4: {}", outcomes.join("; ")));
    if c.failures > 0 {
        if let Ok(out) = Command::new("dmesg").output() {
            for l in String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| l.contains("avc:"))
                .take(40)
            {
                say(&format!("check4 avc: {l}"));
            }
        }
    }
    say(&format!(
        "check4: checks={} failures={}",
        c.checks, c.failures
    ));
    Ok(result("check4", c.failures == 0, started))
}

// ---------------------------------------------------------------- main

// ---------------------------------------------------------------- check 5

/// The library's `libselinux` feature on an enabled kernel: `system` says
/// SELinux is on, follows the enforce switch, reads this process's label,
/// and `validate`/`canonicalize` answer as `/sys/fs/selinux/context` does
/// on the check-1 corpus; `relabel explain --kernel` prints the kernel's
/// canonical form.
#[cfg(feature = "libselinux")]
fn check5(corpus: &[Vec<u8>]) -> io::Result<bool> {
    use selinux_mcs::policy::Mode;
    use selinux_mcs::system::{self, SystemError};
    let started = Instant::now();
    say("== check 5: the libselinux feature on an enabled kernel");
    let mut c = Checker {
        failures: 0,
        checks: 0,
    };
    c.expect("is_enabled", system::is_enabled(), || "false".into());
    let enforce = Path::new(SELINUXFS).join("enforce");
    for (value, want) in [("1", Mode::Enforcing), ("0", Mode::Permissive)] {
        fs::write(&enforce, value)?;
        let mode = system::mode();
        c.expect("mode follows the enforce switch", mode == want, || {
            format!("enforce={value}: mode {mode:?}")
        });
    }
    let attr = fs::read_to_string("/proc/self/attr/current")?;
    let attr = attr.trim_end_matches(['\0', '\n']);
    match system::current_context() {
        Ok(ctx) => c.expect("current_context", ctx.to_string() == attr, || {
            format!("{ctx}, /proc/self/attr/current says {attr}")
        }),
        Err(e) => c.expect("current_context", false, || e.to_string()),
    }
    // libselinux against the raw selinuxfs answer, input by input.
    let mut kernel = SelinuxFs;
    let (mut same, mut accepted) = (0usize, 0usize);
    for input in corpus.iter().take(20_000) {
        let raw = kernel.canonicalize(input)?;
        let lib = match std::str::from_utf8(input) {
            Err(_) => None, // not a C string libselinux can be given as text
            Ok(text) => match system::canonicalize(text) {
                Ok(canonical) => Some(canonical),
                Err(SystemError::Rejected { .. }) | Err(SystemError::Nul { .. }) => None,
                Err(e) => return Err(io::Error::other(e.to_string())),
            },
        };
        if let (Ok(text), Some(_)) = (std::str::from_utf8(input), &raw) {
            c.expect("validate", system::validate(text).is_ok(), || {
                text.to_owned()
            });
        }
        accepted += usize::from(raw.is_some());
        if raw == lib {
            same += 1;
        } else {
            let shown = String::from_utf8_lossy(input);
            c.expect("canonicalize", false, || {
                format!("input={shown:?} libselinux={lib:?} kernel={raw:?}")
            });
        }
    }
    say(&format!(
        "check5: canonicalize: {same} of {} inputs answered alike ({accepted} accepted)",
        corpus.len().min(20_000)
    ));
    // The CLI's --kernel view: an alias and an unsorted pair, canonicalized.
    let r = relabel(
        &[
            "explain",
            "--kernel",
            "--json",
            "system_u:object_r:svirt_sandbox_file_t:s0:c2,c1",
        ],
        false,
    )?;
    c.expect(
        "explain --kernel",
        r.code == 0
            && r.stdout
                .contains(r#""canonical":"system_u:object_r:container_file_t:s0:c1,c2""#),
        || format!("exit {}: {}{}", r.code, r.stdout, r.stderr),
    );
    say(&format!(
        "check5: {} checks, {} failures",
        c.checks, c.failures
    ));
    Ok(result("check5", c.failures == 0 && accepted > 0, started))
}

#[cfg(not(feature = "libselinux"))]
fn check5(_corpus: &[Vec<u8>]) -> io::Result<bool> {
    say("== check 5: skipped: vm-guest was built without the libselinux feature");
    Ok(true)
}

fn suite(args: &[String]) -> io::Result<bool> {
    let mut contexts: Option<PathBuf> = None;
    let mut count = 100_000usize;
    let mut pairs = 10_000usize;
    let mut seed = 14u64;
    let mut ext4: Option<PathBuf> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next().cloned().ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, format!("{a} needs a value"))
            })
        };
        let number = |v: String| {
            v.parse::<u64>()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{a} {v}: {e}")))
        };
        match a.as_str() {
            "--contexts" => contexts = Some(PathBuf::from(value()?)),
            "--count" => count = usize::try_from(number(value()?)?).map_err(io::Error::other)?,
            "--pairs" => pairs = usize::try_from(number(value()?)?).map_err(io::Error::other)?,
            "--seed" => seed = number(value()?)?,
            "--ext4" => ext4 = Some(PathBuf::from(value()?)),
            other => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("unknown argument {other}"),
                ))
            }
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    if let Some(file) = contexts {
        let data = fs::read(&file)?;
        let corpus: Vec<Vec<u8>> = data
            .split(|b| *b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec())
            .filter(|l| !l.is_empty())
            .collect();
        return check1(&corpus, false);
    }
    say(&format!("seed={seed}"));
    let corpus: Vec<Vec<u8>> = generate(count, &mut rng)
        .into_iter()
        .map(String::into_bytes)
        .collect();
    let mut pass = check1(&corpus, true)?;
    pass &= check2(pairs, &mut rng)?;
    pass &= check3(ext4.as_deref())?;
    pass &= check4()?;
    pass &= check5(&corpus)?;
    pass &= check6::check6()?;
    pass &= check7::check7(seed)?;
    Ok(pass)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("probe") if args.len() == 5 => probe_main(&args[2], OsStr::new(&args[3]), &args[4]),
        Some("expect-current") if args.len() == 4 => {
            check6::expect_current_main(&args[2], &args[3])
        }
        Some("peer-socketpair") if args.len() == 3 => check6::peer_socketpair_main(&args[2]),
        Some("peer-connect") if args.len() == 3 => check6::peer_connect_main(&args[2]),
        Some("pause") => check6::pause_main(),
        Some("expect-hidden") => check6::expect_hidden_main(),
        Some("suite") => match suite(&args[2..]) {
            Ok(true) => {
                say("VM-SUITE: all checks passed");
                ExitCode::SUCCESS
            }
            Ok(false) => {
                say("VM-SUITE: some checks failed");
                ExitCode::FAILURE
            }
            Err(e) => {
                say(&format!("VM-SUITE: error: {e}"));
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("usage: vm-guest suite [--contexts FILE] [--count N] [--pairs N] [--seed N] [--ext4 DIR]\n       vm-guest probe read|create PATH CONTEXT");
            ExitCode::from(2)
        }
    }
}
