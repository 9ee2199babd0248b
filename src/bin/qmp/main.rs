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

    /// The QEMU command line for --launch.
    #[arg(last = true)]
    qemu: Vec<String>,
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

impl Shell {
    fn print_json(&self, v: &Value) {
        let s = if self.args.pretty {
            serde_json::to_string_pretty(v)
        } else {
            serde_json::to_string(v)
        };
        println!("{}", s.unwrap_or_default());
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
        // The client applies --timeout (its command timeout).
        let result = self.client.execute_msg(Message(msg)).await;
        let reply = match result {
            Ok(v) => Some(json!({ "return": v })),
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
                self.failed = true;
                eprintln!("error: {e}");
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
            Ok(Value::String(s)) => print!("{s}"),
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
        let _ = std::io::stdout().flush();
        true
    }
}

/// Where the shell is in its input: normal or collecting transaction actions.
enum Mode {
    Normal,
    Transaction(Vec<Value>),
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
            match line::parse(input, types) {
                Ok(Parsed::Empty) => {
                    shell.print_events();
                    true
                }
                Ok(Parsed::BeginTransaction) => {
                    *mode = Mode::Transaction(Vec::new());
                    true
                }
                Ok(Parsed::Command(m)) => shell.run(m).await,
                Err(e) => {
                    shell.failed = true;
                    eprintln!("error: {e}");
                    eprintln!("usage: COMMAND [KEY=VALUE ...] | {{JSON}} | transaction( ... )");
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
        let command = before.split_whitespace().next().unwrap_or("");
        Ok((start, self.index.complete_argument(command, word)))
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
    client
        .connect(Address::parse(&addr))
        .await
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    Ok(None)
}

async fn build_index(client: &Client, agent: bool) -> schema::Index {
    if agent {
        let names = client
            .execute_raw("guest-info", None)
            .await
            .ok()
            .and_then(|v| {
                v["supported_commands"].as_array().map(|cmds| {
                    cmds.iter()
                        .filter_map(|c| c["name"].as_str().map(str::to_owned))
                        .collect::<Vec<_>>()
                })
            })
            .unwrap_or_default();
        return schema::Index::from_names(names);
    }
    match client.execute_raw("query-qmp-schema", None).await {
        Ok(s) => schema::Index::from_introspection(&s),
        Err(_) => schema::Index::default(),
    }
}

fn history_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".qmp_history"))
}

async fn main_async(args: Args) -> ExitCode {
    let mut builder = Client::builder("qmp-shell").connect_timeout(Duration::from_secs(15));
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
    let interactive = args.commands.is_empty() && std::io::stdin().is_terminal();
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

    if interactive {
        let what = if shell.args.hmp { "HMP" } else { "QMP" };
        println!(
            "Welcome to the {what} shell (qmp {}).",
            env!("CARGO_PKG_VERSION")
        );
        match client.greeting().and_then(|g| g.qemu_version()) {
            Some((a, b, c)) => println!("Connected to QEMU {a}.{b}.{c}"),
            None => println!("Connected"),
        }
        println!(
            "Tab completes commands and arguments; an empty line shows events; Ctrl-D exits.\n"
        );
        let mut rl: Editor<ShellHelper, rustyline::history::DefaultHistory> =
            match Editor::with_config(
                rustyline::Config::builder()
                    .completion_type(rustyline::CompletionType::List)
                    .max_history_size(1024)
                    .map(|b| b.build())
                    .unwrap_or_default(),
            ) {
                Ok(rl) => rl,
                Err(e) => {
                    eprintln!("qmp: terminal: {e}");
                    return ExitCode::FAILURE;
                }
            };
        rl.set_helper(Some(ShellHelper { index }));
        let history = history_path();
        if let Some(h) = &history {
            let _ = rl.load_history(h);
        }
        loop {
            shell.print_events();
            let prompt = match (&mode, shell.args.hmp) {
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
            if !handle(&mut shell, &mut mode, &input).await {
                break;
            }
        }
        if let Some(h) = &history {
            let _ = rl.save_history(h);
        }
    } else {
        let lines: Vec<String> = if shell.args.commands.is_empty() {
            std::io::stdin()
                .lock()
                .lines()
                .map_while(Result::ok)
                .collect()
        } else {
            shell.args.commands.clone()
        };
        for l in lines {
            if !handle(&mut shell, &mut mode, &l).await {
                break;
            }
        }
        shell.print_events();
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
