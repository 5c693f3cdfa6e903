//! Opaque global ids (`Node.id`): the type name and the database id, base64url-encoded. They are
//! opaque to clients, not secret: what a viewer may see is decided by the rules, never by an id.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::error::Error;

/// The object types that have a global id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// A `User`.
    User,
    /// A `Moment`.
    Moment,
    /// A `Tag`.
    Tag,
    /// A `Profile` (its user's moments page).
    Profile,
}

impl NodeKind {
    fn name(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Moment => "Moment",
            Self::Tag => "Tag",
            Self::Profile => "Profile",
        }
    }
}

/// The global id of a database row.
pub fn encode(kind: NodeKind, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{id}", kind.name()))
}

/// Reads a global id back; `None` when it is not one of ours.
pub fn decode(global: &str) -> Option<(NodeKind, i64)> {
    let raw = URL_SAFE_NO_PAD.decode(global).ok()?;
    let text = std::str::from_utf8(&raw).ok()?;
    let (name, id) = text.split_once(':')?;
    let kind =
        [NodeKind::User, NodeKind::Moment, NodeKind::Tag, NodeKind::Profile].into_iter().find(|k| k.name() == name)?;
    let id: i64 = id.parse().ok().filter(|id| *id > 0)?;
    // Only the canonical spelling is accepted, so one row has exactly one id.
    (encode(kind, id) == global).then_some((kind, id))
}

/// Reads a global id that must name a `kind`; `BAD_USER_INPUT` naming `field` otherwise.
pub fn decode_as(kind: NodeKind, global: &str, field: &str) -> Result<i64, Error> {
    match decode(global) {
        Some((found, id)) if found == kind => Ok(id),
        Some((found, _)) => Err(Error::bad_input(format!(
            "{field}: expected the id of a {}, got the id of a {}",
            kind.name(),
            found.name()
        ))),
        None => Err(Error::bad_input(format!("{field}: {global:?} is not a valid id"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_back_and_reject_other_types_and_noise() {
        let id = encode(NodeKind::Moment, 42);
        assert_eq!(decode(&id), Some((NodeKind::Moment, 42)));
        assert_eq!(decode_as(NodeKind::Moment, &id, "momentId").unwrap(), 42);
        assert!(decode_as(NodeKind::User, &id, "userId").is_err());
        assert_eq!(decode("not-an-id"), None);
        assert_eq!(decode(&URL_SAFE_NO_PAD.encode("Moment:-1")), None);
        assert_eq!(decode(&URL_SAFE_NO_PAD.encode("Moment:007")), None);
    }
}
