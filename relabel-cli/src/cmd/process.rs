//! `relabel show --pid` and `relabel exec`: process labels, as `ps -Z` and
//! `secon --pid` show them, and running a command in a context, as
//! `runcon` does.

use std::ffi::OsString;
use std::os::unix::process::CommandExt as _;

use serde_json::json;

use selinux_mcs::mls::MlsRange;
use selinux_mcs::process::{self, ProcessError};
use selinux_mcs::SecurityContext;

use crate::exit::{CliError, CmdResult, Exit};
use crate::out::{self, Escaped};

/// SELinux must be running for anything here: one line saying how we can
/// tell it is not, and status 1.
fn require_selinux() -> Result<(), CliError> {
    process::selinuxfs_mount()
        .map(drop)
        .map_err(|why| CliError::failed(format!("SELinux is not enabled: {why}")))
}

/// Runs `relabel show --pid PID...`.
pub fn show_pids(pids: &[i32], json_out: bool) -> CmdResult {
    require_selinux()?;
    let mut failed = false;
    let mut entries = Vec::new();
    for &pid in pids {
        let (label, error) = match process::pid_label(pid) {
            Ok(ctx) => (Some(ctx.to_string()), None),
            Err(e) => {
                failed = true;
                (None, Some(e.to_string()))
            }
        };
        if json_out {
            entries.push(json!({"pid": pid, "label": label, "error": error}));
        } else if let Some(e) = error {
            out::warn(format_args!("{e}"));
        } else if let Some(label) = label {
            outln!("{} {pid}", Escaped::str(&label));
        }
    }
    if json_out {
        out::json(&serde_json::Value::Array(entries))?;
    }
    Ok(if failed { Exit::Failed } else { Exit::Success })
}

/// Arguments of `relabel exec`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Sets this thread's exec context (/proc/thread-self/attr/exec), then \
    replaces relabel with COMMAND, which the kernel starts in CONTEXT if the policy allows the \
    transition. COMMAND is looked up in PATH. The exit status is COMMAND's; relabel's own \
    failures are 1 (SELinux not enabled, or the kernel refused the context: EINVAL invalid, \
    EACCES/EPERM not permitted), 2 (bad usage), 126 (COMMAND cannot be executed, including a \
    transition the policy refuses) and 127 (COMMAND not found).\n\
    Writes: nothing (the exec context of this process, which the exec consumes).\n\n\
    Example:\n  relabel exec --context system_u:system_r:container_t:s0:c1,c2 -- id -Z\n  \
    relabel exec --context system_u:system_r:container_t:s0 --level s0:c5,c9 -- ps -Z"
)]
pub struct ExecArgs {
    /// The context COMMAND runs in, e.g. system_u:system_r:container_t:s0:c1,c2.
    #[arg(long, value_name = "CONTEXT")]
    pub context: String,
    /// Replace the context's level with this level or range (s0:c1,c2, s0-s0:c0.c1023).
    #[arg(long, value_name = "LEVEL")]
    pub level: Option<String>,
    /// The command and its arguments (after `--` when they start with `-`).
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<OsString>,
}

/// The context `exec` runs the command in.
fn exec_context(args: &ExecArgs) -> Result<SecurityContext, CliError> {
    let ctx: SecurityContext = args
        .context
        .parse()
        .map_err(|e| CliError::usage(format!("bad context {:?}: {e}", args.context)))?;
    match &args.level {
        None => Ok(ctx),
        Some(text) => {
            let range: MlsRange = text
                .parse()
                .map_err(|e| CliError::usage(format!("bad level {text:?}: {e}")))?;
            Ok(ctx.with_range(range))
        }
    }
}

/// Runs `relabel exec`: on success it does not return.
pub fn exec(args: ExecArgs) -> CmdResult {
    let ctx = exec_context(&args)?;
    let Some((program, rest)) = args.command.split_first() else {
        return Err(CliError::usage("exec needs a COMMAND"));
    };
    // The attribute is this thread's, and this thread execs.
    process::set_exec(&ctx).map_err(|e: ProcessError| {
        CliError::failed(format!(
            "cannot run {} as {ctx}: {e}",
            program.to_string_lossy()
        ))
    })?;
    out::flush();
    let e = std::process::Command::new(program).args(rest).exec();
    let exit = if e.kind() == std::io::ErrorKind::NotFound {
        Exit::CommandNotFound
    } else {
        Exit::CannotExecute
    };
    Err(CliError {
        exit,
        message: format!(
            "cannot run {} as {ctx}: {e}",
            Escaped::str(&program.to_string_lossy())
        ),
    })
}
