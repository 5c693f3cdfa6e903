//! The rules' enums as column values: each stored as its upper-case name, the name the API and the
//! import format use. The `rules` crate knows no database, so the mapping lives here, one mirror
//! enum per rule enum, converted both ways without loss.

use rules::{AudienceMode, MomentKind, VisibleWindow};
use sea_orm::entity::prelude::*;

macro_rules! column_enum {
    ($(#[$doc:meta])* $name:ident for $rule:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
        #[sea_orm(rs_type = "String", db_type = "Text", rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum $name {
            $(#[allow(missing_docs)] $variant),+
        }

        impl From<$rule> for $name {
            fn from(value: $rule) -> Self {
                match value {
                    $($rule::$variant => Self::$variant),+
                }
            }
        }

        impl From<$name> for $rule {
            fn from(value: $name) -> Self {
                match value {
                    $($name::$variant => Self::$variant),+
                }
            }
        }
    };
}

column_enum!(
    /// `moments.kind`.
    Kind for MomentKind { Text, Images, Video, Article }
);
column_enum!(
    /// `moments.audience_mode` and `removed_moments.audience_mode`.
    Audience for AudienceMode { Public, Private, Include, Exclude }
);
column_enum!(
    /// `moments_settings.visible_window` and `removed_moments.visible_window`.
    Window for VisibleWindow { All, SixMonths, OneMonth, ThreeDays }
);

#[cfg(test)]
mod tests {
    use sea_orm::ActiveEnum as _;

    use super::*;

    #[test]
    fn stored_values_are_the_rules_names() {
        for kind in MomentKind::ALL_VALUES {
            assert_eq!(Kind::from(*kind).to_value(), kind.as_str());
            assert_eq!(MomentKind::from(Kind::from(*kind)), *kind);
        }
        for mode in AudienceMode::ALL_VALUES {
            assert_eq!(Audience::from(*mode).to_value(), mode.as_str());
            assert_eq!(AudienceMode::from(Audience::from(*mode)), *mode);
        }
        for window in VisibleWindow::ALL_VALUES {
            assert_eq!(Window::from(*window).to_value(), window.as_str());
            assert_eq!(VisibleWindow::from(Window::from(*window)), *window);
        }
    }
}
