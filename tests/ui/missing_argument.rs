use qmp::qmp::commands::DeviceDel;

fn main() {
    let _ = DeviceDel {};
}
