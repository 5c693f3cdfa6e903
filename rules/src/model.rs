//! The words of the product (docs/rules.md §1): kinds, audiences, windows, and the ids that name things.
//! The enums are exchanged as their upper-case names, in the API, the import format and the
//! database (the store maps its columns to them).

use std::fmt;

/// The database id of a user.
pub type UserId = i64;
/// The database id of a moment.
pub type MomentId = i64;
/// The database id of a tag.
pub type TagId = i64;

/// What a moment holds; it follows from the content (docs/rules.md §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MomentKind {
    /// Text only.
    Text,
    /// One to nine pictures, text optional.
    Images,
    /// One video, text optional.
    Video,
    /// A shared link with a title, text optional.
    Article,
}

/// Who may see a moment among the author's friends (docs/rules.md §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AudienceMode {
    /// All the author's friends.
    Public,
    /// Only the author.
    Private,
    /// Only the listed friends and members of the listed tags.
    Include,
    /// All friends except those listed and members of the listed tags.
    Exclude,
}

/// How far back others may look at a user's moments (docs/rules.md §1, article §02.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum VisibleWindow {
    /// No bound.
    #[default]
    All,
    /// Six calendar months.
    SixMonths,
    /// One calendar month.
    OneMonth,
    /// Seventy-two hours.
    ThreeDays,
}

/// Exchanged as the API's upper-case names; one table per enum keeps both directions in step (and a
/// test in the store holds its column values to the same table).
macro_rules! named_enum {
    ($ty:ty, [$($variant:ident => $name:literal),+ $(,)?]) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL_VALUES: &'static [$ty] = &[$(<$ty>::$variant),+];

            /// The upper-case name used in the database, the import format and the API.
            pub const fn as_str(self) -> &'static str {
                match self { $(<$ty>::$variant => $name),+ }
            }

            /// Reads the upper-case name back.
            pub fn parse(name: &str) -> Option<Self> {
                match name { $($name => Some(<$ty>::$variant),)+ _ => None }
            }

            /// Reads the name a client gave for `field`; the message of a wrong one lists the names.
            pub fn parse_as(field: &str, name: &str) -> Result<Self, super::input::InvalidInput> {
                Self::parse(name).ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL_VALUES.iter().map(|v| v.as_str()).collect();
                    super::input::InvalidInput(format!("{field}: {name:?} is not one of {}", names.join(", ")))
                })
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_enum!(MomentKind, [Text => "TEXT", Images => "IMAGES", Video => "VIDEO", Article => "ARTICLE"]);
named_enum!(AudienceMode, [Public => "PUBLIC", Private => "PRIVATE", Include => "INCLUDE", Exclude => "EXCLUDE"]);
named_enum!(VisibleWindow, [All => "ALL", SixMonths => "SIX_MONTHS", OneMonth => "ONE_MONTH", ThreeDays => "THREE_DAYS"]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_to_the_same_values() {
        for kind in MomentKind::ALL_VALUES {
            assert_eq!(MomentKind::parse(kind.as_str()), Some(*kind));
        }
        for mode in AudienceMode::ALL_VALUES {
            assert_eq!(AudienceMode::parse(mode.as_str()), Some(*mode));
        }
        for window in VisibleWindow::ALL_VALUES {
            assert_eq!(VisibleWindow::parse(window.as_str()), Some(*window));
        }
        assert_eq!(VisibleWindow::parse("all"), None);
    }

    #[test]
    fn a_wrong_name_is_refused_with_the_names() {
        assert_eq!(
            VisibleWindow::parse_as("visibleWindow", "all").unwrap_err().0,
            r#"visibleWindow: "all" is not one of ALL, SIX_MONTHS, ONE_MONTH, THREE_DAYS"#
        );
    }
}
