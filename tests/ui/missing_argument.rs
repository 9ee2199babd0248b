use qemu_qmp::qmp::commands::DeviceDel;

fn main() {
    let _ = DeviceDel {};
}
