use qemu_qmp::qmp::commands::QomGet;

fn main() {
    let _ = QomGet {
        path: "/machine".into(),
        propertyy: "type".into(),
    };
}
