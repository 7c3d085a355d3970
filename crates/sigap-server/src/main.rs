//! The `sigap` command.

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use sigap_core::Ctx;
use sigap_server::config::{self, Flags, LogFormat, Settings};
use sigap_server::{App, Deps};
use std::io::BufRead;
use std::path::PathBuf;

/// Requests allocate and free many small strings (rows, JSON, headers); mimalloc does that
/// in a fraction of the C library's time, on every thread.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "sigap",
    version,
    about = "Sigap: IT service management in one program"
)]
struct Cli {
    /// Configuration file (default: ./sigap.toml when present).
    #[arg(long, global = true, env = "SIGAP_CONFIG")]
    config: Option<PathBuf>,
    /// Directory of the embedded database.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// postgres://… or sqlite://…; overrides data_dir.
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: web interface, API and background jobs.
    Serve(ServeArgs),
    /// Bring the database schema up to date, then exit.
    Migrate {
        /// Apply nothing: say which migrations are pending and whether every node seen in
        /// the last two minutes still serves once they are applied (exit 0), or not (1).
        #[arg(long)]
        check: bool,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Manage people and tokens from the command line.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Fill the database with generated data (demonstrations, the benchmark harness).
    /// Without a subcommand: a whole service desk with the sizes given as flags.
    #[command(args_conflicts_with_subcommands = true)]
    Seed {
        #[command(subcommand)]
        command: Option<SeedCommand>,
        #[command(flatten)]
        sizes: SeedSizes,
    },
    /// Import records from other tools.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Service level management from the command line.
    Sla {
        #[command(subcommand)]
        command: SlaCommand,
    },
    /// The e-mail channel.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// Copy the embedded database, as it is now, to FILE (a new file): one consistent
    /// snapshot, attachments included, while Sigap goes on serving. (PostgreSQL: pg_dump or
    /// a base backup; see docs/operations.md.)
    Backup {
        /// Where the copy goes; it must not exist.
        file: std::path::PathBuf,
    },
    /// Bring a backup made by `sigap backup` back as the embedded database, in a data
    /// directory that has none. The next `sigap migrate` or `sigap serve` brings its schema
    /// up to date.
    Restore {
        /// The backup.
        file: std::path::PathBuf,
    },
    /// Print the OpenAPI document of the REST API.
    Openapi,
    /// Print the version.
    Version,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on, e.g. 0.0.0.0:8080.
    #[arg(long)]
    listen: Option<String>,
    /// Address for Prometheus metrics (/metrics).
    #[arg(long)]
    metrics_listen: Option<String>,
}

#[derive(Subcommand)]
enum MailCommand {
    /// Take in one message from standard input (for an MTA to pipe mail to). Exits 0 once
    /// the message is kept (as a task, a reply, or in the quarantine), and 75 (EX_TEMPFAIL)
    /// when it could not be kept, so that the MTA keeps it and tries again.
    Receive {
        /// The mailbox: its address, name or id.
        #[arg(long)]
        mailbox: String,
    },
    /// Poll every mailbox that has an IMAP server once, and process what a crash left.
    Poll,
    /// Check the configured servers: the outbound SMTP server and each mailbox's IMAP server.
    Test,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print an annotated example configuration with the defaults.
    Default,
}

/// The sizes of `sigap seed` without a subcommand.
#[derive(Args)]
struct SeedSizes {
    /// Customer organizations (the callers belong to them).
    #[arg(long, default_value_t = 10)]
    organizations: usize,
    /// Callers (end users).
    #[arg(long, default_value_t = 200)]
    people: usize,
    /// Support groups, two agents each.
    #[arg(long, default_value_t = 10)]
    groups: usize,
    /// Catalogue services.
    #[arg(long, default_value_t = 50)]
    services: usize,
    /// Configuration items.
    #[arg(long, default_value_t = 5_000)]
    cis: usize,
    /// Relationships between them.
    #[arg(long, default_value_t = 20_000)]
    relationships: usize,
    /// Incidents, each with the caller's comment in its journal.
    #[arg(long, default_value_t = 10_000)]
    incidents: usize,
    /// Give every incident a running SLA clock.
    #[arg(long)]
    clocks: bool,
    /// The generator's seed; names carry it, so several seeds can share a database.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// A progress bar on standard error when it is a terminal.
fn progress_bar(label: &'static str) -> impl FnMut(usize, usize) {
    use std::io::{IsTerminal, Write};
    let tty = std::io::stderr().is_terminal();
    move |done: usize, total: usize| {
        if tty {
            let width = 40;
            let filled = (done * width)
                .checked_div(total)
                .unwrap_or(width)
                .min(width);
            let mut err = std::io::stderr();
            let _ = write!(
                err,
                "\r{label} [{}{}] {done}/{total}",
                "#".repeat(filled),
                " ".repeat(width - filled)
            );
            if done >= total {
                let _ = writeln!(err);
            }
            let _ = err.flush();
        }
    }
}

#[derive(Subcommand)]
enum SeedCommand {
    /// Incidents of five years of a service desk: ten groups with two agents each, two
    /// hundred callers, mostly closed.
    Incidents {
        /// Incidents to create.
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        /// The generator's seed; names carry it.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Write a random sample of incident numbers (one per line) to this file.
        #[arg(long)]
        sample_file: Option<std::path::PathBuf>,
    },
    /// A service catalogue (items in fifty categories on one service, half asking the
    /// requester's manager) and requests of one item each, nine in ten closed.
    Requests {
        /// Catalogue items to create.
        #[arg(long, default_value_t = 1_000)]
        items: usize,
        /// Requests to create.
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Changes on the CIs of a seeded CMDB (run `seed cmdb` first): normal changes authorized
    /// and scheduled over the year from a month ago, and some authorized but not scheduled.
    Changes {
        /// Scheduled changes to create.
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        /// Authorized changes waiting to be scheduled.
        #[arg(long, default_value_t = 1_000)]
        pending: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Published help articles in a knowledge base "Seed KB <seed>": generated titles and
    /// bodies over thirty systems, with rarer words (the knowledge benchmark).
    Articles {
        /// Articles to create.
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// A running SLA clock for every task without one (24x7, 8 hours); also measures due
    /// times on a business calendar with holidays.
    Clocks {
        /// How many clocks have their first warning due now.
        #[arg(long, default_value_t = 10_000)]
        due: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// A layered CMDB (network, storage, servers, VMs, databases, applications, application
    /// and business services) with catalogue services, offerings and customers.
    Cmdb {
        /// Configuration items to create.
        #[arg(long, default_value_t = 10_000)]
        cis: usize,
        /// Relationships to create.
        #[arg(long, default_value_t = 50_000)]
        relationships: usize,
        /// Catalogue services, each delivered by a business service CI.
        #[arg(long, default_value_t = 200)]
        services: usize,
        /// The generator's seed; names carry it, so several seeds can share a database.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Write a random sample of CIs (`id,class` lines) to this file.
        #[arg(long)]
        sample_file: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// A ServiceNow incident audit export (CSV or CSV.gz, one row per update): each incident
    /// once with its number, its updates as journal and audit entries; again changes nothing.
    ServicenowIncidents {
        /// The export file.
        file: std::path::PathBuf,
        /// Check and count only; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum SlaCommand {
    /// Handle the warning thresholds clocks have crossed, once, and print what was done and
    /// how long it took (the leader does this by itself while serving).
    Sweep,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain; names the first entry that was altered or removed.
    Verify,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a person.
    CreateUser {
        #[arg(long)]
        login: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: Option<String>,
        /// Role to grant (repeatable): requester, agent, manager, admin, approver, cab_member, portfolio_manager.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Organization id or name.
        #[arg(long)]
        organization: Option<String>,
        /// Password (visible to other local users; prefer --password-stdin).
        #[arg(long)]
        password: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a person's password.
    SetPassword {
        #[arg(long)]
        login: String,
        #[arg(long)]
        password: Option<String>,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Create an API token for a person and print only the token.
    CreateToken {
        /// Login of the person the token acts as.
        #[arg(long)]
        user: String,
        /// A name to recognise the token by.
        #[arg(long, default_value = "cli")]
        name: String,
        /// read or read_write.
        #[arg(long, default_value = "read_write")]
        scope: String,
        /// RFC 3339 expiry time.
        #[arg(long)]
        expires_at: Option<String>,
    },
    /// List people.
    ListUsers,
}

fn init_logging(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_new(&settings.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match settings.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

fn read_password(flag: Option<String>, stdin: bool) -> anyhow::Result<String> {
    if stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    flag.ok_or_else(|| anyhow::anyhow!("give --password or --password-stdin"))
}

fn app_error(e: sigap_core::AppError) -> anyhow::Error {
    match e {
        sigap_core::AppError::Validation(fields) => anyhow::anyhow!(
            "invalid input: {}",
            fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::anyhow!("{other}"),
    }
}

/// `EX_TEMPFAIL` (sysexits.h): the MTA keeps the message and tries again.
const EX_TEMPFAIL: u8 = 75;
/// The most `sigap mail receive` reads; a larger message is kept cut (and quarantined).
const RECEIVE_LIMIT: u64 = 64 * 1024 * 1024;

async fn mail(settings: Settings, command: MailCommand) -> anyhow::Result<std::process::ExitCode> {
    match command {
        MailCommand::Receive { mailbox } => Ok(receive(settings, &mailbox).await),
        MailCommand::Poll => {
            let app = App::build(settings, Deps::default()).await?;
            let trust = sigap_mail::smtp::TlsTrust {
                ca_file: app.settings.mail_ca_file.clone(),
            };
            let mut failed = false;
            let polled = sigap_mail::imap::poll_due(&app.core, &trust, true)
                .await
                .map_err(app_error)?;
            for (name, result) in polled {
                match result {
                    Ok(p) => println!("{name}: {} taken, {} left", p.taken, p.left),
                    Err(e) => {
                        failed = true;
                        println!("{name}: {e}");
                    }
                }
            }
            let swept = sigap_mail::intake::sweep(&app.core)
                .await
                .map_err(app_error)?;
            if swept > 0 {
                println!("{swept} kept messages processed");
            }
            Ok(if failed {
                std::process::ExitCode::FAILURE
            } else {
                std::process::ExitCode::SUCCESS
            })
        }
        MailCommand::Test => {
            let app = App::build(settings, Deps::default()).await?;
            let mailer = sigap_server::mailer(&app.settings)?;
            let mut failed = false;
            let o = sigap_core::mail::admin::outbound_settings(&app.core)
                .await
                .map_err(app_error)?;
            if o.host.is_empty() {
                println!("outbound: not set up");
            } else {
                match mailer.smtp.test(&o).await {
                    Ok(()) => println!("outbound {}:{} ({}): OK", o.host, o.port, o.security),
                    Err(e) => {
                        failed = true;
                        println!("outbound {}:{} ({}): {e}", o.host, o.port, o.security);
                    }
                }
            }
            let boxes = sigap_core::mail::admin::polled_mailboxes(&app.core)
                .await
                .map_err(app_error)?;
            for m in boxes {
                let host = m.imap.host.clone().unwrap_or_default();
                match sigap_mail::imap::connect(&m, mailer.smtp.trust()).await {
                    Ok(mut session) => {
                        let selected = session.select(&m.imap.folder).await;
                        let _ = session.logout().await;
                        match selected {
                            Ok(mb) => println!(
                                "mailbox {} ({host}, {}): OK, {} messages",
                                m.name, m.imap.folder, mb.exists
                            ),
                            Err(e) => {
                                failed = true;
                                println!(
                                    "mailbox {} ({host}): folder {}: {e}",
                                    m.name, m.imap.folder
                                );
                            }
                        }
                    }
                    Err(e) => {
                        failed = true;
                        println!("mailbox {} ({host}): {e}", m.name);
                    }
                }
            }
            Ok(if failed {
                std::process::ExitCode::FAILURE
            } else {
                std::process::ExitCode::SUCCESS
            })
        }
    }
}

/// `sigap mail receive`: every failure to keep the message is a temporary one for the MTA.
async fn receive(settings: Settings, mailbox: &str) -> std::process::ExitCode {
    use std::io::Read as _;
    let tempfail = |what: &str| {
        eprintln!("sigap mail receive: {what}; the message was not taken (try again later)");
        std::process::ExitCode::from(EX_TEMPFAIL)
    };
    let mut raw = Vec::new();
    if let Err(e) = std::io::stdin().take(RECEIVE_LIMIT).read_to_end(&mut raw) {
        return tempfail(&format!("reading the message: {e}"));
    }
    // One message, one process: the database on one connection and the use cases, nothing
    // of the web.
    let core = match sigap_server::open_core_solo(&settings, &Deps::default()).await {
        Ok(c) => c,
        Err(e) => return tempfail(&format!("{e:#}")),
    };
    let mb = match sigap_core::mail::admin::mailbox_for(&core, mailbox).await {
        Ok(m) => m,
        Err(sigap_core::AppError::NotFound) => {
            return tempfail(&format!("no mailbox {mailbox:?}"));
        }
        Err(e) => return tempfail(&e.to_string()),
    };
    let code = match sigap_mail::intake::receive(
        &core,
        &mb,
        &raw,
        sigap_core::mail::inbound::Source::Pipe,
    )
    .await
    {
        Ok(r) => {
            let said = match &r {
                sigap_mail::intake::Received::Done(id, h) => format!("{id}: {h:?}"),
                sigap_mail::intake::Received::Kept(id) => format!("{id}: kept, to be processed"),
                sigap_mail::intake::Received::Again(id, state) => {
                    format!("{id}: taken in before ({state})")
                }
            };
            println!("{said}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => tempfail(&e.to_string()),
    };
    // The process ends here, and everything is committed: closing the database would only
    // free what the exit frees anyway (7% of receive's instructions) and, when no other
    // process has it open, copy the log into the database file, holding every other process
    // off meanwhile (without a server running, two at a time went at half the speed; the
    // write that takes the log past its limit copies it anyway). The connection ends with
    // the process, as it would in a crash, which SQLite's log is made for.
    std::mem::forget(core);
    code
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // `sigap mail receive` runs once per message and does one thing at a time: a runtime on
    // this thread, without worker threads to start (and for the store's one connection to
    // be used on). Everything else, `serve` first, gets a thread per core.
    let receive = matches!(
        cli.command,
        Command::Mail {
            command: MailCommand::Receive { .. }
        }
    );
    let runtime = if receive {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    }
    .enable_all()
    .build();
    let runtime = match runtime {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return if receive {
                std::process::ExitCode::from(EX_TEMPFAIL)
            } else {
                std::process::ExitCode::FAILURE
            };
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `sigap migrate --check`: the pending migrations weighed against the running nodes, on
/// a database opened without migrating it.
async fn migrate_check(settings: &Settings) -> anyhow::Result<std::process::ExitCode> {
    let location = settings.database()?;
    let store = sigap_store::Store::open(&location, 2)
        .await
        .with_context(|| format!("cannot open the database {location:?}"))?;
    let c = sigap_core::upgrade::check(&store, jiff::Timestamp::now())
        .await
        .map_err(app_error)?;
    println!(
        "schema: the database is at version {}, this program's is {}",
        c.status.current, c.status.latest
    );
    if c.pending.is_empty() {
        println!("nothing to apply");
    } else {
        println!("to apply:");
        for p in &c.pending {
            let kind = match p.needs {
                0 => "expands the schema".to_owned(),
                n => format!("contracts the schema: needs programs of schema {n} or later"),
            };
            println!("  {} {} ({kind})", p.version, p.name);
        }
    }
    if c.nodes.is_empty() {
        println!("no node seen in the last two minutes");
    } else {
        println!("nodes seen in the last two minutes:");
        for (n, ok) in &c.nodes {
            println!(
                "  {} sigap {} (schema {}), up since {}: {}",
                n.host,
                n.version,
                n.schema_latest,
                n.started_at,
                if *ok {
                    "keeps serving"
                } else {
                    "STOPS serving: upgrade it first"
                }
            );
        }
    }
    if c.compatible() {
        println!("compatible: every running node keeps serving");
        Ok(std::process::ExitCode::SUCCESS)
    } else {
        println!(
            "not compatible: the migrations need programs of schema {} or later",
            c.needs_after
        );
        Ok(std::process::ExitCode::from(1))
    }
}

async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    let mut flags = Flags {
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
        ..Flags::default()
    };
    match cli.command {
        Command::Version => {
            println!("sigap {}", env!("CARGO_PKG_VERSION"));
            return Ok(std::process::ExitCode::SUCCESS);
        }
        Command::Openapi => {
            let doc = sigap_web::openapi()
                .to_pretty_json()
                .context("rendering the OpenAPI document")?;
            println!("{doc}");
            return Ok(std::process::ExitCode::SUCCESS);
        }
        Command::Config {
            command: ConfigCommand::Default,
        } => {
            print!("{}", config::EXAMPLE);
            return Ok(std::process::ExitCode::SUCCESS);
        }
        _ => {}
    }
    if let Command::Serve(args) = &cli.command {
        flags.listen = args.listen.clone();
        flags.metrics_listen = args.metrics_listen.clone();
    }
    let settings = Settings::load(cli.config.as_deref(), &flags)?;
    init_logging(&settings);
    match cli.command {
        Command::Serve(_) => serve(settings).await,
        Command::Migrate { check: true } => migrate_check(&settings).await,
        Command::Migrate { check: false } => {
            let app = App::build(settings, Deps::default()).await?;
            let applied = app.core.store.migrate().await?;
            if !applied.is_empty() {
                println!("applied {applied:?}");
            }
            let status = app.core.store.schema_status().await?;
            println!(
                "schema at version {} (latest {})",
                status.current, status.latest
            );
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Backup { file } => {
            let sigap_store::DatabaseLocation::Sqlite(db) = settings.database()? else {
                eprintln!(
                    "error: `sigap backup` copies the embedded SQLite database; back PostgreSQL \
                     up with pg_dump or a base backup (docs/operations.md)"
                );
                return Ok(std::process::ExitCode::from(2));
            };
            let started = std::time::Instant::now();
            let copied = tokio::task::spawn_blocking(move || {
                sigap_store::backup::backup_sqlite(&db, &file).map(|c| (c, db, file))
            })
            .await
            .context("the backup stopped")?;
            match copied {
                Ok((c, db, file)) => {
                    println!(
                        "backed up {} to {}: {} bytes, schema version {}, in {:.1} s",
                        db.display(),
                        file.display(),
                        c.bytes,
                        c.schema_version,
                        started.elapsed().as_secs_f64()
                    );
                    Ok(std::process::ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(std::process::ExitCode::from(2))
                }
            }
        }
        Command::Restore { file } => {
            let sigap_store::DatabaseLocation::Sqlite(db) = settings.database()? else {
                eprintln!(
                    "error: `sigap restore` brings back the embedded SQLite database; restore \
                     PostgreSQL with pg_restore or psql (docs/operations.md)"
                );
                return Ok(std::process::ExitCode::from(2));
            };
            let latest = sigap_store::latest_schema(sigap_store::Dialect::Sqlite);
            let restored = tokio::task::spawn_blocking(move || {
                sigap_store::backup::restore_sqlite(&file, &db, latest).map(|c| (c, db, file))
            })
            .await
            .context("the restore stopped")?;
            match restored {
                Ok((c, db, file)) => {
                    println!(
                        "restored {} as {}: schema version {}{}",
                        file.display(),
                        db.display(),
                        c.schema_version,
                        if c.schema_version < latest {
                            format!("; `sigap migrate` brings it to {latest}")
                        } else {
                            String::new()
                        }
                    );
                    Ok(std::process::ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(std::process::ExitCode::from(2))
                }
            }
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let app = App::build(settings, Deps::default()).await?;
            let report = sigap_core::audit::verify_chain(&app.core)
                .await
                .map_err(app_error)?;
            match report.first_bad {
                None => {
                    println!("audit log intact: {} entries checked", report.rows_checked);
                    Ok(std::process::ExitCode::SUCCESS)
                }
                Some((seq, why)) => {
                    println!(
                        "audit log BROKEN at entry #{seq}: {why} ({} entries before it are intact)",
                        report.rows_checked
                    );
                    Ok(std::process::ExitCode::from(2))
                }
            }
        }
        Command::Admin { command } => admin(settings, command).await,
        Command::Mail { command } => mail(settings, command).await,
        Command::Seed {
            command:
                Some(SeedCommand::Incidents {
                    count,
                    seed,
                    sample_file,
                }),
            ..
        } => {
            let app = App::build(settings, Deps::default()).await?;
            app.bootstrap(std::env::var("SIGAP_ADMIN_PASSWORD").ok())
                .await?;
            let started = std::time::Instant::now();
            let done =
                sigap_core::seed::seed_incidents(&app.core, &Ctx::system("seed"), count, seed)
                    .await
                    .map_err(app_error)?;
            println!(
                "created {} incidents in {:.1} s; groups {}; words: rare {:?}, common {:?}",
                done.count,
                started.elapsed().as_secs_f64(),
                done.groups.join(", "),
                done.rare_word,
                done.common_word
            );
            if let Some(path) = sample_file {
                std::fs::write(&path, done.sample.join("\n") + "\n")
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Seed {
            command: Some(SeedCommand::Requests { items, count, seed }),
            ..
        } => {
            let app = App::build(settings, Deps::default()).await?;
            app.bootstrap(std::env::var("SIGAP_ADMIN_PASSWORD").ok())
                .await?;
            let started = std::time::Instant::now();
            let done = sigap_core::seed::seed_requests(&app.core, items, count, seed)
                .await
                .map_err(app_error)?;
            println!(
                "created {} catalogue items and {} requests ({} waiting for approval) in {:.1} s; requester {}; manager {}",
                done.items,
                done.requests,
                done.waiting,
                started.elapsed().as_secs_f64(),
                done.requester,
                done.manager
            );
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Seed {
            command:
                Some(SeedCommand::Changes {
                    count,
                    pending,
                    seed,
                }),
            ..
        } => {
            let app = App::build(settings, Deps::default()).await?;
            app.bootstrap(std::env::var("SIGAP_ADMIN_PASSWORD").ok())
                .await?;
            let started = std::time::Instant::now();
            let done = sigap_core::seed::seed_changes(&app.core, count, pending, seed)
                .await
                .map_err(app_error)?;
            println!(
                "created {} scheduled changes and {} waiting to be scheduled ({} CI rows for the conflict check) in {:.1} s",
                done.scheduled,
                done.pending,
                done.reach_rows,
                started.elapsed().as_secs_f64()
            );
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Seed {
            command: Some(SeedCommand::Articles { count, seed }),
            ..
        } => {
            let app = App::build(settings, Deps::default()).await?;
            app.bootstrap(std::env::var("SIGAP_ADMIN_PASSWORD").ok())
                .await?;
            let started = std::time::Instant::now();
            let done = sigap_core::seed::seed_articles(&app.core, count, seed)
                .await
                .map_err(app_error)?;
            println!(
                "created {} published articles ({} to {}) in {:?} in {:.1} s; words: rare {:?}, common {:?}",
                done.count,
                done.first,
                done.last,
                done.knowledge_base,
                started.elapsed().as_secs_f64(),
                done.rare_word,
                done.common_words
            );
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Seed {
            command: Some(SeedCommand::Clocks { due, seed }),
            ..
        } => {
            let app = App::build(settings, Deps::default()).await?;
            app.bootstrap(std::env::var("SIGAP_ADMIN_PASSWORD").ok())
                .await?;
            let started = std::time::Instant::now();
            let done = sigap_core::seed::seed_clocks(&app.core, &Ctx::system("seed"), due, seed)
                .await
                .map_err(app_error)?;
            let rate = done.due_times as f64 / done.due_time_secs.max(1e-9);
            println!(
                "created {} clocks ({} with a warning due) in {:.1} s; {} due times with holidays in {:.3} s ({:.0} per second)",
                done.clocks,
                done.due,
                started.elapsed().as_secs_f64(),
                done.due_times,
                done.due_time_secs,
                rate
            );
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Import {
            command: ImportCommand::ServicenowIncidents { file, dry_run },
        } => {
            use std::io::{IsTerminal, Write};
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let app = App::build(settings, Deps::default()).await?;
            app.bootstrap(std::env::var("SIGAP_ADMIN_PASSWORD").ok())
                .await?;
            let started = std::time::Instant::now();
            let tty = std::io::stderr().is_terminal();
            let progress = |done: usize, total: usize| {
                if tty {
                    let width = 40;
                    let filled = (done * width)
                        .checked_div(total)
                        .unwrap_or(width)
                        .min(width);
                    let mut err = std::io::stderr();
                    let _ = write!(
                        err,
                        "\r[{}{}] {done}/{total} incidents",
                        "#".repeat(filled),
                        " ".repeat(width - filled)
                    );
                    let _ = err.flush();
                }
            };
            let s = sigap_core::import_sn::import(
                &app.core,
                &Ctx::system("import"),
                &bytes,
                dry_run,
                progress,
            )
            .await
            .map_err(app_error)?;
            if tty {
                eprintln!();
            }
            println!(
                "{}{} rows, {} incidents in {:.1} s: {} created, {} changed, {} unchanged, {} skipped; {} journal entries; created {} people, {} groups, {} categories, {} locations, {} CIs",
                if s.dry_run {
                    "dry run (nothing written): "
                } else {
                    ""
                },
                s.rows,
                s.incidents,
                started.elapsed().as_secs_f64(),
                s.created,
                s.changed,
                s.unchanged,
                s.skipped.len(),
                s.journal_entries,
                s.people_created,
                s.groups_created,
                s.categories_created,
                s.locations_created,
                s.cis_created
            );
            for k in s.skipped.iter().take(100) {
                println!("  skipped line {} {}: {}", k.line, k.number, k.reason);
            }
            if s.skipped.len() > 100 {
                println!("  … and {} more", s.skipped.len() - 100);
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Seed {
            command: None,
            sizes,
        } => {
            let app = App::build(settings, Deps::default()).await?;
            app.bootstrap(std::env::var("SIGAP_ADMIN_PASSWORD").ok())
                .await?;
            let ctx = Ctx::system("seed");
            let started = std::time::Instant::now();
            if sizes.cis > 0 || sizes.services > 0 {
                let done = sigap_core::seed::seed_cmdb(
                    &app.core,
                    &ctx,
                    sigap_core::seed::CmdbSpec {
                        cis: sizes.cis,
                        relationships: sizes.relationships,
                        services: sizes.services,
                        seed: sizes.seed,
                    },
                )
                .await
                .map_err(app_error)?;
                println!(
                    "created {} configuration items, {} relationships and {} services in {:.1} s",
                    done.cis,
                    done.relationships,
                    done.services,
                    started.elapsed().as_secs_f64()
                );
            }
            let t = std::time::Instant::now();
            let done = sigap_core::seed::seed_incidents_with(
                &app.core,
                &ctx,
                sigap_core::seed::IncidentSpec {
                    count: sizes.incidents,
                    seed: sizes.seed,
                    groups: sizes.groups,
                    callers: sizes.people,
                    organizations: sizes.organizations,
                    journal: true,
                },
                progress_bar("incidents"),
            )
            .await
            .map_err(app_error)?;
            let secs = t.elapsed().as_secs_f64();
            println!(
                "created {} organizations, {} callers, {} groups and {} incidents with their journals in {:.1} s ({:.0} incidents per second)",
                sizes.organizations,
                sizes.people,
                sizes.groups,
                done.count,
                secs,
                done.count as f64 / secs.max(1e-9)
            );
            if sizes.clocks {
                let c = sigap_core::seed::seed_clocks(&app.core, &ctx, 0, sizes.seed)
                    .await
                    .map_err(app_error)?;
                println!("created {} SLA clocks", c.clocks);
            }
            println!("done in {:.1} s", started.elapsed().as_secs_f64());
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Sla {
            command: SlaCommand::Sweep,
        } => {
            let app = App::build(settings, Deps::default()).await?;
            let started = std::time::Instant::now();
            let done = sigap_core::sla::sweep(&app.core).await.map_err(app_error)?;
            println!(
                "swept in {:.4} s: {} clocks checked, {} notifications, {} escalations",
                started.elapsed().as_secs_f64(),
                done.checked,
                done.notified,
                done.escalated
            );
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Seed {
            command:
                Some(SeedCommand::Cmdb {
                    cis,
                    relationships,
                    services,
                    seed,
                    sample_file,
                }),
            ..
        } => {
            let app = App::build(settings, Deps::default()).await?;
            app.bootstrap(std::env::var("SIGAP_ADMIN_PASSWORD").ok())
                .await?;
            let started = std::time::Instant::now();
            let spec = sigap_core::seed::CmdbSpec {
                cis,
                relationships,
                services,
                seed,
            };
            let done = sigap_core::seed::seed_cmdb(&app.core, &Ctx::system("seed"), spec)
                .await
                .map_err(app_error)?;
            println!(
                "created {} configuration items, {} relationships and {} services in {:.1} s",
                done.cis,
                done.relationships,
                done.services,
                started.elapsed().as_secs_f64()
            );
            if let Some(path) = sample_file {
                let lines: Vec<String> = done
                    .sample
                    .iter()
                    .map(|(id, class)| format!("{id},{class}"))
                    .collect();
                std::fs::write(&path, lines.join("\n") + "\n")
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Version | Command::Openapi | Command::Config { .. } => {
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<std::process::ExitCode> {
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    if let Some(metrics_addr) = settings.metrics_listen.clone() {
        let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
            .install_recorder()
            .context("installing the metrics recorder")?;
        sigap_web::enable_metrics();
        let ml = tokio::net::TcpListener::bind(&metrics_addr)
            .await
            .with_context(|| format!("cannot listen on {metrics_addr} for metrics"))?;
        tracing::info!(address = %metrics_addr, "metrics at /metrics");
        tokio::spawn(sigap_server::serve_metrics(ml, handle));
    }
    tracing::info!(settings = ?settings, "starting");
    let app = App::build(settings, Deps::default()).await?;
    let password = app
        .bootstrap(std::env::var("SIGAP_ADMIN_PASSWORD").ok())
        .await?;
    let url = app
        .settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    println!("Sigap is listening on {url}");
    if let Some(pw) = password {
        println!();
        println!("  First start: created the administrator.");
        println!("  Sign in at {url}/login as   admin   with password   {pw}");
        println!("  This password is shown only now; change it under Profile.");
        println!();
    }
    app.serve(listener, sigap_server::shutdown_signal()).await?;
    Ok(std::process::ExitCode::SUCCESS)
}

async fn admin(
    settings: Settings,
    command: AdminCommand,
) -> anyhow::Result<std::process::ExitCode> {
    let app = App::build(settings, Deps::default()).await?;
    let ctx = Ctx::system("cli");
    match command {
        AdminCommand::CreateUser {
            login,
            name,
            email,
            roles,
            organization,
            password,
            password_stdin,
        } => {
            let password = if password.is_some() || password_stdin {
                Some(read_password(password, password_stdin)?)
            } else {
                None
            };
            let input = sigap_core::people::PersonInput {
                login: Some(login),
                name: Some(name),
                email: email.map(Some),
                roles: if roles.is_empty() { None } else { Some(roles) },
                organization: organization.map(Some),
                password,
                ..Default::default()
            };
            let p = sigap_core::people::create(&app.core, &ctx, input)
                .await
                .map_err(app_error)?;
            println!("created {} ({})", p.login, p.id);
        }
        AdminCommand::SetPassword {
            login,
            password,
            password_stdin,
        } => {
            let pw = read_password(password, password_stdin)?;
            sigap_core::people::set_password(&app.core, &ctx, &login, &pw)
                .await
                .map_err(app_error)?;
            println!("password set for {login}");
        }
        AdminCommand::CreateToken {
            user,
            name,
            scope,
            expires_at,
        } => {
            let person = sigap_core::people::get(&app.core, &ctx, &user)
                .await
                .map_err(|e| match e {
                    sigap_core::AppError::NotFound => {
                        anyhow::anyhow!("no person with login {user:?}")
                    }
                    other => app_error(other),
                })?;
            if !person.active {
                bail!("{user} is not active");
            }
            let as_person = Ctx::new(
                sigap_core::Principal::from_person(&person, sigap_core::AuthMethod::System),
                format!("cli-{}", uuid::Uuid::now_v7()),
            );
            let input = sigap_core::tokens::TokenInput {
                name: Some(name),
                scope: Some(scope),
                expires_at,
            };
            let (_, token) = sigap_core::tokens::create(&app.core, &as_person, input)
                .await
                .map_err(app_error)?;
            println!("{token}");
        }
        AdminCommand::ListUsers => {
            let mut cursor = None;
            println!("{:<24} {:<32} {:<8} roles", "login", "name", "active");
            loop {
                let params = sigap_core::listing::ListParams {
                    cursor: cursor.clone(),
                    sort: Some("login".into()),
                    limit: Some(500),
                };
                let page = sigap_core::people::list(&app.core, &ctx, Default::default(), &params)
                    .await
                    .map_err(app_error)?;
                for p in &page.items {
                    let roles: Vec<&str> = p.roles.iter().map(|r| r.code()).collect();
                    println!(
                        "{:<24} {:<32} {:<8} {}",
                        p.login,
                        p.name,
                        if p.active { "yes" } else { "no" },
                        roles.join(",")
                    );
                }
                match page.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}
