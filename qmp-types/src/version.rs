//! QEMU versions and when schema items exist.
//!
//! Bindings generated from several QEMU releases know, for every command, event, type
//! and member, which of those releases have it and since when QEMU documents it. A
//! client compares that with the version of the QEMU it is connected to (from the
//! greeting) and refuses, before sending, what that QEMU cannot have.

use std::fmt;

/// A QEMU release: `major.minor.micro`.
///
/// Ordered by number; [`QemuVersion::release`] drops the micro version, which stable
/// updates bump without changing the interface.
///
/// ```
/// use qmp_types::QemuVersion;
///
/// let v: QemuVersion = "7.2.22".parse().unwrap();
/// assert_eq!(v, QemuVersion::new(7, 2, 22));
/// assert!(v < QemuVersion::new(10, 0, 0));
/// assert_eq!(v.release(), QemuVersion::new(7, 2, 0));
/// assert_eq!(v.to_string(), "7.2.22");
/// assert_eq!("10.1".parse::<QemuVersion>().unwrap().to_string(), "10.1.0");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct QemuVersion {
    /// Major version.
    pub major: u16,
    /// Minor version.
    pub minor: u16,
    /// Micro (stable update) version.
    pub micro: u16,
}

impl QemuVersion {
    /// `major.minor.micro`.
    pub const fn new(major: u16, minor: u16, micro: u16) -> Self {
        QemuVersion {
            major,
            minor,
            micro,
        }
    }

    /// The release without its micro version (`7.2.22` -> `7.2.0`).
    pub const fn release(self) -> Self {
        QemuVersion::new(self.major, self.minor, 0)
    }

    /// Parses `major.minor` or `major.minor.micro` in a constant context (generated
    /// code writes versions this way). Panics, at compile time when used in a
    /// constant, on anything else.
    ///
    /// ```
    /// use qmp_types::QemuVersion;
    ///
    /// const V: QemuVersion = QemuVersion::parse_const("8.2");
    /// assert_eq!(V, QemuVersion::new(8, 2, 0));
    /// ```
    pub const fn parse_const(s: &str) -> QemuVersion {
        let b = s.as_bytes();
        let mut parts = [0u16; 3];
        let mut n = 0;
        let mut i = 0;
        let mut digits = 0;
        while i < b.len() {
            let c = b[i];
            if c == b'.' {
                assert!(digits > 0 && n < 2, "not a QEMU version");
                n += 1;
                digits = 0;
            } else {
                assert!(c.is_ascii_digit() && digits < 4, "not a QEMU version");
                parts[n] = parts[n] * 10 + (c - b'0') as u16;
                digits += 1;
            }
            i += 1;
        }
        assert!(digits > 0 && n >= 1, "not a QEMU version");
        QemuVersion::new(parts[0], parts[1], parts[2])
    }

    /// `major.minor`, as QEMU's documentation writes releases.
    pub fn short(self) -> String {
        format!("{}.{}", self.major, self.minor)
    }
}

impl fmt::Display for QemuVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.micro)
    }
}

/// The text was not a QEMU version (`10.0.2`, `7.2`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadVersion(pub String);

impl fmt::Display for BadVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a QEMU version (like 10.0.2): '{}'", self.0)
    }
}

impl std::error::Error for BadVersion {}

impl std::str::FromStr for QemuVersion {
    type Err = BadVersion;
    fn from_str(s: &str) -> Result<Self, BadVersion> {
        let bad = || BadVersion(s.to_owned());
        let mut parts = s.trim().split('.');
        let mut num = |required: bool| -> Result<u16, BadVersion> {
            match parts.next() {
                Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                    p.parse().map_err(|_| bad())
                }
                None if !required => Ok(0),
                _ => Err(bad()),
            }
        };
        let v = QemuVersion::new(num(true)?, num(true)?, num(false)?);
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(v)
    }
}

/// When a schema item (command, event, type, member, value) exists, as far as the
/// bindings know: QEMU's documented "since" version, and which of the releases the
/// bindings were generated from have it.
///
/// Between two of those releases, an item that one has and the other lacks is
/// [`Presence::Unknown`] unless QEMU documents the release that added it.
///
/// ```
/// use qmp_types::{Availability, Presence, QemuVersion as V};
///
/// // Documented as added in 8.2; absent from the 7.2 schema, present in 10.0.
/// let a = Availability {
///     since: Some(V::new(8, 2, 0)),
///     added_after: Some(V::new(7, 2, 0)),
///     first_seen: V::new(10, 0, 0),
///     last_seen: None,
///     removed_by: None,
/// };
/// assert_eq!(a.presence(V::new(7, 2, 22)), Presence::Absent);
/// assert_eq!(a.presence(V::new(8, 1, 0)), Presence::Absent);
/// assert_eq!(a.presence(V::new(9, 0, 0)), Presence::Present);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Availability {
    /// The release that added it, from QEMU's documentation, when it says.
    pub since: Option<QemuVersion>,
    /// The newest release known to lack it before it appeared.
    pub added_after: Option<QemuVersion>,
    /// The oldest release known to have it.
    pub first_seen: QemuVersion,
    /// The newest release known to have it, when a later one lacks it.
    pub last_seen: Option<QemuVersion>,
    /// The oldest release known to lack it after it was removed.
    pub removed_by: Option<QemuVersion>,
}

/// Whether a QEMU release has a schema item; see [`Availability::presence`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Presence {
    /// It has it (unless a build condition leaves it out).
    Present,
    /// It cannot have it.
    Absent,
    /// The release falls between two known ones that disagree.
    Unknown,
}

impl Availability {
    /// Always present, as far as known (for hand-written commands and tests).
    pub const ALWAYS: Availability = Availability {
        since: None,
        added_after: None,
        first_seen: QemuVersion::new(0, 0, 0),
        last_seen: None,
        removed_by: None,
    };

    /// Whether release `v` has the item (compared by `major.minor`).
    pub fn presence(&self, v: QemuVersion) -> Presence {
        let v = v.release();
        if let Some(removed) = self.removed_by {
            if v >= removed.release() {
                return Presence::Absent;
            }
            if let Some(last) = self.last_seen {
                if v > last.release() {
                    return Presence::Unknown;
                }
            }
        }
        if let Some(since) = self.since {
            return if v < since.release() {
                Presence::Absent
            } else {
                Presence::Present
            };
        }
        if let Some(after) = self.added_after {
            if v <= after.release() {
                return Presence::Absent;
            }
            if v < self.first_seen.release() {
                return Presence::Unknown;
            }
        }
        Presence::Present
    }

    /// Why release `v` lacks the item, or `None` when it may have it.
    pub fn missing_in(&self, v: QemuVersion) -> Option<Missing> {
        if self.presence(v) != Presence::Absent {
            return None;
        }
        let v = v.release();
        Some(match self.removed_by {
            Some(r) if v >= r.release() => Missing::Removed {
                last_seen: self.last_seen,
                removed_by: r,
            },
            _ => match self.since {
                Some(s) => Missing::AddedIn(s),
                None => Missing::AddedAfter(self.added_after.unwrap_or(v)),
            },
        })
    }
}

/// Why a release lacks an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Missing {
    /// QEMU added it in this release.
    AddedIn(QemuVersion),
    /// QEMU added it after this release (the exact release is not documented).
    AddedAfter(QemuVersion),
    /// QEMU removed it: the newest release known to have it, and one known to lack it.
    Removed {
        /// The newest release known to have it.
        last_seen: Option<QemuVersion>,
        /// A release known to lack it.
        removed_by: QemuVersion,
    },
    /// This build of QEMU lacks it (its `query-qmp-schema` does not list it): a build
    /// option or another target left it out.
    NotInBuild,
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Missing::AddedIn(v) => write!(f, "it was added in QEMU {}", v.short()),
            Missing::AddedAfter(v) => write!(f, "it was added after QEMU {}", v.short()),
            Missing::Removed {
                last_seen: Some(l),
                removed_by,
            } => write!(
                f,
                "it was removed after QEMU {} (gone by {})",
                l.short(),
                removed_by.short()
            ),
            Missing::Removed {
                last_seen: None,
                removed_by,
            } => write!(f, "it was removed by QEMU {}", removed_by.short()),
            Missing::NotInBuild => {
                f.write_str("this build does not have it (its query-qmp-schema does not list it)")
            }
        }
    }
}

/// A command, or an argument of it, that the connected QEMU does not have; found out
/// before sending.
///
/// ```
/// use qmp_types::{Missing, QemuVersion, Unavailable};
///
/// let e = Unavailable {
///     command: "migrate".into(),
///     member: Some("channels".into()),
///     qemu: Some(QemuVersion::new(7, 2, 22)),
///     missing: Missing::AddedIn(QemuVersion::new(8, 2, 0)),
/// };
/// assert_eq!(
///     e.to_string(),
///     "argument 'channels' of command 'migrate' is not available in QEMU 7.2.22: it was added in QEMU 8.2"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    /// The command's wire name.
    pub command: String,
    /// The argument (a path such as `options.driver` for a nested one), or `None` when
    /// the command itself is missing.
    pub member: Option<String>,
    /// The connected QEMU's version, when known.
    pub qemu: Option<QemuVersion>,
    /// Why it is missing.
    pub missing: Missing,
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.member {
            Some(m) => write!(f, "argument '{m}' of command '{}'", self.command)?,
            None => write!(f, "command '{}'", self.command)?,
        }
        match self.qemu {
            Some(v) => write!(f, " is not available in QEMU {v}: {}", self.missing),
            None => write!(f, " is not available in this QEMU: {}", self.missing),
        }
    }
}

impl std::error::Error for Unavailable {}

/// The availability of a command and of each of its arguments, for a client's check
/// before sending; generated for every command.
#[derive(Debug, Clone, Copy)]
pub struct CommandAvailability {
    /// The command itself.
    pub command: Availability,
    /// Each argument that not every known release has: `(wire name, availability)`.
    pub arguments: &'static [(&'static str, Availability)],
}

impl CommandAvailability {
    /// Checks the command, and the arguments present in `argument_names`, against
    /// release `qemu`.
    pub fn check<'a>(
        &self,
        command: &str,
        qemu: QemuVersion,
        argument_names: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), Unavailable> {
        if let Some(missing) = self.command.missing_in(qemu) {
            return Err(Unavailable {
                command: command.to_owned(),
                member: None,
                qemu: Some(qemu),
                missing,
            });
        }
        if self.arguments.is_empty() {
            return Ok(());
        }
        for name in argument_names {
            if let Some((_, a)) = self.arguments.iter().find(|(n, _)| *n == name) {
                if let Some(missing) = a.missing_in(qemu) {
                    return Err(Unavailable {
                        command: command.to_owned(),
                        member: Some(name.to_owned()),
                        qemu: Some(qemu),
                        missing,
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn v(a: u16, b: u16) -> QemuVersion {
        QemuVersion::new(a, b, 0)
    }

    #[test]
    fn parse_versions() {
        assert!("10".parse::<QemuVersion>().is_err());
        assert!("a.b".parse::<QemuVersion>().is_err());
        assert!("1.2.3.4".parse::<QemuVersion>().is_err());
        assert!("1..2".parse::<QemuVersion>().is_err());
        assert_eq!(" 8.2 ".parse::<QemuVersion>().unwrap(), v(8, 2));
    }

    #[test]
    fn presence_between_snapshots() {
        // Seen in 10.0 and later, not in 7.2, no documented since.
        let a = Availability {
            since: None,
            added_after: Some(v(7, 2)),
            first_seen: v(10, 0),
            last_seen: None,
            removed_by: None,
        };
        assert_eq!(a.presence(QemuVersion::new(7, 2, 22)), Presence::Absent);
        assert_eq!(a.presence(v(8, 2)), Presence::Unknown);
        assert_eq!(a.presence(v(10, 0)), Presence::Present);
        assert_eq!(a.presence(v(11, 0)), Presence::Present);
        assert_eq!(a.missing_in(v(5, 2)), Some(Missing::AddedAfter(v(7, 2))));
        // Removed: seen up to 5.2, gone by 7.2.
        let r = Availability {
            since: Some(v(2, 12)),
            added_after: None,
            first_seen: v(5, 2),
            last_seen: Some(v(5, 2)),
            removed_by: Some(v(7, 2)),
        };
        assert_eq!(r.presence(v(5, 2)), Presence::Present);
        assert_eq!(r.presence(v(6, 0)), Presence::Unknown);
        assert_eq!(r.presence(v(7, 2)), Presence::Absent);
        assert_eq!(r.presence(v(2, 11)), Presence::Absent);
        assert!(r
            .missing_in(v(10, 0))
            .unwrap()
            .to_string()
            .contains("removed after QEMU 5.2"));
        assert_eq!(Availability::ALWAYS.presence(v(1, 0)), Presence::Present);
    }

    #[test]
    fn command_check() {
        const A: CommandAvailability = CommandAvailability {
            command: Availability::ALWAYS,
            arguments: &[(
                "new-arg",
                Availability {
                    since: Some(QemuVersion::new(9, 1, 0)),
                    added_after: Some(QemuVersion::new(7, 2, 0)),
                    first_seen: QemuVersion::new(10, 0, 0),
                    last_seen: None,
                    removed_by: None,
                },
            )],
        };
        assert!(A.check("c", v(7, 2), ["old-arg"]).is_ok());
        let e = A.check("c", v(7, 2), ["old-arg", "new-arg"]).unwrap_err();
        assert_eq!(e.member.as_deref(), Some("new-arg"));
        assert_eq!(e.missing, Missing::AddedIn(v(9, 1)));
        assert!(A.check("c", v(10, 2), ["new-arg"]).is_ok());
    }
}
