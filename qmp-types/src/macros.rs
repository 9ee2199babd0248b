//! Macros that generated code invokes once per type, so that the repetitive parts of the
//! bindings (serde impls, `Command`/`Event` impls, enum conversions) are written once
//! here instead of once per QAPI definition. Not a public API.

/// `Object` + serde impls for a struct whose fields are listed as
/// `req field = "wire"` / `opt field = "wire"`, optionally followed by `; extra field`.
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

/// serde impls through `Object`.
#[doc(hidden)]
#[macro_export]
macro_rules! qapi_object_serde {
    ($name:ident) => {
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

#[doc(hidden)]
#[macro_export]
macro_rules! __qapi_take {
    (req, $map:ident, $wire:literal) => {
        $crate::qapi::take($map, $wire)?
    };
    (opt, $map:ident, $wire:literal) => {
        $crate::qapi::take_opt($map, $wire)?
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

/// The `Command` impl (and `NAME`): `Name = "wire", args: none|self|newtype(T),
/// returns: T` and flags `oob`, `no_reply`.
#[doc(hidden)]
#[macro_export]
macro_rules! qapi_command {
    ($name:ident = $wire:literal, args: none, returns: $ret:ty $(, $flag:ident)*) => {
        $crate::qapi_command!(@impl $name, $wire, $crate::Empty, $ret, none, $($flag)*);
    };
    ($name:ident = $wire:literal, args: self, returns: $ret:ty $(, $flag:ident)*) => {
        $crate::qapi_command!(@impl $name, $wire, Self, $ret, whole, $($flag)*);
    };
    ($name:ident = $wire:literal, args: newtype($inner:ty), returns: $ret:ty $(, $flag:ident)*) => {
        $crate::qapi_command!(@impl $name, $wire, $inner, $ret, field0, $($flag)*);
        $crate::qapi_newtype!($name($inner));
    };
    (@impl $name:ident, $wire:literal, $args:ty, $ret:ty, $get:ident, $($flag:ident)*) => {
        #[allow(deprecated)]
        impl $name {
            /// The command's wire name.
            pub const NAME: &'static str = $wire;
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
        }
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

/// The `Event` impl.
#[doc(hidden)]
#[macro_export]
macro_rules! qapi_event {
    ($name:ident = $wire:literal) => {
        #[allow(deprecated)]
        impl $crate::Event for $name {
            const NAME: &'static str = $wire;
        }
    };
}
