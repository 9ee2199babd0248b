//! Run a program through the guest agent and collect its output:
//! `cargo run --example guest_exec [-- /path/to/qga.sock [PROGRAM ARGS...]]`.
//!
//! With a socket, it talks to that agent (QEMU's chardev for
//! `org.qemu.guest_agent.0`, or a `qemu-ga` listening on it). Without one it starts the
//! host's own `qemu-ga` on a UNIX socket, a guest agent without a guest.

mod support;

use qemu_qmp::qga::commands as g;
use qemu_qmp::workflows::guest;
use std::time::Duration;

#[tokio::main]
async fn main() -> support::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut _agent_process = None;
    let sock = match args.first() {
        Some(sock) => sock.into(),
        None => {
            let (process, sock) = support::qemu_ga()?;
            _agent_process = Some(process);
            sock
        }
    };
    let agent = qemu_qmp::connect_guest_agent(&sock).await?;
    let info = agent.execute(g::GuestInfo).await?;
    println!("guest agent {}", info.version);

    let (program, rest) = match args.get(1) {
        Some(p) => (p.as_str(), args[2..].iter().map(String::as_str).collect()),
        None => ("/bin/uname", vec!["-a"]),
    };
    let out = guest::exec(&agent, program, &rest, Duration::from_secs(30)).await?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    println!("exit code: {:?}", out.exit_code);

    // Whole-file helpers on top of guest-file-open/read/write/close.
    let path = format!("/tmp/qemu-qmp-example-{}", std::process::id());
    guest::write_file(&agent, &path, b"written through the agent\n").await?;
    let back = guest::read_file(&agent, &path).await?;
    print!("{path}: {}", String::from_utf8_lossy(&back));
    let _ = guest::exec(&agent, "/bin/rm", &["-f", &path], Duration::from_secs(10)).await;
    agent.disconnect().await?;
    Ok(())
}
