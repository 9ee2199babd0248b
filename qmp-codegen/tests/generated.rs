//! The generated code for a small schema that uses every construct: it is what the
//! generator produces today (golden file), it compiles (it is included here), and it
//! behaves: round trips, forward compatibility, alternates, absent versus null,
//! recursion, commands and events.
//!
//! Refresh the golden file after an intended change with
//! `UPDATE_GOLDEN=1 cargo test -p qmp-codegen --test generated`.

#[allow(dead_code)]
mod demo {
    include!("golden/demo.rs");
}

use demo::*;
use qmp_types::qapi::Events;
use qmp_types::{Command, Event as _};
use serde_json::{json, Value};

fn golden_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

#[test]
fn golden_file_is_current() {
    let schema = qmp_codegen::load(golden_path().join("demo.json")).unwrap();
    let code = qmp_codegen::rust::generate(&schema, &Default::default());
    let path = golden_path().join("demo.rs");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &code).unwrap();
    }
    let golden = std::fs::read_to_string(&path).unwrap();
    assert!(
        golden == code,
        "generated code changed; rerun with UPDATE_GOLDEN=1 if intended"
    );
}

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(
    v: Value,
) -> T {
    let t: T = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(serde_json::to_value(&t).unwrap(), v, "round trip of {v}");
    t
}

#[test]
fn enums_keep_unknown_values() {
    assert_eq!(round_trip::<Color>(json!("red")), Color::Red);
    assert_eq!(round_trip::<Color>(json!("2-bit")), Color::V2Bit);
    assert_eq!(
        round_trip::<Color>(json!("ultraviolet")),
        Color::Unknown("ultraviolet".into())
    );
    assert_eq!(Color::VALUES, ["red", "green", "2-bit", "old"]);
    assert_eq!(Color::Green.to_string(), "green");
}

#[test]
fn flat_unions() {
    let f: Figure = round_trip(json!({"kind": "circle", "name": "c", "radius": 3}));
    assert_eq!(f.name.as_deref(), Some("c"));
    match &f.kind {
        FigureBranch::Circle(c) => assert_eq!(c.radius, 3),
        other => panic!("{other:?}"),
    }
    assert_eq!(f.kind.tag(), ShapeKind::Circle);
    // A keyword member, an implicit empty branch.
    let sq: Figure = round_trip(json!({"kind": "square", "side": 1.5, "type": "big"}));
    let FigureBranch::Square(s) = &sq.kind else {
        panic!()
    };
    assert_eq!(s.r#type.as_deref(), Some("big"));
    let p: Figure = round_trip(json!({"kind": "point"}));
    assert_eq!(p.kind, FigureBranch::Point);
    // Missing required members and wrong types are errors naming the member.
    let e = serde_json::from_value::<Figure>(json!({"kind": "circle"})).unwrap_err();
    assert!(e.to_string().contains("radius"), "{e}");
    let e = serde_json::from_value::<Figure>(json!({"kind": "circle", "radius": "x"})).unwrap_err();
    assert!(e.to_string().contains("member 'radius'"), "{e}");
}

#[test]
fn forward_compatibility_keeps_what_is_unknown() {
    // A branch this schema does not know.
    let f: Figure = round_trip(json!({"kind": "hexagon", "name": "h", "sides": 6}));
    match &f.kind {
        FigureBranch::Unknown(tag, members) => {
            assert_eq!(tag, "hexagon");
            assert_eq!(members["sides"], 6);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(f.kind.tag(), ShapeKind::Unknown("hexagon".into()));
    // Members this schema does not know, in a branch and in an empty branch.
    let f: Figure = round_trip(json!({"kind": "circle", "radius": 1, "color": "red"}));
    let FigureBranch::Circle(c) = &f.kind else {
        panic!()
    };
    assert_eq!(c.extra["color"], "red");
    let p: Figure = round_trip(json!({"kind": "point", "z": 1}));
    assert_eq!(p.extra["z"], 1);
}

#[test]
fn alternates_dispatch_on_json_type() {
    assert_eq!(round_trip::<Value_>(json!(5)), Value_::Num(5));
    assert_eq!(round_trip::<Value_>(json!(true)), Value_::Flag(true));
    assert_eq!(
        round_trip::<Value_>(json!("point")),
        Value_::Kind(ShapeKind::Point)
    );
    assert_eq!(
        round_trip::<Value_>(json!([1, 2])),
        Value_::List(vec![1, 2])
    );
    assert!(matches!(
        round_trip::<Value_>(json!({"kind": "point"})),
        Value_::Fig(_)
    ));
    let e = serde_json::from_value::<Value_>(json!(null)).unwrap_err();
    assert!(
        e.to_string().contains("expected a number or a boolean"),
        "{e}"
    );
    assert_eq!(round_trip::<StrOrNull>(json!(null)), StrOrNull::N);
    assert_eq!(
        round_trip::<StrOrNull>(json!("x")),
        StrOrNull::S("x".into())
    );
}

// `Value` the QAPI type, not serde_json's.
use demo::Value as Value_;

#[test]
fn absent_is_not_null() {
    let absent = commands::Draw {
        figure: serde_json::from_value(json!({"kind": "point"})).unwrap(),
        color: None,
        label: None,
    };
    let null = commands::Draw {
        label: Some(StrOrNull::N),
        ..absent.clone()
    };
    assert_eq!(
        serde_json::to_value(&absent).unwrap(),
        json!({"figure": {"kind": "point"}})
    );
    assert_eq!(
        serde_json::to_value(&null).unwrap(),
        json!({"figure": {"kind": "point"}, "label": null})
    );
    let back: commands::Draw =
        serde_json::from_value(json!({"figure": {"kind": "point"}, "label": null})).unwrap();
    assert_eq!(back.label, Some(StrOrNull::N));
}

#[test]
fn recursion_is_boxed() {
    let t: Tree = round_trip(json!({"label": "root", "left": {"label": null,
        "kids": [{"label": "leaf"}]}}));
    let left: &Tree = t.left.as_deref().unwrap();
    assert_eq!(left.label, StrOrNull::N);
    assert_eq!(
        left.kids.as_ref().unwrap()[0].label,
        StrOrNull::S("leaf".into())
    );
}

#[test]
fn commands_implement_the_trait() {
    let draw = commands::Draw {
        figure: serde_json::from_value(json!({"kind": "circle", "radius": 2})).unwrap(),
        color: Some(Color::Red),
        label: None,
    };
    assert_eq!(draw.name(), "draw");
    assert_eq!(commands::Draw::NAME, "draw");
    assert!(!draw.allow_oob());
    assert_eq!(
        serde_json::to_value(draw.arguments()).unwrap(),
        json!({"figure": {"kind": "circle", "radius": 2}, "color": "red"})
    );
    let ret: <commands::Draw as Command>::Returns =
        serde_json::from_value(json!([{"kind": "point"}])).unwrap();
    assert_eq!(ret.len(), 1);

    assert!(commands::Clear.allow_oob());
    assert!(commands::Clear.arguments().is_none());
    let _: qmp_types::Empty = serde_json::from_value(json!({})).unwrap();

    let echo = commands::Echo {
        value: json!({"any": [1]}),
    };
    let _: Value =
        serde_json::from_value::<<commands::Echo as Command>::Returns>(json!(1)).unwrap();
    assert_eq!(
        serde_json::to_value(echo.arguments()).unwrap(),
        json!({"value": {"any": [1]}})
    );

    let plant = commands::Plant(serde_json::from_value(json!({"label": "x"})).unwrap());
    assert!(!plant.success_response());
    assert_eq!(
        serde_json::to_value(plant.arguments()).unwrap(),
        json!({"label": "x"})
    );

    // gen: false keeps an escape hatch for undescribed arguments.
    let mut extra = serde_json::Map::new();
    extra.insert("speed".into(), json!(9));
    let add = commands::XAdd {
        driver: "d".into(),
        extra,
    };
    assert_eq!(
        serde_json::to_value(add.arguments()).unwrap(),
        json!({"driver": "d", "speed": 9})
    );
}

#[test]
fn events_decode_to_the_enum() {
    assert_eq!(events::Drawn::NAME, "DRAWN");
    let e = Event::decode("DRAWN", r#"{"figure": {"kind": "point"}, "when": 5}"#).unwrap();
    match &e {
        Event::Drawn(d) => assert_eq!(d.when, Some(5)),
        other => panic!("{other:?}"),
    }
    assert_eq!(e.name(), "DRAWN");
    assert_eq!(
        Event::decode("CLEARED", "{}").unwrap(),
        Event::Cleared(events::Cleared)
    );
    let unknown = Event::decode("NEW_THING", r#"{"a": 1}"#).unwrap();
    assert_eq!(unknown.name(), "NEW_THING");
    assert!(matches!(unknown, Event::Unknown { ref data, .. } if data["a"] == 1));
    assert!(
        Event::decode("DRAWN", "{}").is_err(),
        "a known event with bad data is an error"
    );
}

#[test]
#[allow(deprecated)]
fn deprecated_values_are_marked() {
    // Compiles only with the allow: `Color::Old` carries #[deprecated].
    assert_eq!(Color::Old.as_str(), "old");
}
