//! A tiny Linux guest for the tests, built from Debian packages at test time and cached
//! in `target/guest/`: the kernel `linux-image-cloud-amd64` depends on, busybox-static,
//! and an initramfs with busybox, the host's qemu-ga (with the libraries `ldd` lists)
//! and the virtio modules. `scripts/guest-packages` downloads the packages (once).
//!
//! The guest loads the modules, finds the port named `org.qemu.guest_agent.0`, starts
//! qemu-ga on it, runs busybox's acpid (the power button powers it off) and prints
//! `guest: ready` on its serial console.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// The kernel and initramfs.
pub struct Image {
    pub kernel: PathBuf,
    pub initrd: PathBuf,
}

const MODULES: &[&str] = &[
    "virtio_ring",
    "virtio",
    "virtio_pci_modern_dev",
    "virtio_pci_legacy_dev",
    "virtio_pci",
    "virtio_console",
    "virtio_blk",
    "button",
    "evdev",
];

const INIT: &str = r#"#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
for m in MODULES; do insmod /lib/modules/$m.ko; done
port=
for i in $(seq 100); do
  for p in /sys/class/virtio-ports/*; do
    if [ "$(cat $p/name 2>/dev/null)" = org.qemu.guest_agent.0 ]; then
      port=/dev/$(basename $p)
    fi
  done
  if [ -n "$port" ] && [ -e "$port" ]; then break; fi
  sleep 0.05
done
# acpid opens the input devices present when it starts: the power button's first.
for i in $(seq 100); do [ -e /dev/input/event0 ] && break; sleep 0.05; done
acpid -f -c /etc/acpi -l /run/acpid.log -p /run/acpid.pid &
acpid=$!
qemu-ga -m virtio-serial -p "$port" -t /run -l /dev/ttyS0 &
qga=$!
# Ready once both hold their devices open.
opened() { ls -l /proc/$1/fd 2>/dev/null | grep -q "$2"; }
for i in $(seq 200); do
  opened $acpid /dev/input/event && opened $qga "$port" && break
  sleep 0.05
done
echo "guest: ready ($(uname -r), agent on $port, devices open after $i polls)" > /dev/ttyS0
while true; do sleep 1000; done
"#;

static BUILD: Mutex<()> = Mutex::new(());

fn run(cmd: &mut Command) {
    let st = cmd.status().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(st.success(), "{cmd:?} failed: {st}");
}

/// The guest image, built once (concurrent tests wait for the first).
pub fn image() -> Image {
    let _g = BUILD.lock().unwrap_or_else(|p| p.into_inner());
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    let top = if top.join("scripts/guest-packages").is_file() {
        top.to_owned()
    } else {
        top.join("..")
    };
    let dir = top.join("target/guest");
    // The initramfs is named after what goes into it, so a changed /init or module
    // list (or another qemu-ga) gives a new one, never a stale one.
    let key = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        INIT.hash(&mut h);
        MODULES.hash(&mut h);
        std::fs::metadata(which("qemu-ga"))
            .map(|m| m.len())
            .unwrap_or(0)
            .hash(&mut h);
        h.finish()
    };
    let (kernel, initrd) = (
        dir.join("vmlinuz"),
        dir.join(format!("initrd-{key:016x}.cpio")),
    );
    if kernel.is_file() && initrd.is_file() {
        return Image { kernel, initrd };
    }
    run(&mut Command::new(top.join("scripts/guest-packages")));
    let root = dir.join("unpacked");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    for deb in std::fs::read_dir(dir.join("debs")).unwrap().flatten() {
        run(Command::new("dpkg").arg("-x").arg(deb.path()).arg(&root));
    }
    let boot = root.join("boot");
    let vmlinuz = std::fs::read_dir(&boot)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("vmlinuz-"))
        .expect("a kernel in the package")
        .path();
    let release = vmlinuz
        .file_name()
        .unwrap()
        .to_string_lossy()
        .trim_start_matches("vmlinuz-")
        .to_owned();
    let mut cpio = Cpio::default();
    for d in [
        "bin",
        "sbin",
        "usr",
        "usr/bin",
        "usr/sbin",
        "lib",
        "lib64",
        "lib/modules",
        "proc",
        "sys",
        "dev",
        "tmp",
        "run",
        "etc",
        "etc/acpi",
        "etc/acpi/PWRF",
        "root",
    ] {
        cpio.dir(d);
    }
    cpio.file(
        "bin/busybox",
        &std::fs::read(root.join("bin/busybox")).unwrap(),
        0o755,
    );
    let list = Command::new(root.join("bin/busybox"))
        .arg("--list")
        .output()
        .unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" {
            cpio.symlink(&format!("bin/{applet}"), "busybox");
        }
    }
    let mods = root.join(format!("lib/modules/{release}/kernel"));
    for m in MODULES {
        let found = find(&mods, &format!("{m}.ko")).unwrap_or_else(|| panic!("module {m}"));
        cpio.file(
            &format!("lib/modules/{m}.ko"),
            &std::fs::read(found).unwrap(),
            0o644,
        );
    }
    // The host's qemu-ga and what it links.
    let qga = which("qemu-ga");
    cpio.file("usr/sbin/qemu-ga", &std::fs::read(&qga).unwrap(), 0o755);
    let ldd = Command::new("ldd").arg(&qga).output().unwrap();
    for line in String::from_utf8_lossy(&ldd.stdout).lines() {
        let path = line
            .split("=>")
            .last()
            .and_then(|r| r.split_whitespace().next())
            .filter(|p| p.starts_with('/'));
        if let Some(p) = path {
            let real = std::fs::canonicalize(p).unwrap();
            let inside = p.trim_start_matches('/');
            cpio.parents(inside);
            cpio.file(inside, &std::fs::read(real).unwrap(), 0o755);
        }
    }
    let init = INIT.replace("MODULES", &MODULES.join(" "));
    cpio.file("init", init.as_bytes(), 0o755);
    // busybox acpid runs the scripts in /etc/acpi/PWRF/00000080 for the power button.
    cpio.dir("etc/acpi/PWRF/00000080");
    cpio.file(
        "etc/acpi/PWRF/00000080/off",
        b"#!/bin/sh\npoweroff -f\n",
        0o755,
    );
    // qemu-ga's guest-shutdown runs `shutdown -P +0 ...`.
    cpio.file(
        "sbin/shutdown",
        b"#!/bin/sh\ncase \"$*\" in *-r*) reboot -f;; *) poweroff -f;; esac\n",
        0o755,
    );
    let bytes = cpio.finish();
    let part = initrd.with_extension("part");
    std::fs::write(&part, bytes).unwrap();
    std::fs::rename(&part, &initrd).unwrap();
    std::fs::copy(&vmlinuz, &kernel).unwrap();
    let _ = std::fs::remove_dir_all(&root);
    Image { kernel, initrd }
}

fn which(name: &str) -> PathBuf {
    for d in ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
        let p = Path::new(d).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("{name} not found (run .ci/install-deps)")
}

fn find(dir: &Path, name: &str) -> Option<PathBuf> {
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        if p.is_dir() {
            if let Some(f) = find(&p, name) {
                return Some(f);
            }
        } else if e.file_name() == name {
            return Some(p);
        }
    }
    None
}

/// A `newc` cpio archive, as the kernel reads an initramfs.
#[derive(Default)]
struct Cpio {
    out: Vec<u8>,
    ino: u32,
    dirs: std::collections::HashSet<String>,
}

impl Cpio {
    fn entry(&mut self, name: &str, mode: u32, data: &[u8]) {
        self.ino += 1;
        let name_z = format!("{name}\0");
        let header =
            format!(
            "070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            self.ino, mode, 0, 0, 1, 0, data.len(), 0, 0, 0, 0, name_z.len(), 0
        );
        self.out.extend_from_slice(header.as_bytes());
        self.out.extend_from_slice(name_z.as_bytes());
        while self.out.len() % 4 != 0 {
            self.out.push(0);
        }
        self.out.extend_from_slice(data);
        while self.out.len() % 4 != 0 {
            self.out.push(0);
        }
    }

    fn dir(&mut self, name: &str) {
        if self.dirs.insert(name.to_owned()) {
            self.entry(name, 0o040755, &[]);
        }
    }

    fn parents(&mut self, path: &str) {
        let mut acc = String::new();
        let parts: Vec<&str> = path.split('/').collect();
        for p in &parts[..parts.len().saturating_sub(1)] {
            if !acc.is_empty() {
                acc.push('/');
            }
            acc.push_str(p);
            let a = acc.clone();
            self.dir(&a);
        }
    }

    fn file(&mut self, name: &str, data: &[u8], perm: u32) {
        self.entry(name, 0o100000 | perm, data);
    }

    fn symlink(&mut self, name: &str, target: &str) {
        self.entry(name, 0o120777, target.as_bytes());
    }

    fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, &[]);
        let mut out = self.out;
        out.resize(out.len().div_ceil(512) * 512, 0);
        out
    }
}

/// Waits until the guest's serial console (a file) says it is ready for the `nth`
/// time (1 for the first boot, 2 after a reboot...).
pub fn wait_ready(console: &Path, nth: usize, timeout: std::time::Duration) -> String {
    let end = std::time::Instant::now() + timeout;
    loop {
        let bytes = std::fs::read(console).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        if let Some(l) = text
            .lines()
            .filter(|l| l.contains("guest: ready"))
            .nth(nth - 1)
        {
            return l.to_owned();
        }
        assert!(
            std::time::Instant::now() < end,
            "the guest did not come up; its console:\n{text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
