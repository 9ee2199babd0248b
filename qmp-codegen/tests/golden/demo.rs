/// Enum `QType`.
///
/// ```text
/// "none" | "qnull" | "qnum" | "qstring" | "qdict" | "qlist" | "qbool"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum QType {
    /// `none`
    None,
    /// `qnull`
    Qnull,
    /// `qnum`
    Qnum,
    /// `qstring`
    Qstring,
    /// `qdict`
    Qdict,
    /// `qlist`
    Qlist,
    /// `qbool`
    Qbool,
    /// A value this schema does not know (from a newer or differently built QEMU).
    Unknown(::std::string::String),
}
::qmp_types::qapi_enum! {
    QType { None = "none", Qnull = "qnull", Qnum = "qnum", Qstring = "qstring", Qdict =
    "qdict", Qlist = "qlist", Qbool = "qbool", } Unknown
}
/// A color.
///
/// ```text
/// "red" | "green" | "2-bit" | "old"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Color {
    /// warm
    Red,
    /// calm
    Green,
    /// digit-leading
    V2Bit,
    /// gone soon
    ///
    /// **Deprecated**: use `red`
    #[deprecated(note = "deprecated in the QAPI schema")]
    Old,
    /// A value this schema does not know (from a newer or differently built QEMU).
    Unknown(::std::string::String),
}
::qmp_types::qapi_enum! {
    Color { Red = "red", Green = "green", V2Bit = "2-bit", Old = "old", } Unknown
}
/// Struct `Shape`.
///
/// ```text
/// { "kind": ShapeKind, "name"?: str }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    /// which shape
    pub kind: ShapeKind,
    /// optional name
    pub name: ::std::option::Option<::std::string::String>,
}
#[allow(deprecated, clippy::too_many_arguments, clippy::new_without_default)]
impl Shape {
    /// A value with the required members given and every optional member absent.
    #[inline]
    pub fn new(kind: ShapeKind) -> Self {
        Self {
            kind,
            name: ::std::option::Option::None,
        }
    }
}
::qmp_types::qapi_object! {
    Shape { req kind = "kind", opt name = "name", }
}
/// Enum `ShapeKind`.
///
/// ```text
/// "circle" | "square" | "point"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ShapeKind {
    /// round
    Circle,
    /// not round
    Square,
    /// no data
    Point,
    /// A value this schema does not know (from a newer or differently built QEMU).
    Unknown(::std::string::String),
}
::qmp_types::qapi_enum! {
    ShapeKind { Circle = "circle", Square = "square", Point = "point", } Unknown
}
/// Struct `Circle`.
///
/// ```text
/// { "radius": uint32 }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Circle {
    /// in mm
    pub radius: u32,
    /// Members the schema does not know (from a newer QEMU), kept as received.
    pub extra: ::qmp_types::serde_json::Map<
        ::std::string::String,
        ::qmp_types::serde_json::Value,
    >,
}
#[allow(deprecated, clippy::too_many_arguments, clippy::new_without_default)]
impl Circle {
    /// A value with the required members given and every optional member absent.
    #[inline]
    pub fn new(radius: u32) -> Self {
        Self {
            radius,
            extra: ::core::default::Default::default(),
        }
    }
}
::qmp_types::qapi_object! {
    Circle { req radius = "radius", }; extra extra
}
/// Struct `Square`.
///
/// ```text
/// { "side": number, "type"?: str }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Square {
    /// in mm
    pub side: f64,
    /// a keyword member
    pub r#type: ::std::option::Option<::std::string::String>,
    /// Members the schema does not know (from a newer QEMU), kept as received.
    pub extra: ::qmp_types::serde_json::Map<
        ::std::string::String,
        ::qmp_types::serde_json::Value,
    >,
}
#[allow(deprecated, clippy::too_many_arguments, clippy::new_without_default)]
impl Square {
    /// A value with the required members given and every optional member absent.
    #[inline]
    pub fn new(side: f64) -> Self {
        Self {
            side,
            r#type: ::std::option::Option::None,
            extra: ::core::default::Default::default(),
        }
    }
}
::qmp_types::qapi_object! {
    Square { req side = "side", opt r#type = "type", }; extra extra
}
/// A flat union.
///
/// ```text
/// { "kind": ShapeKind, "name"?: str } + the members of the branch selected by "kind"
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// optional name
    pub name: ::std::option::Option<::std::string::String>,
    /// which shape
    pub kind: FigureBranch,
    /// Members the schema does not know (from a newer QEMU), kept as received.
    pub extra: ::qmp_types::serde_json::Map<
        ::std::string::String,
        ::qmp_types::serde_json::Value,
    >,
}
/// The branches of [`Figure`], selected by its `kind` member.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum FigureBranch {
    /// `circle`: the members of [`Circle`].
    Circle(Circle),
    /// `square`: the members of [`Square`].
    Square(Square),
    /// `point` (no further members).
    Point,
    /// A branch this schema does not know: the tag value and the branch's members, as received.
    Unknown(
        ::std::string::String,
        ::qmp_types::serde_json::Map<
            ::std::string::String,
            ::qmp_types::serde_json::Value,
        >,
    ),
}
#[allow(deprecated)]
impl FigureBranch {
    /// The discriminator value of this branch.
    #[inline]
    pub fn tag(&self) -> ShapeKind {
        match self {
            Self::Circle(_) => ShapeKind::Circle,
            Self::Square(_) => ShapeKind::Square,
            Self::Point => ShapeKind::Point,
            Self::Unknown(t, _) => ShapeKind::from_wire(t),
        }
    }
    #[inline]
    fn take_from(
        map: &mut ::qmp_types::serde_json::Map<
            ::std::string::String,
            ::qmp_types::serde_json::Value,
        >,
    ) -> ::core::result::Result<Self, ::qmp_types::serde_json::Error> {
        let tag: ShapeKind = ::qmp_types::qapi::take(map, "kind")?;
        ::core::result::Result::Ok(
            match tag {
                ShapeKind::Circle => {
                    Self::Circle(::qmp_types::qapi::Object::take_from(map)?)
                }
                ShapeKind::Square => {
                    Self::Square(::qmp_types::qapi::Object::take_from(map)?)
                }
                ShapeKind::Point => Self::Point,
                ShapeKind::Unknown(t) => Self::Unknown(t, ::core::mem::take(map)),
            },
        )
    }
    fn put_into<M: ::qmp_types::serde::ser::SerializeMap>(
        &self,
        out: &mut M,
    ) -> ::core::result::Result<(), M::Error> {
        match self {
            Self::Circle(v) => ::qmp_types::qapi::Object::put_into(v, out),
            Self::Square(v) => ::qmp_types::qapi::Object::put_into(v, out),
            Self::Point => ::core::result::Result::Ok(()),
            Self::Unknown(_, members) => ::qmp_types::qapi::put_extra(members, out),
        }
    }
}
#[allow(deprecated, unused_variables)]
impl ::qmp_types::qapi::Object for Figure {
    #[inline]
    fn take_from(
        map: &mut ::qmp_types::serde_json::Map<
            ::std::string::String,
            ::qmp_types::serde_json::Value,
        >,
    ) -> ::core::result::Result<Self, ::qmp_types::serde_json::Error> {
        ::core::result::Result::Ok(Self {
            name: ::qmp_types::__qapi_take!(opt, map, "name"),
            kind: FigureBranch::take_from(map)?,
            extra: ::core::mem::take(map),
        })
    }
    fn put_into<M: ::qmp_types::serde::ser::SerializeMap>(
        &self,
        out: &mut M,
    ) -> ::core::result::Result<(), M::Error> {
        ::qmp_types::__qapi_put!(opt, & self.name, out, "name");
        out.serialize_entry("kind", &self.kind.tag())?;
        self.kind.put_into(out)?;
        ::qmp_types::qapi::put_extra(&self.extra, out)?;
        ::core::result::Result::Ok(())
    }
}
::qmp_types::qapi_object_serde!(Figure);
#[allow(deprecated, clippy::too_many_arguments, clippy::new_without_default)]
impl Figure {
    /// A value with the required members given and every optional member absent.
    #[inline]
    pub fn new(kind: FigureBranch) -> Self {
        Self {
            name: ::std::option::Option::None,
            kind,
            extra: ::core::default::Default::default(),
        }
    }
}
/// Struct `Tree`.
///
/// ```text
/// { "label": StrOrNull, "left"?: Tree, "kids"?: [Tree] }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    /// the label
    pub label: StrOrNull,
    /// recursion without an array
    pub left: ::std::option::Option<::std::boxed::Box<Tree>>,
    /// recursion through an array
    pub kids: ::std::option::Option<::std::vec::Vec<Tree>>,
}
#[allow(deprecated, clippy::too_many_arguments, clippy::new_without_default)]
impl Tree {
    /// A value with the required members given and every optional member absent.
    #[inline]
    pub fn new(label: StrOrNull) -> Self {
        Self {
            label,
            left: ::std::option::Option::None,
            kids: ::std::option::Option::None,
        }
    }
}
::qmp_types::qapi_object! {
    Tree { req label = "label", opt left = "left", opt kids = "kids", }
}
/// Alternate `StrOrNull`.
///
/// ```text
/// str | null
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum StrOrNull {
    /// a string
    S(::std::string::String),
    /// null
    N,
}
#[allow(deprecated)]
impl ::qmp_types::serde::Serialize for StrOrNull {
    fn serialize<S: ::qmp_types::serde::Serializer>(
        &self,
        s: S,
    ) -> ::core::result::Result<S::Ok, S::Error> {
        match self {
            Self::S(v) => ::qmp_types::serde::Serialize::serialize(v, s),
            Self::N => s.serialize_unit(),
        }
    }
}
#[allow(deprecated)]
impl<'de> ::qmp_types::serde::Deserialize<'de> for StrOrNull {
    fn deserialize<D: ::qmp_types::serde::Deserializer<'de>>(
        d: D,
    ) -> ::core::result::Result<Self, D::Error> {
        let v = <::qmp_types::serde_json::Value as ::qmp_types::serde::Deserialize>::deserialize(
            d,
        )?;
        match &v {
            ::qmp_types::serde_json::Value::String(_) => {
                ::qmp_types::qapi::from_value(v).map(Self::S)
            }
            ::qmp_types::serde_json::Value::Null => ::core::result::Result::Ok(Self::N),
            _ => {
                ::core::result::Result::Err(
                    ::qmp_types::qapi::alternate_mismatch(
                        "StrOrNull",
                        "a string or null",
                        &v,
                    ),
                )
            }
        }
    }
}
/// Alternate `Value`.
///
/// ```text
/// int | bool | ShapeKind | Figure | [int]
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// a number
    Num(i64),
    /// a flag
    Flag(bool),
    /// a shape kind
    Kind(ShapeKind),
    /// a figure
    Fig(Figure),
    /// numbers
    List(::std::vec::Vec<i64>),
}
#[allow(deprecated)]
impl ::qmp_types::serde::Serialize for Value {
    fn serialize<S: ::qmp_types::serde::Serializer>(
        &self,
        s: S,
    ) -> ::core::result::Result<S::Ok, S::Error> {
        match self {
            Self::Num(v) => ::qmp_types::serde::Serialize::serialize(v, s),
            Self::Flag(v) => ::qmp_types::serde::Serialize::serialize(v, s),
            Self::Kind(v) => ::qmp_types::serde::Serialize::serialize(v, s),
            Self::Fig(v) => ::qmp_types::serde::Serialize::serialize(v, s),
            Self::List(v) => ::qmp_types::serde::Serialize::serialize(v, s),
        }
    }
}
#[allow(deprecated)]
impl<'de> ::qmp_types::serde::Deserialize<'de> for Value {
    fn deserialize<D: ::qmp_types::serde::Deserializer<'de>>(
        d: D,
    ) -> ::core::result::Result<Self, D::Error> {
        let v = <::qmp_types::serde_json::Value as ::qmp_types::serde::Deserialize>::deserialize(
            d,
        )?;
        match &v {
            ::qmp_types::serde_json::Value::Number(_) => {
                ::qmp_types::qapi::from_value(v).map(Self::Num)
            }
            ::qmp_types::serde_json::Value::Bool(_) => {
                ::qmp_types::qapi::from_value(v).map(Self::Flag)
            }
            ::qmp_types::serde_json::Value::String(_) => {
                ::qmp_types::qapi::from_value(v).map(Self::Kind)
            }
            ::qmp_types::serde_json::Value::Object(_) => {
                ::qmp_types::qapi::from_value(v).map(Self::Fig)
            }
            ::qmp_types::serde_json::Value::Array(_) => {
                ::qmp_types::qapi::from_value(v).map(Self::List)
            }
            _ => {
                ::core::result::Result::Err(
                    ::qmp_types::qapi::alternate_mismatch(
                        "Value",
                        "a number or a boolean or a string or an object or an array",
                        &v,
                    ),
                )
            }
        }
    }
}
/// Any event of the schema, for matching; events it does not know are [`Self::Unknown`]-like catch-alls.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `DRAWN`
    Drawn(events::Drawn),
    /// `CLEARED`
    Cleared(events::Cleared),
    /// An event this schema does not know: its name and data, as received.
    Unknown {
        /// The event's name.
        name: ::std::string::String,
        /// Its `data` member (`{}` when absent).
        data: ::qmp_types::serde_json::Value,
    },
}
#[allow(deprecated)]
impl ::qmp_types::qapi::Events for Event {
    #[inline]
    fn decode(
        name: &str,
        data: &str,
    ) -> ::core::result::Result<Self, ::qmp_types::serde_json::Error> {
        ::core::result::Result::Ok(
            match name {
                "DRAWN" => Self::Drawn(::qmp_types::serde_json::from_str(data)?),
                "CLEARED" => Self::Cleared(::qmp_types::serde_json::from_str(data)?),
                _ => {
                    Self::Unknown {
                        name: ::std::borrow::ToOwned::to_owned(name),
                        data: ::qmp_types::serde_json::from_str(data)?,
                    }
                }
            },
        )
    }
    fn name(&self) -> &str {
        match self {
            Self::Drawn(_) => "DRAWN",
            Self::Cleared(_) => "CLEARED",
            Self::Unknown { name, .. } => name,
        }
    }
}
/// The schema's commands: one type per command, implementing `Command`.
pub mod commands {
    /// Draws.
    ///
    /// # Returns
    ///
    /// the drawn figures
    ///
    /// ```text
    /// {"execute": "draw", "arguments": { "figure": Figure, "color"?: Color, "label"?: StrOrNull }}
    /// ```
    #[derive(Debug, Clone, PartialEq)]
    pub struct Draw {
        /// what
        pub figure: super::Figure,
        /// how
        pub color: ::std::option::Option<super::Color>,
        /// a label, or null to reset it
        pub label: ::std::option::Option<super::StrOrNull>,
    }
    #[allow(deprecated, clippy::too_many_arguments, clippy::new_without_default)]
    impl Draw {
        /// A value with the required members given and every optional member absent.
        #[inline]
        pub fn new(figure: super::Figure) -> Self {
            Self {
                figure,
                color: ::std::option::Option::None,
                label: ::std::option::Option::None,
            }
        }
    }
    ::qmp_types::qapi_object! {
        Draw { req figure = "figure", opt color = "color", opt label = "label", }
    }
    ::qmp_types::qapi_command! {
        Draw = "draw", args : self, returns : ::std::vec::Vec < super::Figure >
    }
    /// Clears everything.
    ///
    /// **Unstable**: experimental
    ///
    /// ```text
    /// {"execute": "clear"}
    /// ```
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Clear;
    ::qmp_types::qapi_unit!(Clear);
    ::qmp_types::qapi_command! {
        Clear = "clear", args : none, returns : ::qmp_types::Empty, oob
    }
    /// Command `echo`.
    ///
    /// # Returns
    ///
    /// the value
    ///
    /// ```text
    /// {"execute": "echo", "arguments": { "value": any }}
    /// ```
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct Echo {
        /// anything
        pub value: ::qmp_types::serde_json::Value,
    }
    #[allow(deprecated, clippy::too_many_arguments, clippy::new_without_default)]
    impl Echo {
        /// A value with the required members given and every optional member absent.
        #[inline]
        pub fn new(value: ::qmp_types::serde_json::Value) -> Self {
            Self { value }
        }
    }
    ::qmp_types::qapi_object! {
        Echo { req value = "value", }
    }
    ::qmp_types::qapi_command! {
        Echo = "echo", args : self, returns : ::qmp_types::serde_json::Value
    }
    /// Boxed arguments.
    ///
    /// ```text
    /// {"execute": "plant", "arguments": Tree}
    /// ```
    #[derive(Debug, Clone, PartialEq)]
    pub struct Plant(pub super::Tree);
    ::qmp_types::qapi_command! {
        Plant = "plant", args : newtype(super::Tree), returns : ::qmp_types::Empty, no_reply
    }
    /// Command `x-add`.
    ///
    /// ```text
    /// {"execute": "x-add", "arguments": { "driver": str }}
    /// ```
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct XAdd {
        /// the driver
        pub driver: ::std::string::String,
        /// Arguments the schema does not describe (QEMU accepts more than it lists here, e.g. device properties).
        pub extra: ::qmp_types::serde_json::Map<
            ::std::string::String,
            ::qmp_types::serde_json::Value,
        >,
    }
    #[allow(deprecated, clippy::too_many_arguments, clippy::new_without_default)]
    impl XAdd {
        /// A value with the required members given and every optional member absent.
        #[inline]
        pub fn new(driver: ::std::string::String) -> Self {
            Self {
                driver,
                extra: ::core::default::Default::default(),
            }
        }
    }
    ::qmp_types::qapi_object! {
        XAdd { req driver = "driver", }; extra extra
    }
    ::qmp_types::qapi_command! {
        XAdd = "x-add", args : self, returns : ::qmp_types::Empty
    }
    /// Every command of the schema, with its arguments as `(name, optional)`.
    pub const ALL: &[(&str, &[(&str, bool)])] = &[
        ("draw", &[("figure", false), ("color", true), ("label", true)]),
        ("clear", &[]),
        ("echo", &[("value", false)]),
        ("plant", &[("label", false), ("left", true), ("kids", true)]),
        ("x-add", &[("driver", false)]),
    ];
    /// Decodes `json` (a `return` value) as the return type of command `name`; `None` for a command the schema does not have.
    #[inline]
    pub fn check_return(
        name: &str,
        json: &str,
    ) -> ::core::option::Option<::core::result::Result<(), ::qmp_types::serde_json::Error>> {
        match name {
            "draw" => {
                ::core::option::Option::Some(
                    ::qmp_types::serde_json::from_str::<::std::vec::Vec<super::Figure>>(json)
                        .map(|_| ()),
                )
            }
            "clear" => {
                ::core::option::Option::Some(
                    ::qmp_types::serde_json::from_str::<::qmp_types::Empty>(json).map(|_| ()),
                )
            }
            "echo" => {
                ::core::option::Option::Some(
                    ::qmp_types::serde_json::from_str::<::qmp_types::serde_json::Value>(json)
                        .map(|_| ()),
                )
            }
            "plant" => {
                ::core::option::Option::Some(
                    ::qmp_types::serde_json::from_str::<::qmp_types::Empty>(json).map(|_| ()),
                )
            }
            "x-add" => {
                ::core::option::Option::Some(
                    ::qmp_types::serde_json::from_str::<::qmp_types::Empty>(json).map(|_| ()),
                )
            }
            _ => ::core::option::Option::None,
        }
    }
}
/// The schema's events: one type per event's data, implementing `Event`.
pub mod events {
    /// Event `DRAWN`.
    ///
    /// ```text
    /// {"event": "DRAWN", "data": { "figure": Figure, "when"?: int }}
    /// ```
    #[derive(Debug, Clone, PartialEq)]
    pub struct Drawn {
        /// the figure
        pub figure: super::Figure,
        /// optional
        pub when: ::std::option::Option<i64>,
        /// Members the schema does not know (from a newer QEMU), kept as received.
        pub extra: ::qmp_types::serde_json::Map<
            ::std::string::String,
            ::qmp_types::serde_json::Value,
        >,
    }
    #[allow(deprecated, clippy::too_many_arguments, clippy::new_without_default)]
    impl Drawn {
        /// A value with the required members given and every optional member absent.
        #[inline]
        pub fn new(figure: super::Figure) -> Self {
            Self {
                figure,
                when: ::std::option::Option::None,
                extra: ::core::default::Default::default(),
            }
        }
    }
    ::qmp_types::qapi_object! {
        Drawn { req figure = "figure", opt when = "when", }; extra extra
    }
    ::qmp_types::qapi_event!(Drawn = "DRAWN");
    /// Event `CLEARED`.
    ///
    /// ```text
    /// {"event": "CLEARED"}
    /// ```
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Cleared;
    ::qmp_types::qapi_unit!(Cleared);
    ::qmp_types::qapi_event!(Cleared = "CLEARED");
}
