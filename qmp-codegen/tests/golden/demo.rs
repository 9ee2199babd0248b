/// A color.
///
/// [QEMU's reference](https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html#enum-QMP-demo.Color)
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
    /// A value the bindings do not know (from a newer or differently built QEMU).
    Unknown(::std::string::String),
}
::qmp_types::qapi_enum! {
    Color {
        Red = "red",
        Green = "green",
        V2Bit = "2-bit",
        Old = "old",
    } Unknown
}
/// Struct `Shape`.
///
/// [QEMU's reference](https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html#object-QMP-demo.Shape)
///
/// ```text
/// { "kind", "name"? }
/// ```
#[derive(Clone)]
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
    Shape {
        req kind = "kind",
        opt name = "name",
    }
}
/// Enum `ShapeKind`.
///
/// [QEMU's reference](https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html#enum-QMP-demo.ShapeKind)
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
    /// A value the bindings do not know (from a newer or differently built QEMU).
    Unknown(::std::string::String),
}
::qmp_types::qapi_enum! {
    ShapeKind {
        Circle = "circle",
        Square = "square",
        Point = "point",
    } Unknown
}
/// Struct `Circle`.
///
/// [QEMU's reference](https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html#object-QMP-demo.Circle)
///
/// ```text
/// { "radius" }
/// ```
#[derive(Clone)]
pub struct Circle {
    /// in mm
    pub radius: u32,
    /// Members the bindings do not know (from a newer QEMU), kept as received.
    pub extra: ::qmp_types::JsonObject,
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
    Circle {
        req radius = "radius",
    }; extra extra
}
/// Struct `Square`.
///
/// [QEMU's reference](https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html#object-QMP-demo.Square)
///
/// ```text
/// { "side", "type"? }
/// ```
#[derive(Clone)]
pub struct Square {
    /// in mm
    pub side: f64,
    /// a keyword member
    pub r#type: ::std::option::Option<::std::string::String>,
    /// Members the bindings do not know (from a newer QEMU), kept as received.
    pub extra: ::qmp_types::JsonObject,
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
    Square {
        req side = "side",
        opt r#type = "type",
    }; extra extra
}
/// A flat union.
///
/// [QEMU's reference](https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html#object-QMP-demo.Figure)
///
/// ```text
/// { "name"? } + the members of the branch selected by "kind"
/// ```
#[derive(Clone)]
pub struct Figure {
    /// optional name
    pub name: ::std::option::Option<::std::string::String>,
    /// The branch, selected by `kind` on the wire.
    pub kind: FigureBranch,
    /// Members the bindings do not know (from a newer QEMU), kept as received.
    pub extra: ::qmp_types::JsonObject,
}
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
::qmp_types::qapi_object! {
    Figure {
        opt name = "name",
        flat kind = "kind",
    }; extra extra
}
/// The branches of [`Figure`], selected by its `kind` member.
#[derive(Clone)]
#[allow(clippy::large_enum_variant)]
pub enum FigureBranch {
    /// `circle`: the members of [`Circle`].
    Circle(Circle),
    /// `square`: the members of [`Square`].
    Square(Square),
    /// `point` (no further members).
    Point,
    /// A branch the bindings do not know: the tag value and the branch's members, as received.
    Unknown(::std::string::String, ::qmp_types::JsonObject),
}
::qmp_types::qapi_branches! {
    FigureBranch: ShapeKind = "kind" {
        Circle(Circle) = Circle,
        Square(Square) = Square,
        Point = Point,
    } Unknown / Unknown
}
/// Struct `Tree`.
///
/// [QEMU's reference](https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html#object-QMP-demo.Tree)
///
/// ```text
/// { "label", "left"?, "kids"? }
/// ```
#[derive(Clone)]
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
    Tree {
        req label = "label",
        opt left = "left",
        opt kids = "kids",
    }
}
/// Alternate `StrOrNull`.
///
/// [QEMU's reference](https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html#alternate-QMP-demo.StrOrNull)
///
/// ```text
/// a string or null
/// ```
#[derive(Clone)]
pub enum StrOrNull {
    /// a string
    S(::std::string::String),
    /// null
    N,
}
::qmp_types::qapi_alternate! {
    StrOrNull = "StrOrNull", "a string or null" {
        S(::std::string::String) = String,
        N = Null,
    }
}
/// Alternate `Value`.
///
/// [QEMU's reference](https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html#alternate-QMP-demo.Value)
///
/// ```text
/// a number or a boolean or a string or an object or an array
/// ```
#[derive(Clone)]
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
::qmp_types::qapi_alternate! {
    Value = "Value", "a number or a boolean or a string or an object or an array" {
        Num(i64) = Number,
        Flag(bool) = Bool,
        Kind(ShapeKind) = String,
        Fig(Figure) = Object,
        List(::std::vec::Vec<i64>) = Array,
    }
}
/// Any event of the bindings, for matching; events they do not know decode to the catch-all variant.
#[derive(Debug, Clone, PartialEq)]
#[allow(deprecated, clippy::large_enum_variant)]
pub enum Event {
    /// `DRAWN`: [`events::Drawn`].
    Drawn(events::Drawn),
    /// `CLEARED`: [`events::Cleared`].
    Cleared(events::Cleared),
    /// An event the bindings do not know: its name and data, as received.
    Unknown {
        /// The event's name.
        name: ::std::string::String,
        /// Its `data` member (`{}` when absent).
        data: ::qmp_types::serde_json::Value,
    },
}
::qmp_types::qapi_events! {
    Event {
        Drawn = "DRAWN",
        Cleared = "CLEARED",
    } Unknown
}
/// The QEMU releases whose schemas these bindings hold for: every type's promises (which members are always there) are true of each, oldest first.
pub const RELEASES: &[::qmp_types::QemuVersion] = &[::qmp_types::QemuVersion::new(10, 2, 0)];
/// Every QEMU release whose schema the bindings were generated from (availability facts are relative to these), oldest first.
pub const KNOWN_RELEASES: &[::qmp_types::QemuVersion] = &[::qmp_types::QemuVersion::new(10, 2, 0)];
/// The schema's commands: one type per command, implementing `Command`.
pub mod commands {
    /// Draws.
    ///
    /// # Returns
    ///
    /// the drawn figures
    ///
    /// [QEMU's reference](https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html#command-QMP-demo.draw)
    ///
    /// ```text
    /// {"execute": "draw", "arguments": { "figure", "color"?, "label"? }}
    /// ```
    #[derive(Clone)]
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
        Draw {
            req figure = "figure",
            opt color = "color",
            opt label = "label",
        }
    }
    ::qmp_types::qapi_command! {
        Draw = "draw", args: self, returns: ::std::vec::Vec<super::Figure>;
        available { first "10.2.0" }
    }
    /// Clears everything.
    ///
    /// **Unstable**: experimental
    /// [QEMU's reference](https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html#command-QMP-demo.clear)
    ///
    /// ```text
    /// {"execute": "clear"}
    /// ```
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Clear;
    ::qmp_types::qapi_unit!(Clear);
    ::qmp_types::qapi_command! {
        Clear = "clear", args: none, returns: ::qmp_types::Empty, oob;
        available { first "10.2.0" }
    }
    /// Command `echo`.
    ///
    /// # Returns
    ///
    /// the value
    ///
    /// [QEMU's reference](https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html#command-QMP-demo.echo)
    ///
    /// ```text
    /// {"execute": "echo", "arguments": { "value" }}
    /// ```
    #[derive(Clone)]
    pub struct Echo {
        /// anything
        pub value: ::qmp_types::serde_json::Value,
    }
    #[allow(deprecated, clippy::too_many_arguments, clippy::new_without_default)]
    impl Echo {
        /// A value with the required members given and every optional member absent.
        #[inline]
        pub fn new(value: ::qmp_types::serde_json::Value) -> Self {
            Self {
                value,
            }
        }
    }
    ::qmp_types::qapi_object! {
        Echo {
            req value = "value",
        }
    }
    ::qmp_types::qapi_command! {
        Echo = "echo", args: self, returns: ::qmp_types::serde_json::Value;
        available { first "10.2.0" }
    }
    /// Boxed arguments.
    ///
    /// [QEMU's reference](https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html#command-QMP-demo.plant)
    ///
    /// ```text
    /// {"execute": "plant", "arguments": Tree}
    /// ```
    #[derive(Debug, Clone, PartialEq)]
    pub struct Plant(pub super::Tree);
    ::qmp_types::qapi_command! {
        Plant = "plant", args: newtype(super::Tree), returns: ::qmp_types::Empty, no_reply;
        available { first "10.2.0" }
    }
    /// Command `x-add`.
    ///
    /// [QEMU's reference](https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html#command-QMP-demo.x-add)
    ///
    /// ```text
    /// {"execute": "x-add", "arguments": { "driver" }}
    /// ```
    #[derive(Clone)]
    pub struct XAdd {
        /// the driver
        pub driver: ::std::string::String,
        /// Arguments the schema does not describe (QEMU accepts more than it lists, e.g. device properties); sent as given.
        pub extra: ::qmp_types::JsonObject,
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
        XAdd {
            req driver = "driver",
        }; extra extra
    }
    ::qmp_types::qapi_command! {
        XAdd = "x-add", args: self, returns: ::qmp_types::Empty;
        available { first "10.2.0" }
    }
    /// Every command of the bindings, with its arguments as `(name, optional)`.
    pub const ALL: &[(&str, &[(&str, bool)])] = &[
        ("draw", &[("figure", false), ("color", true), ("label", true)]),
        ("clear", &[]),
        ("echo", &[("value", false)]),
        ("plant", &[("label", false), ("left", true), ("kids", true)]),
        ("x-add", &[("driver", false)]),
    ];
    /// Decodes `json` (a `return` value) as the return type of command `name`; `None` for a command the bindings do not have.
    #[inline]
    pub fn check_return(
        name: &str,
        json: &str,
    ) -> ::core::option::Option<::core::result::Result<(), ::qmp_types::serde_json::Error>> {
        match name {
            "draw" => ::core::option::Option::Some(
                ::qmp_types::serde_json::from_str::<::std::vec::Vec<super::Figure>>(json).map(|_| ()),
            ),
            "clear" => ::core::option::Option::Some(
                ::qmp_types::serde_json::from_str::<::qmp_types::Empty>(json).map(|_| ()),
            ),
            "echo" => ::core::option::Option::Some(
                ::qmp_types::serde_json::from_str::<::qmp_types::serde_json::Value>(json).map(|_| ()),
            ),
            "plant" => ::core::option::Option::Some(
                ::qmp_types::serde_json::from_str::<::qmp_types::Empty>(json).map(|_| ()),
            ),
            "x-add" => ::core::option::Option::Some(
                ::qmp_types::serde_json::from_str::<::qmp_types::Empty>(json).map(|_| ()),
            ),
            _ => ::core::option::Option::None,
        }
    }
    /// Calls `visitor.visit::<C>()` with the type `C` of command `name` (see `CommandVisitor`); `None` for a command the bindings do not have.
    #[allow(deprecated)]
    pub fn dispatch<V: ::qmp_types::qapi::CommandVisitor>(
        name: &str,
        visitor: V,
    ) -> ::core::option::Option<V::Output> {
        match name {
            "draw" => ::core::option::Option::Some(visitor.visit::<Draw>()),
            "clear" => ::core::option::Option::Some(visitor.visit::<Clear>()),
            "echo" => ::core::option::Option::Some(visitor.visit::<Echo>()),
            "plant" => ::core::option::Option::Some(visitor.visit::<Plant>()),
            "x-add" => ::core::option::Option::Some(visitor.visit::<XAdd>()),
            _ => ::core::option::Option::None,
        }
    }
    /// When command `name` and its arguments exist (its `AVAILABILITY`); `None` for a command the bindings do not have.
    #[allow(deprecated)]
    pub fn availability(
        name: &str,
    ) -> ::core::option::Option<&'static ::qmp_types::CommandAvailability> {
        match name {
            "draw" => ::core::option::Option::Some(&Draw::AVAILABILITY),
            "clear" => ::core::option::Option::Some(&Clear::AVAILABILITY),
            "echo" => ::core::option::Option::Some(&Echo::AVAILABILITY),
            "plant" => ::core::option::Option::Some(&Plant::AVAILABILITY),
            "x-add" => ::core::option::Option::Some(&XAdd::AVAILABILITY),
            _ => ::core::option::Option::None,
        }
    }
}
/// The schema's events: one type per event's data, implementing `Event`.
pub mod events {
    /// Event `DRAWN`.
    ///
    /// [QEMU's reference](https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html#event-QMP-demo.DRAWN)
    ///
    /// ```text
    /// {"event": "DRAWN", "data": { "figure", "when"? }}
    /// ```
    #[derive(Clone)]
    pub struct Drawn {
        /// the figure
        pub figure: super::Figure,
        /// optional
        pub when: ::std::option::Option<i64>,
        /// Members the bindings do not know (from a newer QEMU), kept as received.
        pub extra: ::qmp_types::JsonObject,
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
        Drawn {
            req figure = "figure",
            opt when = "when",
        }; extra extra
    }
    ::qmp_types::qapi_event! {
        Drawn = "DRAWN";
        available { first "10.2.0" }
    }
    /// Event `CLEARED`.
    ///
    /// [QEMU's reference](https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html#event-QMP-demo.CLEARED)
    ///
    /// ```text
    /// {"event": "CLEARED"}
    /// ```
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Cleared;
    ::qmp_types::qapi_unit!(Cleared);
    ::qmp_types::qapi_event! {
        Cleared = "CLEARED";
        available { first "10.2.0" }
    }
}
/// The shape of every type, command and event of the bindings, for comparing with a
/// server's `query-qmp-schema` down to members and values.
pub mod schema {
    /// The shape as JSON (see `qmp_types::shape`).
    pub static SCHEMA_JSON: &str = r#"{"types":[{"name":"Color","kind":{"Enum":["red","green","2-bit","old"]}},{"name":"Shape","kind":{"Object":{"members":[{"name":"kind","ty":2,"optional":false},{"name":"name","ty":9,"optional":true}]}}},{"name":"ShapeKind","kind":{"Enum":["circle","square","point"]}},{"name":"Circle","kind":{"Object":{"members":[{"name":"radius","ty":10,"optional":false}]}}},{"name":"Square","kind":{"Object":{"members":[{"name":"side","ty":11,"optional":false},{"name":"type","ty":9,"optional":true}]}}},{"name":"Figure","kind":{"Object":{"members":[{"name":"name","ty":9,"optional":true},{"name":"kind","ty":2,"optional":false}],"tag":"kind","branches":[["circle",3],["square",4],["point",12]]}}},{"name":"Tree","kind":{"Object":{"members":[{"name":"label","ty":7,"optional":false},{"name":"left","ty":6,"optional":true},{"name":"kids","ty":13,"optional":true}]}}},{"name":"StrOrNull","kind":{"Alternate":[9,14]}},{"name":"Value","kind":{"Alternate":[10,15,2,5,16]}},{"name":"str","kind":{"Builtin":"string"}},{"name":"int","kind":{"Builtin":"int"}},{"name":"number","kind":{"Builtin":"number"}},{"name":"q_empty","kind":{"Object":{"members":[]}}},{"name":"[Tree]","kind":{"Array":6}},{"name":"null","kind":{"Builtin":"null"}},{"name":"bool","kind":{"Builtin":"boolean"}},{"name":"[int]","kind":{"Array":10}},{"name":"q_obj_draw-arg","kind":{"Object":{"members":[{"name":"figure","ty":5,"optional":false},{"name":"color","ty":0,"optional":true},{"name":"label","ty":7,"optional":true}]}}},{"name":"[Figure]","kind":{"Array":5}},{"name":"q_obj_echo-arg","kind":{"Object":{"members":[{"name":"value","ty":20,"optional":false}]}}},{"name":"any","kind":{"Builtin":"value"}},{"name":"q_obj_x-add-arg","kind":{"Object":{"members":[{"name":"driver","ty":9,"optional":false}]}}},{"name":"q_obj_ev_DRAWN-arg","kind":{"Object":{"members":[{"name":"figure","ty":5,"optional":false},{"name":"when","ty":10,"optional":true}]}}}],"commands":[{"name":"draw","data":17,"returns":18},{"name":"clear","data":null,"returns":12},{"name":"echo","data":19,"returns":20},{"name":"plant","data":6,"returns":12},{"name":"x-add","data":21,"returns":12}],"events":[{"name":"DRAWN","data":22},{"name":"CLEARED","data":null}]}"#;

    /// The shape, parsed on first use.
    pub fn schema() -> &'static ::qmp_types::shape::Schema {
        static SCHEMA: ::std::sync::OnceLock<::qmp_types::shape::Schema> = ::std::sync::OnceLock::new();
        // Generated with the bindings: it parses (an empty shape otherwise).
        SCHEMA.get_or_init(|| ::qmp_types::shape::Schema::from_json(SCHEMA_JSON).unwrap_or_default())
    }
}
