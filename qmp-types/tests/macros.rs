//! The macros generated code uses, on hand-written types shaped like generated ones.

use qmp_types::qapi::Events as _;
use qmp_types::{Command, Event, QemuVersion};
use serde_json::{json, Map, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Disk,
    Net,
    Plain,
    Unknown(String),
}
qmp_types::qapi_enum! { Kind { Disk = "disk", Net = "net", Plain = "plain" } Unknown }

#[derive(Clone, Default)]
pub struct DiskInfo {
    pub file: Option<String>,
}
qmp_types::qapi_object! { DiskInfo { opt file = "file" } }

#[derive(Clone)]
pub struct NetInfo {
    pub mac: String,
}
qmp_types::qapi_object! { NetInfo { req mac = "mac" } }

#[derive(Clone)]
pub struct Device {
    pub id: String,
    pub kind: DeviceBranch,
    pub extra: Map<String, Value>,
}
#[derive(Clone)]
pub enum DeviceBranch {
    Disk(DiskInfo),
    Net(Box<NetInfo>),
    Plain,
    Unknown(String, Map<String, Value>),
}
qmp_types::qapi_branches! { DeviceBranch: Kind = "kind" {
    Disk(DiskInfo) = Disk, Net(Box<NetInfo>) = Net, Plain = Plain,
} Unknown / Unknown }
qmp_types::qapi_object! { Device { req id = "id", flat kind = "kind" } ; extra extra }

#[derive(Clone)]
pub enum StrOrNull {
    S(String),
    N,
}
qmp_types::qapi_alternate! { StrOrNull = "StrOrNull", "a string or null" { S(String) = String, N = Null } }

#[derive(Clone)]
pub struct AddDevice {
    pub id: String,
    pub fast: Option<bool>,
}
qmp_types::qapi_object! { AddDevice { req id = "id", opt fast = "fast" } }
qmp_types::qapi_command! { AddDevice = "add-device", args: self, returns: qmp_types::Empty, oob;
available { first "7.2.0" } "fast" { since "9.1", after "7.2.0", first "10.0.0" } }

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quit;
qmp_types::qapi_unit!(Quit);
qmp_types::qapi_command! { Quit = "quit", args: none, returns: qmp_types::Empty, no_reply; available { first "5.2.0", last "7.2.0", removed "10.0.0" } }

#[derive(Clone)]
pub struct Stopped {
    pub extra: Map<String, Value>,
}
qmp_types::qapi_object! { Stopped { } ; extra extra }
qmp_types::qapi_event!(Stopped = "STOP"; available { first "5.2.0" });

#[derive(Debug, Clone, PartialEq)]
pub enum AnyEvent {
    Stop(Stopped),
    Unknown { name: String, data: Value },
}
qmp_types::qapi_events! { AnyEvent { Stop = "STOP" } Unknown }

#[test]
fn unions_round_trip_through_their_branches() {
    let wire = json!({"id": "d0", "kind": "net", "mac": "52:54:00:12:34:56", "new": 1});
    let d: Device = serde_json::from_value(wire.clone()).unwrap();
    assert_eq!(d.kind.tag(), Kind::Net);
    assert_eq!(d.extra["new"], json!(1));
    assert_eq!(serde_json::to_value(&d).unwrap(), wire);

    let plain: Device = serde_json::from_value(json!({"id": "p", "kind": "plain"})).unwrap();
    assert_eq!(plain.kind, DeviceBranch::Plain);
    let unknown: Device =
        serde_json::from_value(json!({"id": "u", "kind": "gpu", "vram": 64})).unwrap();
    assert_eq!(unknown.kind.tag(), Kind::Unknown("gpu".into()));
    assert_eq!(
        serde_json::to_value(&unknown).unwrap(),
        json!({"id": "u", "kind": "gpu", "vram": 64})
    );
    let e = serde_json::from_value::<Device>(json!({"id": "x", "kind": "net"})).unwrap_err();
    assert!(e.to_string().contains("missing member 'mac'"), "{e}");
    let e = serde_json::from_value::<Device>(json!({"id": "x"})).unwrap_err();
    assert!(e.to_string().contains("missing member 'kind'"), "{e}");
}

#[test]
fn debug_shows_the_wire_form() {
    let d = Device {
        id: "d0".into(),
        kind: DeviceBranch::Plain,
        extra: Map::new(),
    };
    assert_eq!(format!("{d:?}"), r#"Device {"id":"d0","kind":"plain"}"#);
    assert!(format!("{d:#?}").contains("\n  \"id\": \"d0\""));
    assert_eq!(format!("{:?}", StrOrNull::N), "StrOrNull null");
}

#[test]
fn alternates_dispatch_on_the_json_kind() {
    assert_eq!(
        serde_json::from_value::<StrOrNull>(json!("a")).unwrap(),
        StrOrNull::S("a".into())
    );
    assert_eq!(
        serde_json::from_value::<StrOrNull>(json!(null)).unwrap(),
        StrOrNull::N
    );
    assert_eq!(serde_json::to_value(StrOrNull::N).unwrap(), json!(null));
    let e = serde_json::from_value::<StrOrNull>(json!(1)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "StrOrNull: expected a string or null, found a number"
    );
}

#[test]
fn commands_carry_their_availability() {
    let cmd = AddDevice {
        id: "x".into(),
        fast: Some(true),
    };
    assert!(cmd.allow_oob());
    let a = cmd.availability().unwrap();
    assert_eq!(a.command.first_seen, QemuVersion::new(7, 2, 0));
    let err = a
        .check("add-device", QemuVersion::new(7, 2, 22), ["id", "fast"])
        .unwrap_err();
    assert_eq!(err.member.as_deref(), Some("fast"));
    assert!(a
        .check("add-device", QemuVersion::new(9, 1, 0), ["fast"])
        .is_ok());
    assert!(!Quit.success_response());
    assert!(Quit::AVAILABILITY
        .check("quit", QemuVersion::new(10, 0, 0), [])
        .is_err());
    assert_eq!(
        Stopped::AVAILABILITY.unwrap().first_seen,
        QemuVersion::new(5, 2, 0)
    );
}

#[test]
fn the_event_enum_decodes_known_and_unknown_events() {
    assert!(matches!(
        AnyEvent::decode("STOP", "{}").unwrap(),
        AnyEvent::Stop(_)
    ));
    let u = AnyEvent::decode("NEW_THING", r#"{"a":1}"#).unwrap();
    assert_eq!(u.name(), "NEW_THING");
}
