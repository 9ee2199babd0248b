//! `qmp`: an interactive QMP shell, the Rust answer to QEMU's `qmp-shell` and
//! `qmp-shell-wrap`.
//!
//! ```text
//! qmp /run/vm.sock                 connect to a QMP socket (or host:port)
//! qmp --launch                     start QEMU (-M none) and talk to it
//! qmp --launch -- qemu-system-x86_64 -M q35 -m 1G ...
//! qmp -N /run/qga.sock             talk to a guest agent
//! qmp --launch -c query-status -c 'qom-list path=/machine'
//! ```

mod line;
mod schema;

use clap::Parser;
use line::{NoTypes, Parsed, Types};
use qemu_qmp::{Address, Client, Error, Message};
use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};
use serde_json::{json, Value};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "qmp",
    version,
    about = "Interactive QEMU Machine Protocol shell"
)]
struct Args {
    /// UNIX socket path or host:port of the QMP server (default: $QMP_SOCKET).
    address: Option<String>,

    /// Start QEMU and accept its QMP connection. The QEMU command line follows `--`
    /// (default: qemu-system-x86_64 -M none -nodefaults -display none).
    #[arg(long)]
    launch: bool,

    /// Skip the greeting and negotiation (for the guest agent, qemu-ga).
    #[arg(short = 'N', long)]
    no_negotiate: bool,

    /// HMP mode: lines are human monitor commands.
    #[arg(short = 'H', long)]
    hmp: bool,

    /// Echo each command's JSON before sending it.
    #[arg(short, long)]
    verbose: bool,

    /// Pretty-print replies and events.
    #[arg(short, long)]
    pretty: bool,

    /// Append each command and its reply, as one JSON line, to this file.
    #[arg(short, long)]
    logfile: Option<PathBuf>,

    /// Run this command and exit (repeatable); stdin is not read.
    #[arg(short = 'c', long = "command")]
    commands: Vec<String>,

    /// Seconds to wait for each reply (default: forever).
    #[arg(long)]
    timeout: Option<f64>,

    /// Seconds to wait for the connection and QEMU's greeting (default 15).
    #[arg(long, default_value_t = 15.0)]
    connect_timeout: f64,

    /// Output JSON lines only: replies, events and the shell's own errors
    /// (`{"error": {"class": "LocalError", ...}}`), one per line, for scripts.
    #[arg(long)]
    json: bool,

    /// Follow events only: print each as it arrives until interrupted (with --filter,
    /// only those named).
    #[arg(long)]
    events: bool,

    /// With --events: only events of this name (repeatable).
    #[arg(long = "filter")]
    filters: Vec<String>,

    /// Send commands even when the schema says they are wrong (no local checks).
    #[arg(long)]
    no_check: bool,

    /// The QEMU command line for --launch.
    #[arg(last = true)]
    qemu: Vec<String>,
}

/// Set when stdout is gone (`qmp ... | head`): the shell then stops quietly.
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Writes a line to stdout and flushes it (each reply is seen as it comes, through a
/// pipe too); a closed stdout stops the shell instead of panicking.
fn out(text: &str) {
    let mut o = std::io::stdout().lock();
    if writeln!(o, "{text}").and_then(|()| o.flush()).is_err() {
        STDOUT_CLOSED.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(std::sync::atomic::Ordering::Relaxed)
}

struct Shell {
    client: Client,
    events: qemu_qmp::EventListener,
    args: Args,
    index: Arc<schema::Index>,
    log: Option<std::fs::File>,
    failed: bool,
    cpu: Option<i64>,
}

fn render(v: &Value, pretty: bool) -> String {
    let s = if pretty {
        serde_json::to_string_pretty(v)
    } else {
        serde_json::to_string(v)
    };
    s.unwrap_or_default()
}

impl Shell {
    fn print_json(&self, v: &Value) {
        out(&render(v, self.args.pretty && !self.args.json));
    }

    /// A problem found by the shell itself (not QEMU's reply).
    fn local_error(&mut self, msg: &str) {
        self.failed = true;
        if self.args.json {
            out(&json!({"error": {"class": "LocalError", "desc": msg}}).to_string());
        } else {
            eprintln!("error: {msg}");
        }
    }

    fn print_events(&self) {
        for ev in self.events.clear() {
            self.print_json(&ev.to_value());
        }
    }

    /// Sends one message and prints the whole reply. Returns false when the connection
    /// is gone.
    async fn run(&mut self, msg: serde_json::Map<String, Value>) -> bool {
        let logged = Value::Object(msg.clone());
        if self.args.verbose {
            self.print_json(&logged);
        }
        // A command the server does not answer on success (guest-shutdown): sent, and
        // not waited for.
        if let Some(cmd) = no_reply_command(&msg) {
            let name = qemu_qmp::Command::name(&cmd).to_owned();
            let result = self.client.execute(cmd).await.map(|_| None);
            return self.show(result, &logged, Some(&name)).await;
        }
        // Sent as given: QEMU's reply is shown as it came, with the id typed (if any)
        // and never one of the client's own. The client applies --timeout.
        let result = self.client.execute_msg_raw(Message(msg)).await.map(Some);
        self.show(result, &logged, None).await
    }

    /// Prints a reply (or, for a command without one, a note that it was sent).
    /// Returns false when the connection is gone.
    async fn show(
        &mut self,
        result: qemu_qmp::Result<Option<Message>>,
        logged: &Value,
        no_reply: Option<&str>,
    ) -> bool {
        let reply = match result {
            Ok(None) => {
                if let Some(name) = no_reply {
                    eprintln!("{name}: sent (no reply comes when it succeeds)");
                }
                None
            }
            Ok(Some(m)) => {
                if m.get("error").is_some() {
                    self.failed = true;
                }
                Some(Value::Object(m.0))
            }
            Err(Error::Execute(e)) => {
                self.failed = true;
                Some(e.received_json())
            }
            Err(Error::Interrupted) | Err(Error::State { .. }) => {
                self.failed = true;
                let cause = self.client.disconnect().await;
                match cause {
                    Err(e) => eprintln!("connection closed: {e}"),
                    Ok(()) => eprintln!("connection closed"),
                }
                return false;
            }
            Err(e) => {
                self.local_error(&e.to_string());
                None
            }
        };
        if let Some(reply) = &reply {
            self.print_json(reply);
        }
        if let Some(f) = &mut self.log {
            let _ = writeln!(f, "{}", json!({"command": logged, "reply": reply}));
        }
        self.print_events();
        true
    }

    async fn hmp(&mut self, line: &str) -> bool {
        let line = line.trim();
        if line.is_empty() {
            return true;
        }
        if let Some(n) = line.strip_prefix("cpu ") {
            match n.trim().parse::<i64>() {
                Ok(n) => {
                    self.cpu = Some(n);
                    return true;
                }
                Err(_) => {
                    eprintln!("cpu takes an integer argument");
                    return true;
                }
            }
        }
        let mut args = serde_json::Map::new();
        args.insert("command-line".into(), line.into());
        if let Some(cpu) = self.cpu {
            args.insert("cpu-index".into(), cpu.into());
        }
        match self
            .client
            .execute_raw("human-monitor-command", Some(Value::Object(args)))
            .await
        {
            Ok(Value::String(s)) => out(s.trim_end_matches('\n')),
            Ok(other) => self.print_json(&other),
            Err(Error::Execute(e)) => {
                self.failed = true;
                eprintln!("{}: {}", e.class, e.desc);
            }
            Err(e) => {
                self.failed = true;
                eprintln!("error: {e}");
                if matches!(e, Error::Interrupted | Error::State { .. }) {
                    return false;
                }
            }
        }
        !stdout_closed()
    }
}

/// Where the shell is in its input: normal or collecting transaction actions.
enum Mode {
    Normal,
    Transaction(Vec<Value>),
}

/// "since QEMU 8.2" for a command of the compiled bindings.
fn since_text(agent: bool, name: &str) -> Option<String> {
    let a = if agent {
        qemu_qmp::qga::commands::availability(name)
    } else {
        qemu_qmp::qmp::commands::availability(name)
    }?;
    let c = &a.command;
    let mut s = match (c.since, c.added_after) {
        (Some(v), _) => format!("since QEMU {}", v.short()),
        (None, Some(v)) => format!("added after QEMU {}", v.short()),
        (None, None) => format!("in QEMU {} and later", c.first_seen.short()),
    };
    if let (Some(l), Some(r)) = (c.last_seen, c.removed_by) {
        s.push_str(&format!(
            ", until QEMU {} (gone by {})",
            l.short(),
            r.short()
        ));
    }
    Some(s)
}

/// Handles one input line; returns false to stop.
async fn handle(shell: &mut Shell, mode: &mut Mode, input: &str) -> bool {
    if shell.args.hmp {
        return shell.hmp(input).await;
    }
    match mode {
        Mode::Transaction(actions) => {
            let t = input.trim();
            if t == ")" {
                let actions = std::mem::take(actions);
                *mode = Mode::Normal;
                return shell.run(line::transaction(actions)).await;
            }
            if t.is_empty() {
                return true;
            }
            let words = match line::split_words(t) {
                Ok(w) => w,
                Err(e) => {
                    eprintln!("error: {e}");
                    return true;
                }
            };
            if let Some((ty, rest)) = words.split_first() {
                match line::action(ty, rest) {
                    Ok(a) => actions.push(a),
                    Err(e) => eprintln!("error: {e}"),
                }
            }
            true
        }
        Mode::Normal => {
            let types: &dyn Types = if shell.args.no_negotiate {
                &NoTypes
            } else {
                &*shell.index
            };
            let trimmed = input.trim();
            if trimmed == "help" || trimmed == "?" || trimmed.starts_with("help ") {
                let cmd = trimmed
                    .strip_prefix("help")
                    .map(str::trim)
                    .filter(|c| !c.is_empty());
                let since = |name: &str| since_text(shell.args.no_negotiate, name);
                for l in shell.index.help(cmd, &since).lines() {
                    out(l);
                }
                return true;
            }
            match line::parse(input, types) {
                Ok(Parsed::Empty) => {
                    shell.print_events();
                    true
                }
                Ok(Parsed::Command(m)) if !shell.args.no_check => {
                    let name = m
                        .get("execute")
                        .or_else(|| m.get("exec-oob"))
                        .and_then(Value::as_str);
                    let checked = match name {
                        Some(n) => shell
                            .index
                            .check(n, m.get("arguments").and_then(Value::as_object)),
                        None => Ok(()),
                    };
                    match checked {
                        Ok(()) => shell.run(m).await,
                        Err(e) => {
                            shell.local_error(&format!(
                                "{e} (not sent; --no-check sends it anyway)"
                            ));
                            true
                        }
                    }
                }
                Ok(Parsed::BeginTransaction) => {
                    *mode = Mode::Transaction(Vec::new());
                    true
                }
                Ok(Parsed::Command(m)) => shell.run(m).await,
                Err(e) => {
                    shell.local_error(&e.to_string());
                    if !shell.args.json {
                        eprintln!("usage: COMMAND [KEY=VALUE ...] | {{JSON}} | transaction( ... ) | help [COMMAND]");
                    }
                    true
                }
            }
        }
    }
}

struct ShellHelper {
    index: Arc<schema::Index>,
}

impl Completer for ShellHelper {
    type Candidate = String;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let before = &line[..pos];
        let start = before
            .rfind(char::is_whitespace)
            .map(|i| i + 1)
            .unwrap_or(0);
        let word = &before[start..];
        if start == 0 {
            let names = self
                .index
                .command_names()
                .filter(|n| n.starts_with(word))
                .map(str::to_owned)
                .collect();
            return Ok((0, names));
        }
        let mut words = before.split_whitespace();
        let command = words.next().unwrap_or("");
        let typed: Vec<(String, String)> = words
            .filter_map(|w| w.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Ok((
            start,
            self.index.complete_argument_in(command, word, &typed),
        ))
    }
}
impl Hinter for ShellHelper {
    type Hint = String;
}
impl Highlighter for ShellHelper {}
impl Validator for ShellHelper {}
impl Helper for ShellHelper {}

/// A QEMU the shell started; stopped when the shell ends.
struct Launched {
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Drop for Launched {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn connect(args: &Args, client: &Client) -> Result<Option<Launched>, String> {
    if args.launch {
        let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
        let sock = dir.path().join("qmp.sock");
        client
            .start_server(&sock)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", sock.display()))?;
        let default = [
            "qemu-system-x86_64",
            "-M",
            "none",
            "-nodefaults",
            "-display",
            "none",
        ];
        let cmdline: Vec<String> = if args.qemu.is_empty() {
            default.iter().map(|s| s.to_string()).collect()
        } else {
            args.qemu.clone()
        };
        let child = std::process::Command::new(&cmdline[0])
            .args(&cmdline[1..])
            .arg("-qmp")
            .arg(format!("unix:{}", sock.display()))
            .stdin(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", cmdline[0]))?;
        let launched = Launched { child, _dir: dir };
        client
            .accept()
            .await
            .map_err(|e| format!("QEMU did not connect: {e}"))?;
        return Ok(Some(launched));
    }
    let addr = args
        .address
        .clone()
        .or_else(|| std::env::var("QMP_SOCKET").ok())
        .ok_or("no address: give a socket path or host:port, set QMP_SOCKET, or use --launch")?;
    match client.connect(Address::parse(&addr)).await {
        Ok(()) => Ok(None),
        Err(e) => {
            let no_greeting = matches!(
                &e,
                Error::Connect { phase: qemu_qmp::ConnectPhase::Session, source, .. }
                    if matches!(**source, Error::Timeout { .. })
            );
            if no_greeting && !args.no_negotiate {
                Err(format!(
                    "cannot connect to {addr}: {e}\n\
                     nothing was said: this looks like a guest agent (qemu-ga), which sends no \
                     greeting; use -N"
                ))
            } else {
                Err(format!("cannot connect to {addr}: {e}"))
            }
        }
    }
}

async fn build_index(client: &Client, agent: bool) -> schema::Index {
    if agent {
        // The guest agent has no introspection: the compiled-in schema of the newest
        // release, narrowed to the commands this agent says it has.
        let compiled = qemu_qmp::__introspection::INDEX
            .iter()
            .rev()
            .find(|(iface, _, _)| *iface == "qga")
            .and_then(|(_, _, data)| serde_json::from_str::<Value>(data).ok())
            .map(|d| d["schema"].clone());
        let supported: Option<Vec<String>> = client
            .execute_raw("guest-info", None)
            .await
            .ok()
            .and_then(|v| {
                v["supported_commands"].as_array().map(|cmds| {
                    cmds.iter()
                        .filter_map(|c| c["name"].as_str().map(str::to_owned))
                        .collect()
                })
            });
        if let Some(mut schema) = compiled {
            if let (Some(list), Some(names)) = (schema.as_array_mut(), &supported) {
                list.retain(|e| {
                    e["meta-type"] != "command"
                        || e["name"]
                            .as_str()
                            .is_some_and(|n| names.iter().any(|s| s == n))
                });
            }
            return schema::Index::from_introspection(&schema);
        }
        return schema::Index::from_names(supported.unwrap_or_default());
    }
    match client.execute_raw("query-qmp-schema", None).await {
        Ok(s) => schema::Index::from_introspection(&s),
        Err(_) => schema::Index::default(),
    }
}

/// `--events`: every event (or those named by --filter) as it arrives, until
/// interrupted or the connection ends.
async fn follow_events(shell: &Shell) {
    loop {
        tokio::select! {
            ev = shell.events.get() => {
                let Some(ev) = ev else { break };
                if shell.args.filters.is_empty() || shell.args.filters.iter().any(|f| f == ev.name()) {
                    shell.print_json(&ev.to_value());
                }
                if stdout_closed() {
                    break;
                }
            }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
}

/// Lines from stdin (or -c) run as they arrive: each reply is printed and flushed at
/// once, and events are printed while the shell waits for the next line.
async fn piped_loop(shell: &mut Shell, mode: &mut Mode) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    if shell.args.commands.is_empty() {
        // A thread, since reading stdin blocks.
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    } else {
        for c in shell.args.commands.clone() {
            let _ = tx.send(c);
        }
        drop(tx);
    }
    loop {
        tokio::select! {
            biased;
            line = rx.recv() => {
                let Some(line) = line else { break };
                if !handle(shell, mode, &line).await || stdout_closed() {
                    return;
                }
            }
            ev = shell.events.get() => {
                let Some(ev) = ev else { break };
                shell.print_json(&ev.to_value());
                if stdout_closed() {
                    return;
                }
            }
        }
    }
    shell.print_events();
}

/// The prompt: events are printed above it as they arrive, Ctrl-C while a command
/// waits stops waiting and returns to it.
async fn interactive_loop(shell: &mut Shell, mode: &mut Mode, index: Arc<schema::Index>) {
    let what = if shell.args.hmp { "HMP" } else { "QMP" };
    out(&format!(
        "Welcome to the {what} shell (qmp {}).",
        env!("CARGO_PKG_VERSION")
    ));
    match shell.client.greeting().and_then(|g| g.qemu_version()) {
        Some((a, b, c)) => out(&format!("Connected to QEMU {a}.{b}.{c}")),
        None => out("Connected"),
    }
    out("Tab completes commands and arguments; help [COMMAND] explains them; Ctrl-C stops waiting; Ctrl-D exits.\n");
    let mut rl: Editor<ShellHelper, rustyline::history::DefaultHistory> = match Editor::with_config(
        rustyline::Config::builder()
            .completion_type(rustyline::CompletionType::List)
            .max_history_size(1024)
            .map(|b| b.build())
            .unwrap_or_default(),
    ) {
        Ok(rl) => rl,
        Err(e) => {
            eprintln!("qmp: terminal: {e}");
            shell.failed = true;
            return;
        }
    };
    rl.set_helper(Some(ShellHelper { index }));
    let history = history_path();
    if let Some(h) = &history {
        let _ = rl.load_history(h);
    }
    // Events go through the line editor's printer, which redraws the line being typed.
    let printer = rl.create_external_printer().ok();
    let printing = printer.map(|mut p| {
        use rustyline::ExternalPrinter;
        let events = shell.events.clone();
        let pretty = shell.args.pretty && !shell.args.json;
        tokio::spawn(async move {
            while let Some(ev) = events.get().await {
                if p.print(format!("{}\n", render(&ev.to_value(), pretty)))
                    .is_err()
                {
                    break;
                }
            }
        })
    });
    loop {
        if printing.is_none() {
            shell.print_events();
        }
        let prompt = match (&*mode, shell.args.hmp) {
            (_, true) => "(HMP) ",
            (Mode::Transaction(_), _) => "TRANS> ",
            _ => "(QEMU) ",
        };
        let input = match tokio::task::block_in_place(|| rl.readline(prompt)) {
            Ok(l) => l,
            Err(ReadlineError::Interrupted) => continue,
            Err(_) => break,
        };
        if !input.trim().is_empty() {
            let _ = rl.add_history_entry(input.as_str());
        }
        let keep_going = tokio::select! {
            k = handle(shell, mode, &input) => k,
            _ = tokio::signal::ctrl_c() => {
                eprintln!("(stopped waiting; a late reply is dropped)");
                true
            }
        };
        if !keep_going {
            break;
        }
    }
    if let Some(t) = printing {
        t.abort();
    }
    if let Some(h) = &history {
        let _ = rl.save_history(h);
    }
}

fn history_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".qmp_history"))
}

async fn main_async(args: Args) -> ExitCode {
    let Ok(connect_timeout) = Duration::try_from_secs_f64(args.connect_timeout) else {
        eprintln!(
            "qmp: --connect-timeout must be a non-negative number of seconds, not {}",
            args.connect_timeout
        );
        return ExitCode::from(2);
    };
    let mut builder = Client::builder("qmp-shell").connect_timeout(connect_timeout);
    if let Some(secs) = args.timeout {
        match Duration::try_from_secs_f64(secs) {
            Ok(t) => builder = builder.command_timeout(t),
            Err(_) => {
                eprintln!("qmp: --timeout must be a non-negative number of seconds, not {secs}");
                return ExitCode::from(2);
            }
        }
    }
    let client = if args.no_negotiate {
        builder.guest_agent().build()
    } else {
        builder.build()
    };
    // Created before connecting: events that arrive from the start are shown.
    let events = client.events();
    let launched = match connect(&args, &client).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("qmp: {e}");
            return ExitCode::FAILURE;
        }
    };
    let index = Arc::new(build_index(&client, args.no_negotiate).await);
    let log = match &args.logfile {
        Some(p) => match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
        {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("qmp: cannot open log file {}: {e}", p.display());
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    let interactive = args.commands.is_empty() && !args.events && std::io::stdin().is_terminal();
    let mut shell = Shell {
        client: client.clone(),
        events,
        index: index.clone(),
        log,
        failed: false,
        cpu: None,
        args,
    };
    let mut mode = Mode::Normal;

    if shell.args.events {
        follow_events(&shell).await;
    } else if interactive {
        interactive_loop(&mut shell, &mut mode, index).await;
    } else {
        piped_loop(&mut shell, &mut mode).await;
    }

    if let Some(mut launched) = launched {
        if client.runstate() == qemu_qmp::RunState::Running {
            let _ = client.execute_raw("quit", None).await;
        }
        let _ = client.disconnect().await;
        for _ in 0..100 {
            if matches!(launched.child.try_wait(), Ok(Some(_))) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    } else if let Err(e) = client.disconnect().await {
        if !e.is_peer_closed() {
            eprintln!("qmp: {e}");
        }
    }
    if shell.failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.launch && args.address.is_some() {
        eprintln!("qmp: give either an address or --launch, not both");
        return ExitCode::from(2);
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("qmp: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(main_async(args))
}

/// The command of `msg` when the compiled-in schemas say its server does not reply on
/// success (`success-response: false`, the guest agent's `guest-shutdown` and
/// `guest-suspend-*`) and the message has no id of its own.
fn no_reply_command(msg: &serde_json::Map<String, Value>) -> Option<qemu_qmp::RawCommand> {
    struct NoReply<'a>(&'a Value);
    impl qemu_qmp::qmp_types::qapi::CommandVisitor for NoReply<'_> {
        type Output = bool;
        fn visit<C>(self) -> bool
        where
            C: qemu_qmp::Command
                + qemu_qmp::qmp_types::qapi::CommandName
                + qemu_qmp::qmp_types::serde::de::DeserializeOwned
                + 'static,
            C::Returns: qemu_qmp::qmp_types::serde::Serialize + std::fmt::Debug,
        {
            C::deserialize(self.0)
                .map(|c| !c.success_response())
                .unwrap_or(false)
        }
    }
    if msg.contains_key("id") {
        return None;
    }
    let name = msg.get("execute")?.as_str()?;
    let args = msg.get("arguments").and_then(Value::as_object);
    let empty = Value::Object(serde_json::Map::new());
    let value = match msg.get("arguments") {
        Some(v @ Value::Object(_)) => v,
        _ => &empty,
    };
    let silent = qemu_qmp::qga::commands::dispatch(name, NoReply(value))
        .or_else(|| qemu_qmp::commands::dispatch(name, NoReply(value)))
        .unwrap_or(false);
    if !silent {
        return None;
    }
    Some(
        match args {
            Some(a) => qemu_qmp::RawCommand::with_arguments(name, a.clone()),
            None => qemu_qmp::RawCommand::new(name),
        }
        .no_reply(),
    )
}
