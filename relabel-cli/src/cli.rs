//! The command-line definition: one clap derive tree, from which help,
//! completions and the man page all come.

use clap::{Parser, Subcommand};

use crate::cmd;
use crate::exit::EXIT_STATUS_HELP;

/// SELinux contexts, MCS category pairs and volume labels for container hosts.
#[derive(Parser, Debug)]
#[command(
    name = "relabel",
    version,
    about = "SELinux contexts, MCS category pairs and volume labels for container hosts",
    after_help = EXIT_STATUS_HELP,
    after_long_help = EXIT_STATUS_HELP
)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Say what a context means, field by field, and print its canonical form.
    Explain(cmd::explain::Args),
    /// Decide whether a process context may read, write or create a file context under MCS.
    Check(cmd::check::Args),
    /// Explain AVC denials from the policy (as audit2why), with the fix.
    Why(cmd::why::Args),
    /// Check contexts against the binary policy, as the kernel would.
    Validate(cmd::binpolicy::ValidateArgs),
    /// List the policy's booleans, their defaults and current states.
    Booleans(cmd::binpolicy::BooleansArgs),
    /// Summarize the binary policy (seinfo's statistics).
    Policy(cmd::binpolicy::PolicyInfoArgs),
    /// Allocate MCS category pairs from the registry.
    Alloc(cmd::registry::AllocArgs),
    /// Reserve a level for an owner in the registry.
    Reserve(cmd::registry::ReserveArgs),
    /// Release an owner's pair, or a level, in the registry.
    Release(cmd::registry::ReleaseArgs),
    /// List the registry's reservations.
    List(cmd::registry::ListArgs),
    /// Record the pairs this host already uses (running processes, labeled paths) in the registry.
    Adopt(cmd::registry::AdoptArgs),
    /// Relabel files and trees (podman's :z shared and :Z private).
    Apply(cmd::label::ApplyArgs),
    /// Show file labels, as `ls -Z` does, or process labels (--pid), as `ps -Z` does.
    Show(cmd::label::ShowArgs),
    /// Run a command in a context, as `runcon` does.
    Exec(cmd::process::ExecArgs),
    /// Print the mount option that labels a fresh mount instead of relabeling it.
    MountOption(cmd::label::MountOptionArgs),
    /// Print the context file_contexts gives each path, as matchpathcon does.
    Lookup(cmd::policy::LookupArgs),
    /// Restore default labels from file_contexts, as restorecon does.
    Restore(cmd::policy::RestoreArgs),
    /// Print a shell completion script.
    Completions(cmd::docs::CompletionsArgs),
    /// Print the man page, or write one per command into a directory.
    Man(cmd::docs::ManArgs),
}

impl Command {
    /// Runs the command.
    pub fn run(self) -> crate::exit::CmdResult {
        match self {
            Command::Explain(a) => cmd::explain::run(a),
            Command::Check(a) => cmd::check::run(a),
            Command::Why(a) => cmd::why::run(a),
            Command::Validate(a) => cmd::binpolicy::validate(a),
            Command::Booleans(a) => cmd::binpolicy::booleans(a),
            Command::Policy(a) => cmd::binpolicy::policy_info(a),
            Command::Alloc(a) => cmd::registry::alloc(a),
            Command::Reserve(a) => cmd::registry::reserve(a),
            Command::Release(a) => cmd::registry::release(a),
            Command::List(a) => cmd::registry::list(a),
            Command::Adopt(a) => cmd::registry::adopt(a),
            Command::Apply(a) => cmd::label::apply(a),
            Command::Show(a) => cmd::label::show(a),
            Command::Exec(a) => cmd::process::exec(a),
            Command::MountOption(a) => cmd::label::mount_option(a),
            Command::Lookup(a) => cmd::policy::lookup(a),
            Command::Restore(a) => cmd::policy::restore(a),
            Command::Completions(a) => cmd::docs::completions(a),
            Command::Man(a) => cmd::docs::man(a),
        }
    }
}
