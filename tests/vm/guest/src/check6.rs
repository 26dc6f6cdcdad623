//! Check 6: `selinux_mcs::process` on a live kernel, in permissive and
//! then enforcing mode: the calling thread's attributes, a child started
//! after `set_exec`, keys and sockets created after `set_keycreate` /
//! `set_sockcreate`, files after `set_fscreate`, `peer_label` between
//! processes in different contexts (a socketpair and a listening unix
//! socket), `pid_label` of a child, `relabel exec` and `relabel show
//! --pid`, and the selinuxfs answers (`enforce_mode` following
//! `/sys/fs/selinux/enforce`, MLS, the policy version, class and
//! permission numbers, `check_context`, `canonicalize_context`,
//! `compute_create`).
//!
//! The children are this program again (`vm-guest expect-current`,
//! `peer-socketpair`, `peer-connect`, `pause`); they report through their
//! exit status and, for the peer checks, over the socket under test.

use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use selinux_mcs::policy::Mode;
use selinux_mcs::process::{self, Attr, ProcessError};
use selinux_mcs::SecurityContext;

use super::{lgetcon, relabel, result, say, Checker, RELABEL, SELINUXFS};

const CHILD: &str = "system_u:system_r:container_t:s0:c1,c2";
const SOCK: &str = "system_u:system_r:container_t:s0:c3,c4";
const KEY: &str = "system_u:system_r:container_t:s0:c5,c6";
const FILE: &str = "system_u:object_r:container_file_t:s0:c1,c2";
const TIMEOUT: Duration = Duration::from_secs(20);

/// One part of the check, run in each mode.
type Step = fn(&mut Checker, &SecurityContext, &str) -> io::Result<()>;

fn ctx(text: &str) -> io::Result<SecurityContext> {
    text.parse()
        .map_err(|e| io::Error::other(format!("{text}: {e}")))
}

fn lib(e: ProcessError) -> io::Error {
    io::Error::other(e.to_string())
}

fn raw_attr(path: &str) -> String {
    match fs::read(path) {
        Ok(v) => String::from_utf8_lossy(&v)
            .trim_end_matches('\0')
            .to_owned(),
        Err(e) => format!("<{path}: {e}>"),
    }
}

fn selinuxfs_text(name: &str) -> String {
    fs::read_to_string(Path::new(SELINUXFS).join(name))
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|e| format!("<{name}: {e}>"))
}

/// Starts `vm-guest ARGS` with the exec label set on this thread around
/// the spawn only; `keep` is an fd the child inherits (its close-on-exec
/// flag is cleared in the child).
fn spawn_as(label: &SecurityContext, args: &[&str], keep: Option<RawFd>) -> io::Result<Child> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(fd) = keep {
        // SAFETY: fcntl is async-signal-safe; nothing else runs in the child.
        unsafe {
            cmd.pre_exec(move || {
                if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    process::set_exec(label).map_err(lib)?;
    let child = cmd.spawn();
    process::clear_exec().map_err(lib)?;
    child
}

fn wait_code(mut child: Child) -> io::Result<i32> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status.code().unwrap_or(-1));
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(-2);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------- SCM_RIGHTS

fn send_fd(sock: &UnixStream, fd: RawFd) -> io::Result<()> {
    let byte = [b'F'];
    let mut iov = libc::iovec {
        iov_base: byte.as_ptr() as *mut libc::c_void,
        iov_len: 1,
    };
    let fd_size = std::mem::size_of::<RawFd>() as u32;
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(fd_size) } as usize;
    let mut control = vec![0u64; space.div_ceil(8)];
    // SAFETY: an all-zero msghdr is valid; the pointers set below outlive
    // the sendmsg call, and the control buffer is big and aligned enough
    // for one cmsghdr with one fd.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = space as _;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(fd_size) as _;
        std::ptr::copy_nonoverlapping(
            (&fd as *const RawFd).cast::<u8>(),
            libc::CMSG_DATA(cmsg),
            fd_size as usize,
        );
        if libc::sendmsg(sock.as_raw_fd(), &msg, 0) != 1 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Receives one byte and, when it came with one, an fd.
fn recv_fd(sock: &UnixStream) -> io::Result<(u8, Option<OwnedFd>)> {
    let mut byte = [0u8];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let fd_size = std::mem::size_of::<RawFd>() as u32;
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(fd_size) } as usize;
    let mut control = vec![0u64; space.div_ceil(8)];
    // SAFETY: as in send_fd; the fd read from CMSG_DATA was just installed
    // in this process by the kernel and is owned by nothing else.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = space as _;
        let n = libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the peer closed",
            ));
        }
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if cmsg.is_null()
            || (*cmsg).cmsg_level != libc::SOL_SOCKET
            || (*cmsg).cmsg_type != libc::SCM_RIGHTS
        {
            return Ok((byte[0], None));
        }
        let mut fd: RawFd = -1;
        std::ptr::copy_nonoverlapping(
            libc::CMSG_DATA(cmsg),
            (&mut fd as *mut RawFd).cast::<u8>(),
            fd_size as usize,
        );
        Ok((byte[0], Some(OwnedFd::from_raw_fd(fd))))
    }
}

fn read_line(sock: &UnixStream) -> io::Result<String> {
    let mut line = String::new();
    BufReader::new(sock).read_line(&mut line)?;
    Ok(line.trim_end().to_owned())
}

// ---------------------------------------------------------------- children

/// `vm-guest expect-current CONTEXT PREV`: 0 when this process runs as
/// CONTEXT (raw `/proc/self/attr/current` and `process::current()`), its
/// previous context was PREV, and execve left none of exec, fscreate,
/// keycreate, sockcreate set; 100 raw mismatch, 103 library mismatch or
/// error, 104 prev mismatch, 105 pid_label(self) mismatch, 106 an
/// attribute still set.
pub(crate) fn expect_current_main(expected: &str, prev: &str) -> ExitCode {
    if raw_attr("/proc/self/attr/current") != expected {
        return ExitCode::from(100);
    }
    match process::current() {
        Ok(c) if c.as_str() == expected => {}
        _ => return ExitCode::from(103),
    }
    if raw_attr("/proc/self/attr/prev") != prev {
        return ExitCode::from(104);
    }
    match process::pid_label(std::process::id() as i32) {
        Ok(c) if c.as_str() == expected => {}
        _ => return ExitCode::from(105),
    }
    for attr in [
        Attr::Exec,
        Attr::FsCreate,
        Attr::KeyCreate,
        Attr::SockCreate,
    ] {
        if !matches!(process::thread_attr(attr), Ok(None)) {
            return ExitCode::from(106);
        }
    }
    ExitCode::SUCCESS
}

/// `vm-guest peer-socketpair FD`: over the inherited socket FD, sends one
/// end of a socketpair of its own (labeled with this process's context),
/// then `PEER <peer_label(FD)>` or `ERR <error>`.
pub(crate) fn peer_socketpair_main(fd: &str) -> ExitCode {
    let Ok(fd) = fd.parse::<RawFd>() else {
        return ExitCode::from(2);
    };
    // SAFETY: the parent passed this fd to us open; nothing else owns it.
    let mut sock = unsafe { UnixStream::from_raw_fd(fd) };
    let code = match UnixStream::pair() {
        Ok((mine, _theirs)) => match send_fd(&sock, mine.as_raw_fd()) {
            Ok(()) => 0,
            Err(e) => {
                let _ = writeln!(sock, "ERR send_fd: {e}");
                return ExitCode::from(101);
            }
        },
        Err(e) => {
            let _ = writeln!(sock, "ERR socketpair: {e}");
            return ExitCode::from(101);
        }
    };
    let line = match process::peer_label(&sock) {
        Ok(c) => format!("PEER {c}"),
        Err(e) => format!("ERR {e}"),
    };
    let _ = writeln!(sock, "{line}");
    // Wait for the parent to finish with the socketpair end it received.
    let mut buf = [0u8; 1];
    let _ = sock.read(&mut buf);
    ExitCode::from(code)
}

/// `vm-guest peer-connect NAME`: connects to the abstract unix socket
/// NAME and sends `PEER <peer_label>` or `ERR <error>`.
pub(crate) fn peer_connect_main(name: &str) -> ExitCode {
    let addr = match SocketAddr::from_abstract_name(name.as_bytes()) {
        Ok(a) => a,
        Err(_) => return ExitCode::from(2),
    };
    let mut sock = match UnixStream::connect_addr(&addr) {
        Ok(s) => s,
        Err(e) => {
            return ExitCode::from(u8::try_from(e.raw_os_error().unwrap_or(102)).unwrap_or(102))
        }
    };
    let line = match process::peer_label(&sock) {
        Ok(c) => format!("PEER {c}"),
        Err(e) => format!("ERR {e}"),
    };
    let _ = writeln!(sock, "{line}");
    let mut buf = [0u8; 1];
    let _ = sock.read(&mut buf);
    ExitCode::SUCCESS
}

/// `vm-guest expect-hidden`: 0 when this process may not examine
/// selinuxfs and the library says so (`Disabled::Inaccessible`, for
/// `selinuxfs_mount` and for `current`), 100 otherwise.
pub(crate) fn expect_hidden_main() -> ExitCode {
    let hidden = |w: &process::Disabled| {
        matches!(w, process::Disabled::Inaccessible { mount, errno }
            if mount == Path::new(SELINUXFS) && *errno == libc::EACCES)
    };
    let mount = process::selinuxfs_mount();
    let current = process::current();
    match (&mount, &current) {
        (Err(w), Err(ProcessError::Disabled { why, .. })) if hidden(w) && hidden(why) => {
            ExitCode::SUCCESS
        }
        _ => ExitCode::from(100),
    }
}

/// `vm-guest pause`: sleeps until killed (at most a minute).
pub(crate) fn pause_main() -> ExitCode {
    std::thread::sleep(Duration::from_secs(60));
    ExitCode::SUCCESS
}

// ---------------------------------------------------------------- checks

fn system(c: &mut Checker) -> io::Result<()> {
    c.expect("is_enabled", process::is_enabled(), || {
        format!("{:?}", process::selinuxfs_mount())
    });
    let mount = process::selinuxfs_mount();
    c.expect(
        "selinuxfs_mount",
        mount.as_deref() == Ok(Path::new(SELINUXFS)),
        || format!("{mount:?}"),
    );
    let mls = process::mls_enabled().map_err(lib)?;
    c.expect("mls_enabled", mls == (selinuxfs_text("mls") == "1"), || {
        format!("{mls}, mls file {}", selinuxfs_text("mls"))
    });
    let v = process::policy_version().map_err(lib)?;
    c.expect(
        "policy_version",
        v.to_string() == selinuxfs_text("policyvers"),
        || format!("{v}, policyvers {}", selinuxfs_text("policyvers")),
    );
    for class in ["file", "dir", "process", "unix_stream_socket", "key"] {
        let i = process::class_index(class).map_err(lib)?;
        let want = selinuxfs_text(&format!("class/{class}/index"));
        c.expect("class_index", i.to_string() == want, || {
            format!("{class}: {i}, selinuxfs {want}")
        });
    }
    for (class, perm) in [
        ("file", "read"),
        ("file", "write"),
        ("process", "transition"),
    ] {
        let bit = process::permission_bit(class, perm).map_err(lib)?;
        let n: u32 = selinuxfs_text(&format!("class/{class}/perms/{perm}"))
            .parse()
            .unwrap_or(0);
        c.expect("permission_bit", n > 0 && bit == 1 << (n - 1), || {
            format!("{class} {perm}: {bit:#x}, selinuxfs {n}")
        });
    }
    let e = process::class_index("no_such_class");
    c.expect(
        "class_index of an unknown class",
        matches!(e, Err(ProcessError::Unknown { .. })),
        || format!("{e:?}"),
    );
    let e = process::permission_bit("file", "no_such_perm");
    c.expect(
        "permission_bit of an unknown permission",
        matches!(e, Err(ProcessError::Unknown { .. })),
        || format!("{e:?}"),
    );
    // The kernel's word on contexts.
    let r = process::check_context(CHILD);
    c.expect("check_context valid", r.is_ok(), || format!("{r:?}"));
    let r = process::check_context("system_u:object_r:nosuch_t:s0");
    c.expect(
        "check_context invalid is EINVAL",
        matches!(r, Err(ProcessError::InvalidContext { .. })),
        || format!("{r:?}"),
    );
    let r = process::canonicalize_context("system_u:object_r:svirt_sandbox_file_t:s0:c2,c1");
    c.expect(
        "canonicalize_context resolves the alias and sorts",
        r.as_ref().map(|c| c.as_str()).ok() == Some("system_u:object_r:container_file_t:s0:c1,c2"),
        || format!("{r:?}"),
    );
    Ok(())
}

fn enforce(c: &mut Checker) -> io::Result<()> {
    let path = Path::new(SELINUXFS).join("enforce");
    for (mode, text) in [(Mode::Enforcing, "1"), (Mode::Permissive, "0")] {
        // Through the library, then behind its back.
        process::set_enforce_mode(mode).map_err(lib)?;
        c.expect(
            "set_enforce_mode",
            selinuxfs_text("enforce") == text,
            || format!("{mode}: enforce file {}", selinuxfs_text("enforce")),
        );
        let other = if text == "1" { "0" } else { "1" };
        fs::write(&path, other)?;
        let got = process::enforce_mode().map_err(lib)?;
        let want = if other == "1" {
            Mode::Enforcing
        } else {
            Mode::Permissive
        };
        c.expect("enforce_mode follows the file", got == want, || {
            format!("wrote {other}, enforce_mode {got}")
        });
    }
    let r = process::set_enforce_mode(Mode::Disabled);
    c.expect(
        "set_enforce_mode(Disabled) is refused",
        matches!(r, Err(ProcessError::InvalidArgument { .. })),
        || format!("{r:?}"),
    );
    Ok(())
}

fn thread_attrs(c: &mut Checker, me: &SecurityContext) -> io::Result<()> {
    let cur = process::current().map_err(lib)?;
    c.expect("current", cur == *me, || format!("{cur} vs {me}"));
    let raw_prev = raw_attr("/proc/self/attr/prev");
    let prev = process::prev().map_err(lib)?;
    c.expect("prev", prev.as_str() == raw_prev, || {
        format!("{prev} vs {raw_prev}")
    });
    // The fallback path of kernels without thread-self reads the same.
    let tid = gettid();
    let task = raw_attr(&format!("/proc/self/task/{tid}/attr/current"));
    c.expect("task attr path", task == me.as_str(), || task.clone());
    for attr in [
        Attr::Exec,
        Attr::FsCreate,
        Attr::KeyCreate,
        Attr::SockCreate,
    ] {
        let v = process::thread_attr(attr).map_err(lib)?;
        c.expect(&format!("{attr} starts unset"), v.is_none(), || {
            format!("{v:?}")
        });
    }
    // Set, read back, clear, for each; invalid contexts are EINVAL.
    let child = ctx(CHILD)?;
    for attr in [
        Attr::Exec,
        Attr::FsCreate,
        Attr::KeyCreate,
        Attr::SockCreate,
    ] {
        let want = if attr == Attr::FsCreate {
            ctx(FILE)?
        } else {
            child.clone()
        };
        let r = process::set_thread_attr(attr, Some(&want));
        c.expect(&format!("set {attr}"), r.is_ok(), || format!("{r:?}"));
        let v = process::thread_attr(attr).map_err(lib)?;
        c.expect(
            &format!("{attr} reads back"),
            v.as_ref() == Some(&want),
            || format!("{v:?}"),
        );
        let raw = raw_attr(&format!("/proc/thread-self/attr/{attr}"));
        c.expect(&format!("{attr} in /proc"), raw == want.as_str(), || {
            raw.clone()
        });
        process::set_thread_attr(attr, None).map_err(lib)?;
        let v = process::thread_attr(attr).map_err(lib)?;
        c.expect(&format!("{attr} clears"), v.is_none(), || format!("{v:?}"));
    }
    let bad = ctx("system_u:system_r:nosuch_t:s0")?;
    let r = process::set_exec(&bad);
    c.expect(
        "set_exec of a context the policy lacks is EINVAL",
        matches!(&r, Err(ProcessError::InvalidContext { context, .. }) if context == bad.as_str()),
        || format!("{r:?}"),
    );
    // Per thread: another thread's exec label is not this one's.
    let other = child.clone();
    let seen = std::thread::spawn(move || -> Result<Option<SecurityContext>, String> {
        process::set_exec(&other).map_err(|e| e.to_string())?;
        let v = process::exec().map_err(|e| e.to_string());
        process::clear_exec().map_err(|e| e.to_string())?;
        v
    })
    .join()
    .map_err(|_| io::Error::other("thread panicked"))?;
    let mine = process::exec().map_err(lib)?;
    c.expect(
        "exec is per thread",
        seen == Ok(Some(child.clone())) && mine.is_none(),
        || format!("other thread saw {seen:?}, this one {mine:?}"),
    );
    Ok(())
}

fn gettid() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

fn exec_and_pid(c: &mut Checker, me: &SecurityContext, mode: &str) -> io::Result<()> {
    let child = ctx(CHILD)?;
    // set_exec, then exec: the child runs as CHILD, its prev is us, and
    // execve cleared the creation labels this thread had set.
    let creation = [
        (Attr::FsCreate, ctx(FILE)?),
        (Attr::KeyCreate, ctx(KEY)?),
        (Attr::SockCreate, ctx(SOCK)?),
    ];
    for (attr, label) in &creation {
        process::set_thread_attr(*attr, Some(label)).map_err(lib)?;
    }
    let kid = spawn_as(&child, &["expect-current", CHILD, me.as_str()], None);
    for (attr, _) in &creation {
        process::set_thread_attr(*attr, None).map_err(lib)?;
    }
    let code = wait_code(kid?)?;
    c.expect(
        "set_exec then exec runs the child in the context, with no creation label",
        code == 0,
        || {
            format!(
                "expect-current exit {code} (100 current, 103 library, 104 prev, \
                 105 pid_label, 106 a creation label kept)"
            )
        },
    );
    // pid_label and pid_prev of a child, through the library and the CLI.
    let mut sleeper = spawn_as(&child, &["pause"], None)?;
    let pid = sleeper.id() as i32;
    // The exec happens in the child after fork: wait for it.
    let started = Instant::now();
    let mut label = process::pid_label(pid);
    while label.as_ref().ok() != Some(&child) && started.elapsed() < TIMEOUT {
        std::thread::sleep(Duration::from_millis(20));
        label = process::pid_label(pid);
    }
    c.expect(
        "pid_label of a child",
        label.as_ref().ok() == Some(&child),
        || format!("{label:?}"),
    );
    let prev = process::pid_prev(pid);
    c.expect(
        "pid_prev of a child",
        prev.as_ref().ok() == Some(me),
        || format!("{prev:?}"),
    );
    let r = relabel(&["show", "--pid", &pid.to_string()], false)?;
    c.expect(
        "relabel show --pid",
        r.code == 0 && r.stdout == format!("{CHILD} {pid}\n"),
        || format!("exit {}: {:?} {:?}", r.code, r.stdout, r.stderr),
    );
    let r = relabel(&["show", "--json", "--pid", &pid.to_string(), "1"], false)?;
    let want = format!(
        r#"[{{"error":null,"label":"{CHILD}","pid":{pid}}},{{"error":null,"label":"{}","pid":1}}]"#,
        process::pid_label(1).map_err(lib)?
    );
    c.expect(
        "relabel show --pid --json",
        r.code == 0 && r.stdout.trim() == want,
        || {
            format!(
                "exit {}: {:?} {:?}, want {want}",
                r.code, r.stdout, r.stderr
            )
        },
    );
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    let gone = process::pid_label(pid);
    c.expect(
        "pid_label of a reaped child is NoSuchProcess",
        matches!(gone, Err(ProcessError::NoSuchProcess { .. })),
        || format!("{gone:?}"),
    );
    // relabel exec, as runcon.
    let run = |args: &[&str]| -> io::Result<(i32, String)> {
        let out = Command::new(RELABEL)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()?;
        Ok((
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    };
    let (code, err) = run(&[
        "exec",
        "--context",
        CHILD,
        "--",
        "/bin/vm-guest",
        "expect-current",
        CHILD,
        me.as_str(),
    ])?;
    c.expect("relabel exec --context", code == 0, || {
        format!("exit {code} (100 current, 103 library, 104 prev): {err}")
    });
    let with_level = "system_u:system_r:container_t:s0:c7,c8";
    let (code, err) = run(&[
        "exec",
        "--context",
        "system_u:system_r:container_t:s0",
        "--level",
        "s0:c8,c7",
        "vm-guest",
        "expect-current",
        with_level,
        me.as_str(),
    ])?;
    c.expect("relabel exec --level", code == 0, || {
        format!("exit {code}: {err}")
    });
    let (code, err) = run(&[
        "exec",
        "--context",
        "system_u:system_r:nosuch_t:s0",
        "--",
        "true",
    ])?;
    c.expect(
        "relabel exec with a context the policy lacks: exit 1, one line, EINVAL",
        code == 1 && err.lines().count() == 1 && err.contains("(EINVAL)"),
        || format!("exit {code}: {err:?}"),
    );
    let (code, err) = run(&["exec", "--context", CHILD, "--", "/nonexistent"])?;
    c.expect(
        "relabel exec of a missing command: 127",
        code == 127,
        || format!("exit {code}: {err:?}"),
    );
    if mode == "enforcing" {
        // spc_t may not statfs selinuxfs in this policy: SELinux looks
        // disabled to it, and the reason says why.
        let spc = ctx("system_u:system_r:spc_t:s0")?;
        let code = wait_code(spawn_as(&spc, &["expect-hidden"], None)?)?;
        c.expect(
            "a process that may not examine selinuxfs is told Inaccessible",
            code == 0,
            || format!("expect-hidden exit {code}"),
        );
    }
    say(&format!(
        "check6: {mode}: exec, pid_label, relabel exec/show --pid done"
    ));
    Ok(())
}

fn key_label(id: i64) -> io::Result<String> {
    let mut buf = vec![0u8; 512];
    // SAFETY: keyctl(KEYCTL_GET_SECURITY) writes at most buf.len() bytes.
    let n = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            libc::KEYCTL_GET_SECURITY,
            id,
            buf.as_mut_ptr(),
            buf.len(),
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    buf.truncate(usize::try_from(n).unwrap_or(0).min(buf.len()));
    Ok(String::from_utf8_lossy(&buf)
        .trim_end_matches('\0')
        .to_owned())
}

fn add_key(description: &str) -> io::Result<i64> {
    let kind = c"user";
    let desc = std::ffi::CString::new(description).map_err(io::Error::other)?;
    let payload = b"check6";
    // SAFETY: the strings are NUL-terminated and the payload is valid for
    // its length.
    let id = unsafe {
        libc::syscall(
            libc::SYS_add_key,
            kind.as_ptr(),
            desc.as_ptr(),
            payload.as_ptr(),
            payload.len(),
            libc::KEY_SPEC_PROCESS_KEYRING,
        )
    };
    if id < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(id)
}

fn unlink_key(id: i64) {
    // SAFETY: plain integer arguments.
    unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            libc::KEYCTL_UNLINK,
            id,
            libc::KEY_SPEC_PROCESS_KEYRING,
        );
    }
}

fn keys_and_sockets(c: &mut Checker, me: &SecurityContext, mode: &str) -> io::Result<()> {
    // The process keyring first, labeled as this process.
    // SAFETY: plain integer arguments.
    unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            libc::KEYCTL_GET_KEYRING_ID,
            libc::KEY_SPEC_PROCESS_KEYRING,
            1,
        );
    }
    let key = ctx(KEY)?;
    process::set_keycreate(&key).map_err(lib)?;
    let id = add_key(&format!("check6-{mode}"));
    process::clear_keycreate().map_err(lib)?;
    match id {
        Ok(id) => {
            let label = key_label(id);
            c.expect(
                "keycreate labels a new key",
                label.as_deref().ok() == Some(KEY),
                || format!("{label:?}"),
            );
            unlink_key(id);
        }
        Err(e) => c.expect("add_key after set_keycreate", false, || e.to_string()),
    }
    match add_key(&format!("check6-{mode}-plain")) {
        Ok(id) => {
            let label = key_label(id);
            c.expect(
                "without keycreate a key has its creator's label",
                label.as_deref().ok() == Some(me.as_str()),
                || format!("{label:?}"),
            );
            unlink_key(id);
        }
        Err(e) => c.expect("add_key", false, || e.to_string()),
    }
    // Sockets.
    let sock = ctx(SOCK)?;
    process::set_sockcreate(&sock).map_err(lib)?;
    let pair = UnixStream::pair();
    process::clear_sockcreate().map_err(lib)?;
    let (a, _b) = pair?;
    let l = process::fd_label(&a);
    c.expect(
        "sockcreate labels a new socket",
        l.as_ref().ok() == Some(&sock),
        || format!("{l:?}"),
    );
    let p = process::peer_label(&a);
    c.expect(
        "peer_label of a socketpair made under sockcreate",
        p.as_ref().ok() == Some(&sock),
        || format!("{p:?}"),
    );
    let (x, _y) = UnixStream::pair()?;
    let l = process::fd_label(&x);
    c.expect(
        "without sockcreate a socket has its creator's label",
        l.as_ref().ok() == Some(me),
        || format!("{l:?}"),
    );
    // A stream socket with no peer: the kernel's unlabeled context.
    let unlabeled = process::canonicalize_context(&selinuxfs_text("initial_contexts/unlabeled"))
        .map_err(lib)?;
    let name = format!("check6-unbound-{mode}");
    let listener = UnixListener::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes())?)?;
    let p = process::peer_label(&listener);
    c.expect(
        "a listening socket's peer is the unlabeled context",
        p.as_ref().ok() == Some(&unlabeled),
        || format!("{p:?}, unlabeled is {unlabeled}"),
    );
    // A datagram socket has no peer label at all.
    let (d, _e) = std::os::unix::net::UnixDatagram::pair()?;
    let p = process::peer_label(&d);
    c.expect(
        "a datagram socket: NoPeerLabel (ENOPROTOOPT)",
        matches!(&p, Err(e @ ProcessError::NoPeerLabel { .. }) if e.raw_os_error() == Some(libc::ENOPROTOOPT)),
        || format!("{p:?}"),
    );
    // Files.
    let file = ctx(FILE)?;
    let dir = Path::new("/mnt/tmpfs");
    let plain = dir.join(format!("check6-{mode}-plain"));
    fs::write(&plain, b"x")?;
    let dir_label = ctx(&lgetcon(dir)?.unwrap_or_default())?;
    let computed = process::compute_create(me, &dir_label, "file");
    let got = lgetcon(&plain)?;
    c.expect(
        "compute_create gives the label a new file gets",
        computed.as_ref().ok().map(|c| c.to_string()) == got,
        || format!("computed {computed:?}, file {got:?}"),
    );
    process::set_fscreate(&file).map_err(lib)?;
    let labeled = dir.join(format!("check6-{mode}-fscreate"));
    let w = fs::write(&labeled, b"x");
    process::clear_fscreate().map_err(lib)?;
    w?;
    let got = lgetcon(&labeled)?;
    c.expect(
        "fscreate labels a new file",
        got.as_deref() == Some(FILE),
        || format!("{got:?}"),
    );
    let f = fs::File::open(&labeled)?;
    let l = process::fd_label(&f);
    c.expect("fd_label of a file", l.as_ref().ok() == Some(&file), || {
        format!("{l:?}")
    });
    Ok(())
}

fn peers(c: &mut Checker, me: &SecurityContext, mode: &str) -> io::Result<()> {
    let child = ctx(CHILD)?;
    // A socketpair: we make it, the child (CHILD) gets one end. Each side
    // asks for its peer's label.
    let (ours, theirs) = UnixStream::pair()?;
    ours.set_read_timeout(Some(TIMEOUT))?;
    let kid = spawn_as(
        &child,
        &["peer-socketpair", &theirs.as_raw_fd().to_string()],
        Some(theirs.as_raw_fd()),
    )?;
    drop(theirs);
    match recv_fd(&ours) {
        Ok((_, Some(fd))) => {
            let received = UnixStream::from(fd);
            let p = process::peer_label(&received);
            c.expect(
                "peer_label of a socketpair the child made is the child's context",
                p.as_ref().ok() == Some(&child),
                || format!("{p:?}"),
            );
            let line = read_line(&ours)?;
            c.expect(
                "the child's peer_label of our socketpair is our context",
                line == format!("PEER {me}"),
                || line.clone(),
            );
        }
        Ok((byte, None)) => {
            let rest = read_line(&ours).unwrap_or_default();
            c.expect("the child sent a socket", false, || {
                format!("{}{rest}", byte as char)
            });
        }
        Err(e) => c.expect("the child sent a socket", false, || e.to_string()),
    }
    let _ = (&ours).write_all(b"x");
    let code = wait_code(kid)?;
    c.expect("peer-socketpair child exit", code == 0, || {
        format!("exit {code}")
    });
    // A listening socket: we listen, the child (CHILD) connects.
    let name = format!("vm-guest-check6-{mode}");
    let listener = UnixListener::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes())?)?;
    listener.set_nonblocking(true)?;
    let kid = spawn_as(&child, &["peer-connect", &name], None)?;
    let started = Instant::now();
    let conn = loop {
        match listener.accept() {
            Ok((s, _)) => break Some(s),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && started.elapsed() < TIMEOUT => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => {
                c.expect("the child connects", false, || e.to_string());
                break None;
            }
        }
    };
    if let Some(conn) = conn {
        conn.set_nonblocking(false)?;
        conn.set_read_timeout(Some(TIMEOUT))?;
        let p = process::peer_label(&conn);
        c.expect(
            "peer_label of an accepted connection is the client's context",
            p.as_ref().ok() == Some(&child),
            || format!("{p:?}"),
        );
        // The kernel gives the server's new socket the listener's label at
        // the client's range: that is what the client sees.
        let server_side = match child.range() {
            Some(r) => me.with_range(*r),
            None => me.clone(),
        };
        let line = read_line(&conn)?;
        c.expect(
            "the client's peer_label is the listener's context at the client's range",
            line == format!("PEER {server_side}"),
            || format!("{line}, expected PEER {server_side}"),
        );
        let _ = (&conn).write_all(b"x");
    }
    let code = wait_code(kid)?;
    c.expect("peer-connect child exit", code == 0, || {
        format!("exit {code} (an errno: connect failed)")
    });
    Ok(())
}

pub(crate) fn check6() -> io::Result<bool> {
    let started = Instant::now();
    say("== check 6: selinux_mcs::process on a live kernel (permissive, then enforcing)");
    // Start the kernel log afresh: what it holds afterwards is this check's,
    // every AVC message of it (no printk rate limit).
    let _ = Command::new("dmesg")
        .arg("-c")
        .stdout(Stdio::null())
        .status();
    let _ = fs::write("/proc/sys/kernel/printk_ratelimit", "0");
    let mut c = Checker {
        failures: 0,
        checks: 0,
    };
    let me = process::current().map_err(lib)?;
    say(&format!("check6: running as {me}"));
    system(&mut c)?;
    enforce(&mut c)?;
    against_libselinux(&mut c)?;
    for (mode, value) in [
        ("permissive", Mode::Permissive),
        ("enforcing", Mode::Enforcing),
    ] {
        process::set_enforce_mode(value).map_err(lib)?;
        let failures = c.failures;
        let steps: [(&str, Step); 4] = [
            ("attributes", |c, me, _| thread_attrs(c, me)),
            ("exec and pid", exec_and_pid),
            ("keys, sockets and files", keys_and_sockets),
            ("peers", peers),
        ];
        for (name, step) in steps {
            if let Err(e) = step(&mut c, &me, mode) {
                c.expect(&format!("{mode}: {name}"), false, || e.to_string());
            }
        }
        let mode_now = process::enforce_mode().map_err(lib)?;
        c.expect("mode held during the run", mode_now == value, || {
            mode_now.to_string()
        });
        say(&format!(
            "check6: {mode}: {} failures",
            c.failures - failures
        ));
    }
    process::set_enforce_mode(Mode::Permissive).map_err(lib)?;
    let avc: Vec<String> = dmesg_lines()
        .into_iter()
        .filter(|l| l.contains("avc:"))
        .collect();
    say(&format!(
        "check6: {} AVC messages during the check",
        avc.len()
    ));
    for l in avc.iter().take(60) {
        say(&format!("check6 avc: {l}"));
    }
    say(&format!(
        "check6: checks={} failures={}",
        c.checks, c.failures
    ));
    Ok(result("check6", c.failures == 0, started))
}

fn dmesg_lines() -> Vec<String> {
    Command::new("dmesg")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The same questions to libselinux (the `system` module): the same
/// answers.
#[cfg(feature = "libselinux")]
fn against_libselinux(c: &mut Checker) -> io::Result<()> {
    use selinux_mcs::system;
    c.expect(
        "is_enabled agrees with libselinux",
        system::is_enabled() == process::is_enabled(),
        || format!("libselinux {}", system::is_enabled()),
    );
    let ours = process::enforce_mode().map_err(lib)?;
    c.expect(
        "enforce_mode agrees with libselinux",
        system::mode() == ours,
        || format!("libselinux {}, ours {ours}", system::mode()),
    );
    let theirs = system::current_context().map_err(|e| io::Error::other(e.to_string()))?;
    let ours = process::current().map_err(lib)?;
    c.expect("current agrees with libselinux", theirs == ours, || {
        format!("libselinux {theirs}, ours {ours}")
    });
    let mut compared = 0;
    for text in [
        CHILD,
        FILE,
        "system_u:object_r:svirt_sandbox_file_t:s0:c9,c2",
        "system_u:system_r:container_t:s0-s0:c0.c1023",
        "system_u:object_r:container_file_t:s0:c0,c1,c2,c3",
        "system_u:object_r:nosuch_t:s0",
        "nosuch_u:object_r:container_file_t:s0",
        "system_u:user_r:container_t:s0",
        "user_u:user_r:user_t:s0:c1",
    ] {
        let theirs = system::canonicalize(text).ok();
        let ours = process::canonicalize_context(text)
            .ok()
            .map(|c| c.to_string());
        c.expect(
            "canonicalize_context agrees with libselinux",
            theirs == ours,
            || format!("{text}: libselinux {theirs:?}, ours {ours:?}"),
        );
        let (v1, v2) = (
            system::validate(text).is_ok(),
            process::check_context(text).is_ok(),
        );
        c.expect("check_context agrees with libselinux", v1 == v2, || {
            format!("{text}: libselinux {v1}, ours {v2}")
        });
        compared += 1;
    }
    say(&format!("check6: {compared} contexts asked of libselinux and of process: same answers unless listed"));
    Ok(())
}

#[cfg(not(feature = "libselinux"))]
fn against_libselinux(_c: &mut Checker) -> io::Result<()> {
    say("check6: not compared with libselinux (built without the libselinux feature)");
    Ok(())
}
