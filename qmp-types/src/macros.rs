//! Macros that generated code invokes once per type, so that the repetitive parts of the
//! bindings (serde impls, `Command`/`Event` impls, enum conversions) are written once
//! here instead of once per QAPI definition. Not a public API.

/// `Object` + serde impls for a struct whose fields are listed as
/// `req field = "wire"` / `opt field = "wire"` / `flat field = "tag"` (a union's branch
/// enum, see [`qapi_branches!`]; `flat_opt` when the tag may be absent), optionally followed by `; extra field`.
#[doc(hidden)]
#[macro_export]
macro_rules! qapi_object {
    ($name:ident { $( $kind:ident $field:ident = $wire:literal ),* $(,)? } $(; extra $extra:ident)?) => {
        #[allow(deprecated, unused_variables)]
        impl $crate::qapi::Object for $name {
            #[inline]
            fn take_from(
                map: &mut $crate::serde_json::Map<::std::string::String, $crate::serde_json::Value>,
            ) -> ::core::result::Result<Self, $crate::serde_json::Error> {
                ::core::result::Result::Ok(Self {
                    $( $field: $crate::__qapi_take!($kind, map, $wire), )*
                    $( $extra: ::core::mem::take(map), )?
                })
            }
            fn put_into<M: $crate::serde::ser::SerializeMap>(
                &self,
                out: &mut M,
            ) -> ::core::result::Result<(), M::Error> {
                $( $crate::__qapi_put!($kind, &self.$field, out, $wire); )*
                $( $crate::qapi::put_extra(&self.$extra, out)?; )?
                ::core::result::Result::Ok(())
            }
        }
        $crate::qapi_object_serde!($name);
    };
}

/// serde impls through `Object`, and `Debug` as the JSON the value is on the wire.
#[doc(hidden)]
#[macro_export]
macro_rules! qapi_object_serde {
    ($name:ident) => {
        $crate::qapi_object_debug!($name);
        #[allow(deprecated)]
        impl $crate::serde::Serialize for $name {
            fn serialize<S: $crate::serde::Serializer>(
                &self,
                s: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::qapi::serialize_object(self, s)
            }
        }
        #[allow(deprecated)]
        impl<'de> $crate::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::serde::Deserializer<'de>>(
                d: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::qapi::deserialize_object(d)
            }
        }
    };
}

/// `Debug` for an `Object` type: its name and its members as they are on the wire
/// (`{:#?}` pretty-prints them); and `PartialEq`: equal when the same on the wire. One
/// small function each instead of derived field-by-field ones keeps the bindings quick
/// to compile.
#[doc(hidden)]
#[macro_export]
macro_rules! qapi_object_debug {
    ($name:ident) => {
        #[allow(deprecated)]
        impl ::core::cmp::PartialEq for $name {
            #[inline]
            fn eq(&self, other: &Self) -> bool {
                $crate::qapi::same_object(self, other)
            }
        }
        #[allow(deprecated)]
        impl ::core::fmt::Debug for $name {
            #[inline]
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                $crate::qapi::debug_object(::core::stringify!($name), self, f)
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __qapi_take {
    (req, $map:ident, $wire:literal) => {
        $crate::qapi::take($map, $wire)?
    };
    (opt, $map:ident, $wire:literal) => {
        $crate::qapi::take_opt($map, $wire)?
    };
    (flat, $map:ident, $wire:literal) => {
        $crate::qapi::Object::take_from($map)?
    };
    (flat_opt, $map:ident, $wire:literal) => {
        if $map.contains_key($wire) {
            ::core::option::Option::Some($crate::qapi::Object::take_from($map)?)
        } else {
            ::core::option::Option::None
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __qapi_put {
    (req, $v:expr, $out:ident, $wire:literal) => {
        $out.serialize_entry($wire, $v)?
    };
    (opt, $v:expr, $out:ident, $wire:literal) => {
        if let ::core::option::Option::Some(v) = $v {
            $out.serialize_entry($wire, v)?
        }
    };
    (flat, $v:expr, $out:ident, $wire:literal) => {
        $crate::qapi::Object::put_into($v, $out)?
    };
    (flat_opt, $v:expr, $out:ident, $wire:literal) => {
        if let ::core::option::Option::Some(v) = $v {
            $crate::qapi::Object::put_into(v, $out)?
        }
    };
}

/// Conversions and serde impls for an enum: `Variant = "wire", ...` then the name of
/// the catch-all variant holding unknown strings.
#[doc(hidden)]
#[macro_export]
macro_rules! qapi_enum {
    ($name:ident { $( $variant:ident = $wire:literal ),* $(,)? } $unknown:ident) => {
        #[allow(deprecated)]
        impl $name {
            /// Every value the schema defines, as wire strings.
            pub const VALUES: &'static [&'static str] = &[$($wire),*];

            /// The wire string.
            #[inline]
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )*
                    Self::$unknown(s) => s,
                }
            }

            /// The value for a wire string (unknown strings are kept).
            #[inline]
            pub fn from_wire(s: &str) -> Self {
                match s {
                    $( $wire => Self::$variant, )*
                    other => Self::$unknown(::std::borrow::ToOwned::to_owned(other)),
                }
            }
        }
        impl ::core::fmt::Display for $name {
            #[inline]
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl $crate::serde::Serialize for $name {
            fn serialize<S: $crate::serde::Serializer>(
                &self,
                s: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> $crate::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::serde::Deserializer<'de>>(
                d: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::qapi::deserialize_enum(d, Self::from_wire)
            }
        }
    };
}

/// The `Command` impl (and `NAME`, `AVAILABILITY`): `Name = "wire", args:
/// none|self|newtype(T), returns: T`, flags `oob`, `no_reply`, then `; available { ... }`
/// (see [`qapi_availability!`]) and the arguments that not every release has,
/// `"arg" { ... }`.
#[doc(hidden)]
#[macro_export]
macro_rules! qapi_command {
    ($name:ident = $wire:literal, args: none, returns: $ret:ty $(, $flag:ident)* ; $($avail:tt)*) => {
        $crate::qapi_command!(@impl $name, $wire, $crate::Empty, $ret, none, [$($flag)*], $($avail)*);
    };
    ($name:ident = $wire:literal, args: self, returns: $ret:ty $(, $flag:ident)* ; $($avail:tt)*) => {
        $crate::qapi_command!(@impl $name, $wire, Self, $ret, whole, [$($flag)*], $($avail)*);
    };
    ($name:ident = $wire:literal, args: newtype($inner:ty), returns: $ret:ty $(, $flag:ident)* ; $($avail:tt)*) => {
        $crate::qapi_command!(@impl $name, $wire, $inner, $ret, field0, [$($flag)*], $($avail)*);
        $crate::qapi_newtype!($name($inner));
    };
    (@impl $name:ident, $wire:literal, $args:ty, $ret:ty, $get:ident, [$($flag:ident)*],
        available { $($c:tt)* } $( $arg:literal { $($a:tt)* } )*) => {
        #[allow(deprecated)]
        impl $name {
            /// The command's wire name.
            pub const NAME: &'static str = $wire;
            /// When the command, and each argument that not every known release has, exist.
            pub const AVAILABILITY: $crate::CommandAvailability = $crate::CommandAvailability {
                command: $crate::qapi_availability!($($c)*),
                arguments: &[ $( ($arg, $crate::qapi_availability!($($a)*)), )* ],
            };
        }
        #[allow(deprecated)]
        impl $crate::qapi::CommandName for $name {
            const NAME: &'static str = $wire;
        }
        #[allow(deprecated)]
        impl $crate::Command for $name {
            type Arguments = $args;
            type Returns = $ret;
            fn name(&self) -> &str {
                $wire
            }
            $crate::__qapi_arguments!($get);
            $( $crate::__qapi_flag!($flag); )*
            fn availability(&self) -> ::core::option::Option<&'static $crate::CommandAvailability> {
                ::core::option::Option::Some(&Self::AVAILABILITY)
            }
        }
    };
}

/// An [`Availability`](crate::Availability) from `first "10.0.0"` and any of `since "8.2"`,
/// `after "7.2.0"`, `last "5.2.0"`, `removed "7.2.0"`, in that order.
#[doc(hidden)]
#[macro_export]
macro_rules! qapi_availability {
    ($(since $since:literal,)? $(after $after:literal,)? first $first:literal $(, last $last:literal)? $(, removed $removed:literal)?) => {
        $crate::Availability {
            since: $crate::__qapi_opt_version!($($since)?),
            added_after: $crate::__qapi_opt_version!($($after)?),
            first_seen: $crate::QemuVersion::parse_const($first),
            last_seen: $crate::__qapi_opt_version!($($last)?),
            removed_by: $crate::__qapi_opt_version!($($removed)?),
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __qapi_opt_version {
    () => {
        ::core::option::Option::None
    };
    ($v:literal) => {
        ::core::option::Option::Some($crate::QemuVersion::parse_const($v))
    };
}

/// `Command::arguments`, written in one expansion so that `self` resolves.
#[doc(hidden)]
#[macro_export]
macro_rules! __qapi_arguments {
    (none) => {
        fn arguments(&self) -> ::core::option::Option<&Self::Arguments> {
            ::core::option::Option::None
        }
    };
    (whole) => {
        fn arguments(&self) -> ::core::option::Option<&Self::Arguments> {
            ::core::option::Option::Some(self)
        }
    };
    (field0) => {
        fn arguments(&self) -> ::core::option::Option<&Self::Arguments> {
            ::core::option::Option::Some(&self.0)
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __qapi_flag {
    (oob) => {
        fn allow_oob(&self) -> bool {
            true
        }
    };
    (no_reply) => {
        fn success_response(&self) -> bool {
            false
        }
    };
}

/// `From` and transparent serde for `pub struct Name(pub Inner);`.
#[doc(hidden)]
#[macro_export]
macro_rules! qapi_newtype {
    ($name:ident($inner:ty)) => {
        #[allow(deprecated)]
        impl ::core::convert::From<$inner> for $name {
            fn from(v: $inner) -> Self {
                Self(v)
            }
        }
        #[allow(deprecated)]
        impl $crate::serde::Serialize for $name {
            fn serialize<S: $crate::serde::Serializer>(
                &self,
                s: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::serde::Serialize::serialize(&self.0, s)
            }
        }
        #[allow(deprecated)]
        impl<'de> $crate::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::serde::Deserializer<'de>>(
                d: D,
            ) -> ::core::result::Result<Self, D::Error> {
                <$inner as $crate::serde::Deserialize>::deserialize(d).map(Self)
            }
        }
    };
}

/// serde for a unit struct that stands for an empty object (`{}` on the wire).
#[doc(hidden)]
#[macro_export]
macro_rules! qapi_unit {
    ($name:ident) => {
        #[allow(deprecated)]
        impl $crate::serde::Serialize for $name {
            fn serialize<S: $crate::serde::Serializer>(
                &self,
                s: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::serde::Serialize::serialize(&$crate::Empty {}, s)
            }
        }
        #[allow(deprecated)]
        impl<'de> $crate::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::serde::Deserializer<'de>>(
                d: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::qapi::deserialize_empty(d).map(|()| Self)
            }
        }
    };
}

/// The `Event` impl: `Name = "WIRE"`, then `; available { ... }` (see
/// [`qapi_availability!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! qapi_event {
    ($name:ident = $wire:literal $(; available { $($a:tt)* })?) => {
        #[allow(deprecated)]
        impl $crate::Event for $name {
            const NAME: &'static str = $wire;
            $(const AVAILABILITY: ::core::option::Option<$crate::Availability> =
                ::core::option::Option::Some($crate::qapi_availability!($($a)*));)?
        }
    };
}

/// A union's branch enum: `Branch: Tag = "tag-member" { Variant(Type) = TagVariant,
/// Variant = TagVariant, ... } Unknown / TagUnknown`. Gives `tag()` and the `Object` impl
/// that reads and writes the discriminator, for `flat` in [`qapi_object!`].
#[doc(hidden)]
#[macro_export]
macro_rules! qapi_branches {
    ($name:ident : $tag:ident = $wire:literal {
        $( $variant:ident $(($ty:ty))? = $tagv:ident ),* $(,)?
    } $unknown:ident / $tag_unknown:ident) => {
        $crate::qapi_object_debug!($name);
        #[allow(deprecated)]
        impl $name {
            /// The discriminator value of this branch.
            #[inline]
            pub fn tag(&self) -> $tag {
                match self {
                    $( $crate::__qapi_branch_pat!($variant $(, $ty)?) => $tag::$tagv, )*
                    Self::$unknown(t, _) => $tag::from_wire(t),
                }
            }
        }
        #[allow(deprecated)]
        impl $crate::qapi::Object for $name {
            #[inline]
            fn take_from(
                map: &mut $crate::serde_json::Map<::std::string::String, $crate::serde_json::Value>,
            ) -> ::core::result::Result<Self, $crate::serde_json::Error> {
                let tag: $tag = $crate::qapi::take(map, $wire)?;
                ::core::result::Result::Ok(match tag {
                    $( $tag::$tagv => $crate::__qapi_branch_take!(map, $variant $(, $ty)?), )*
                    $tag::$tag_unknown(t) => Self::$unknown(t, ::core::mem::take(map)),
                })
            }
            fn put_into<M: $crate::serde::ser::SerializeMap>(
                &self,
                out: &mut M,
            ) -> ::core::result::Result<(), M::Error> {
                out.serialize_entry($wire, &self.tag())?;
                match self {
                    $( $crate::__qapi_branch_put!(v, $variant $(, $ty)?) => $crate::__qapi_branch_put!(@body v, out $(, $ty)?), )*
                    Self::$unknown(_, members) => $crate::qapi::put_extra(members, out),
                }
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __qapi_branch_pat {
    ($variant:ident) => {
        Self::$variant
    };
    ($variant:ident, $ty:ty) => {
        Self::$variant(_)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __qapi_branch_take {
    ($map:ident, $variant:ident) => {
        Self::$variant
    };
    ($map:ident, $variant:ident, $ty:ty) => {
        Self::$variant($crate::qapi::Object::take_from($map)?)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __qapi_branch_put {
    ($v:ident, $variant:ident) => {
        Self::$variant
    };
    ($v:ident, $variant:ident, $ty:ty) => {
        Self::$variant($v)
    };
    (@body $v:ident, $out:ident) => {
        ::core::result::Result::Ok(())
    };
    (@body $v:ident, $out:ident, $ty:ty) => {
        $crate::qapi::Object::put_into($v, $out)
    };
}

/// serde for an alternate, decoded by JSON kind: `Name = "wire", "a string or an object"
/// { Variant(Type) = String, Variant = Null, ... }` (kinds: `String`, `Number`, `Bool`,
/// `Null`, `Object`, `Array`).
#[doc(hidden)]
#[macro_export]
macro_rules! qapi_alternate {
    ($name:ident = $wire:literal, $expected:literal { $( $variant:ident $(($ty:ty))? = $kind:ident ),* $(,)? }) => {
        #[allow(deprecated)]
        impl ::core::fmt::Debug for $name {
            #[inline]
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                $crate::qapi::debug_json(::core::stringify!($name), self, f)
            }
        }
        #[allow(deprecated)]
        impl ::core::cmp::PartialEq for $name {
            #[inline]
            fn eq(&self, other: &Self) -> bool {
                $crate::qapi::same_json(self, other)
            }
        }
        #[allow(deprecated)]
        impl $crate::serde::Serialize for $name {
            fn serialize<S: $crate::serde::Serializer>(
                &self,
                s: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                match self {
                    $( $crate::__qapi_branch_put!(v, $variant $(, $ty)?) => $crate::__qapi_alt_ser!(v, s $(, $ty)?), )*
                }
            }
        }
        #[allow(deprecated)]
        impl<'de> $crate::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::serde::Deserializer<'de>>(
                d: D,
            ) -> ::core::result::Result<Self, D::Error> {
                let v = <$crate::serde_json::Value as $crate::serde::Deserialize>::deserialize(d)?;
                match &v {
                    $( $crate::__qapi_kind_pat!($kind) => $crate::__qapi_alt_de!(v, $variant $(, $ty)?), )*
                    _ => ::core::result::Result::Err($crate::qapi::alternate_mismatch($wire, $expected, &v)),
                }
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __qapi_alt_ser {
    ($v:ident, $s:ident) => {
        $s.serialize_unit()
    };
    ($v:ident, $s:ident, $ty:ty) => {
        $crate::serde::Serialize::serialize($v, $s)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __qapi_alt_de {
    ($v:ident, $variant:ident) => {
        ::core::result::Result::Ok(Self::$variant)
    };
    ($v:ident, $variant:ident, $ty:ty) => {
        $crate::qapi::from_value($v).map(Self::$variant)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __qapi_kind_pat {
    (Null) => {
        $crate::serde_json::Value::Null
    };
    ($kind:ident) => {
        $crate::serde_json::Value::$kind(_)
    };
}

/// The `Events` impl of the enum over all events: `Event { Variant = "WIRE", ... }
/// Unknown`, where each variant holds the event's data type and `Unknown` is
/// `{ name, data }`.
#[doc(hidden)]
#[macro_export]
macro_rules! qapi_events {
    ($name:ident { $( $variant:ident = $wire:literal ),* $(,)? } $unknown:ident) => {
        #[allow(deprecated)]
        impl $crate::qapi::Events for $name {
            #[inline]
            fn decode(
                name: &str,
                data: &str,
            ) -> ::core::result::Result<Self, $crate::serde_json::Error> {
                ::core::result::Result::Ok(match name {
                    $( $wire => Self::$variant($crate::serde_json::from_str(data)?), )*
                    _ => Self::$unknown {
                        name: ::std::borrow::ToOwned::to_owned(name),
                        data: $crate::serde_json::from_str(data)?,
                    },
                })
            }
            fn name(&self) -> &str {
                match self {
                    $( Self::$variant(_) => $wire, )*
                    Self::$unknown { name, .. } => name,
                }
            }
        }
        /// As QMP sends it (without the timestamp): `{"event": NAME, "data": DATA}`.
        #[allow(deprecated)]
        impl $crate::serde::Serialize for $name {
            fn serialize<S: $crate::serde::Serializer>(
                &self,
                s: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                use $crate::serde::ser::SerializeMap as _;
                let mut m = s.serialize_map(::core::option::Option::Some(2))?;
                match self {
                    $( Self::$variant(d) => {
                        m.serialize_entry("event", $wire)?;
                        m.serialize_entry("data", d)?;
                    } )*
                    Self::$unknown { name, data } => {
                        m.serialize_entry("event", name)?;
                        m.serialize_entry("data", data)?;
                    }
                }
                m.end()
            }
        }
    };
}
