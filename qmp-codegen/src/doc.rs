//! Doc comments: the `##` blocks before definitions.
//!
//! The doc-comment rules changed between QEMU releases (10.0 rejects forms 7.2 used);
//! by default a schema's doc comments are checked by the rules of its
//! [dialect](crate::Dialect), as that QEMU checks them.

use crate::diag::Location;

/// How strictly to read doc comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DocMode {
    /// The rules of the schema's QEMU release: section order, indentation, obsolete
    /// tags, documented and undocumented members, `doc-required`.
    #[default]
    Checked,
    /// Parse whatever is there; never fail because of doc text (only the block
    /// syntax: `##` ... `##`).
    Lenient,
    /// Ignore doc comments altogether (still checks the block syntax).
    Ignore,
}

/// A parsed doc comment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Doc {
    /// The definition documented (`@Name:` on the first line); `None` for a free-form
    /// block.
    pub symbol: Option<String>,
    /// For a free-form block whose first line is `= Title` (`== Subtitle`, ...): the
    /// level and title.
    pub heading: Option<(usize, String)>,
    /// The overview text (reStructuredText).
    pub body: String,
    /// `@member: text` descriptions, in order.
    pub members: Vec<DocItem>,
    /// `@feature: text` descriptions after `Features:`.
    pub features: Vec<DocItem>,
    /// `Returns:` text.
    pub returns: Option<String>,
    /// `Errors:` text.
    pub errors: Option<String>,
    /// `Since:` text.
    pub since: Option<String>,
    /// Plain paragraphs after the member sections (notes, examples).
    pub trailing: String,
    /// Where the block is.
    pub location: Option<Location>,
}

/// One `@name: text` description.
#[derive(Debug, Clone, PartialEq)]
pub struct DocItem {
    /// The member, value or feature name.
    pub name: String,
    /// Its description.
    pub text: String,
    /// The line it starts on.
    pub line: u32,
}

impl Doc {
    /// The description of member `name`.
    pub fn member(&self, name: &str) -> Option<&str> {
        self.members
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.text.as_str())
    }

    /// The description of feature `name`.
    pub fn feature(&self, name: &str) -> Option<&str> {
        self.features
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.text.as_str())
    }
}
