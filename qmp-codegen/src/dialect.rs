//! Which QEMU release's QAPI language a schema is written in.
//!
//! QEMU's schema language changed between releases: QEMU 5.2 has simple unions, list
//! conditions and `*-whitelist` pragmas; 6.x renamed the pragmas, tightened names and
//! added enum member features and `unstable`; 7.0 dropped simple unions; the doc
//! comment rules changed in almost every release since (10.0 rejects `Note:` sections,
//! 10.2 rejects lines over 70 columns). A schema is checked by the rules of its own
//! release: what that QEMU accepted is accepted, what it rejected is rejected.
//!
//! The rules of QEMU 5.2, 7.2, 10.0 and 10.2 are implemented and checked against those
//! releases' own test suites (`tests/qapi-schema`). A release in between is read by the
//! rules of the nearest of these at or below it.

use std::fmt;

/// The QAPI language of one QEMU release.
///
/// ```
/// use qmp_codegen::Dialect;
///
/// assert_eq!(Dialect::for_release(8, 2), Dialect::QEMU_7_2);
/// assert_eq!(Dialect::for_release(11, 0), Dialect::QEMU_10_2);
/// assert!(Dialect::QEMU_5_2.has_simple_unions());
/// assert_eq!(Dialect::default(), Dialect::LATEST);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dialect {
    major: u16,
    minor: u16,
}

impl Dialect {
    /// QEMU 5.2 (Debian 11).
    pub const QEMU_5_2: Dialect = Dialect::new(5, 2);
    /// QEMU 7.2 (Debian 12).
    pub const QEMU_7_2: Dialect = Dialect::new(7, 2);
    /// QEMU 10.0.
    pub const QEMU_10_0: Dialect = Dialect::new(10, 0);
    /// QEMU 10.2.
    pub const QEMU_10_2: Dialect = Dialect::new(10, 2);
    /// The newest implemented.
    pub const LATEST: Dialect = Dialect::QEMU_10_2;
    /// Every implemented dialect, oldest first.
    pub const ALL: &'static [Dialect] = &[
        Dialect::QEMU_5_2,
        Dialect::QEMU_7_2,
        Dialect::QEMU_10_0,
        Dialect::QEMU_10_2,
    ];

    const fn new(major: u16, minor: u16) -> Dialect {
        Dialect { major, minor }
    }

    /// The rules for QEMU `major.minor`: those of the newest implemented release at or
    /// below it (the oldest one for anything older).
    pub fn for_release(major: u16, minor: u16) -> Dialect {
        let want = Dialect::new(major, minor);
        Dialect::ALL
            .iter()
            .rev()
            .find(|d| **d <= want)
            .copied()
            .unwrap_or(Dialect::QEMU_5_2)
    }

    /// Parses `10.0`, `10.0.2`, `7.2.22`: the dialect of that release.
    pub fn parse(version: &str) -> Option<Dialect> {
        let mut parts = version.trim().split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some(Dialect::for_release(major, minor))
    }

    /// `(major, minor)` of the release whose rules these are.
    pub fn release(self) -> (u16, u16) {
        (self.major, self.minor)
    }

    fn at_least(self, major: u16, minor: u16) -> bool {
        (self.major, self.minor) >= (major, minor)
    }

    /// Unions without a discriminator (`{ 'union': 'U', 'data': {...} }`), removed in 7.0.
    pub fn has_simple_unions(self) -> bool {
        !self.at_least(7, 0)
    }

    /// Pragmas `returns-whitelist` and `name-case-whitelist` (renamed in 6.0).
    pub(crate) fn whitelist_pragmas(self) -> bool {
        !self.at_least(6, 0)
    }

    /// `if` is a string or a list of strings (6.2 brought `all`/`any`/`not`).
    pub(crate) fn list_conditions(self) -> bool {
        !self.at_least(6, 2)
    }

    /// The doc comment rules of 9.x and later (`Errors:`, rST admonitions, required
    /// member documentation).
    pub(crate) fn modern_docs(self) -> bool {
        self.at_least(9, 0)
    }

    /// 10.2's line-length and sentence-spacing rules for doc comments.
    pub(crate) fn doc_line_format(self) -> bool {
        self.at_least(10, 2)
    }

    /// Pragma `documentation-exceptions` (with the rule that members need docs).
    pub(crate) fn documentation_exceptions(self) -> bool {
        self.at_least(9, 0)
    }

    /// A top-level value of any kind is parsed before the "must be an object" check
    /// (QEMU 5.2 wants `{` right away).
    pub(crate) fn top_level_any_value(self) -> bool {
        self.at_least(6, 0)
    }

    /// "stray" text stops at `"` too (dropped in 8.x).
    pub(crate) fn stray_stops_at_double_quote(self) -> bool {
        !self.at_least(10, 0)
    }

    pub(crate) fn expected_value(self) -> &'static str {
        if self.at_least(6, 0) {
            "expected '{', '[', string, or boolean"
        } else {
            "expected '{', '[', string, boolean or 'null'"
        }
    }

    pub(crate) fn expected_value_or_rbracket(self) -> &'static str {
        if self.at_least(6, 0) {
            "expected '{', '[', ']', string, or boolean"
        } else {
            "expected '{', '[', ']', string, boolean or 'null'"
        }
    }

    /// The old doc parser's error for `@:`.
    pub(crate) fn old_doc_empty_symbol(self) -> &'static str {
        if self.at_least(6, 0) {
            "name required after '@'"
        } else {
            "invalid name"
        }
    }
}

impl Default for Dialect {
    fn default() -> Self {
        Dialect::LATEST
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "QEMU {}.{}", self.major, self.minor)
    }
}
