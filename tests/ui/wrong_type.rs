use qemu_qmp::qmp::commands::SetLink;

fn main() {
    let _ = SetLink {
        name: "nic0".into(),
        up: "yes",
    };
}
