//! Validated input: newtypes that can only be made from acceptable values, so bad input stops at the
//! edge with a message that says what was wrong (docs/rules.md §6, Safety).

use std::fmt;

/// Why a value was refused; the message is what the client reads.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInput(pub String);

pub(super) fn invalid<T>(message: impl Into<String>) -> Result<T, InvalidInput> {
    Err(InvalidInput(message.into()))
}

/// The most characters a moment's text may have.
pub const MAX_TEXT_CHARS: usize = 2_000;
/// The most pictures a moment may have.
pub const MAX_IMAGES: usize = 9;
/// The longest URL accepted.
pub const MAX_URL_CHARS: usize = 2_048;
/// The longest article title accepted.
pub const MAX_TITLE_CHARS: usize = 300;
/// The most friends an audience may name (bigger groups are what tags are for).
pub const MAX_AUDIENCE_USERS: usize = 100;
/// The most tags an audience may name.
pub const MAX_AUDIENCE_TAGS: usize = 20;
/// The most members a tag may have.
pub const MAX_TAG_MEMBERS: usize = 1_000;
/// The most friends a user may have (WeChat's long-standing limit).
pub const MAX_FRIENDS: u64 = 5_000;
/// The most friend requests a user may have waiting for an answer.
pub const MAX_PENDING_REQUESTS: u64 = 100;

/// Checks the size of a tag's member list (`field` names it in the message).
pub fn check_tag_size(field: &str, members: usize) -> Result<(), InvalidInput> {
    if members > MAX_TAG_MEMBERS {
        return invalid(format!("{field}: a tag holds at most {MAX_TAG_MEMBERS} members, got {members}"));
    }
    Ok(())
}

/// The refusal of a list (a tag's members, an audience) that names `who` (`@handle`), who is not
/// the owner's friend.
pub fn not_a_friend(field: &str, who: &str) -> InvalidInput {
    InvalidInput(format!("{field}: {who} is not your friend"))
}

/// A user's handle: 3 to 32 of `a-z`, `0-9`, `_`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Handle(String);

impl Handle {
    /// Checks the handle's form.
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let len = raw.chars().count();
        if !(3..=32).contains(&len) {
            return invalid(format!("handle: must be 3 to 32 characters long, got {len}"));
        }
        if let Some(bad) = raw.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')) {
            return invalid(format!("handle: only lower-case letters a-z, digits and '_' are allowed, found {bad:?}"));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The handle as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Characters a name may not hold although they print nothing or change how the text around them
/// reads: bidirectional embeddings, overrides, isolates and marks (which can make "alice" display as
/// someone else's name), zero-width spaces and joiners other than ZWNJ/ZWJ (which scripts and emoji
/// need), the soft hyphen, Hangul fillers (used for names that look empty), line and paragraph
/// separators, the byte-order mark and non-characters.
pub fn is_deceptive(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{180E}'
            | '\u{200B}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{FFFE}'
            | '\u{FFFF}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// Combining marks of the blocks made of nothing else: they draw on the character before them.
fn is_combining(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

/// The most combining marks a name may stack on one character: accents need one or two; dozens
/// make text that spills over the lines around it.
pub const MAX_COMBINING_IN_A_ROW: usize = 4;

/// Whether a character shows nothing by itself: white space, the braille blank, the joiners and
/// variation selectors a name may hold, and combining marks (which need a character to sit on).
fn is_blank(c: char) -> bool {
    c.is_whitespace() || is_combining(c) || matches!(c, '\u{2800}' | '\u{200C}' | '\u{200D}' | '\u{FE00}'..='\u{FE0F}')
}

/// A one-line name (display names, tag names, article titles): trimmed, 1 to `max` characters, with
/// something visible, and no control characters or [deceptive](is_deceptive) ones.
pub(super) fn short_text(field: &str, raw: &str, max: usize) -> Result<String, InvalidInput> {
    let trimmed = raw.trim();
    let len = trimmed.chars().count();
    if len > max {
        return invalid(format!("{field}: at most {max} characters, got {len}"));
    }
    if let Some(bad) = trimmed.chars().find(|c| c.is_control()) {
        return invalid(format!("{field}: must not contain control characters (found U+{:04X})", bad as u32));
    }
    if let Some(bad) = trimmed.chars().find(|c| is_deceptive(*c)) {
        return invalid(format!(
            "{field}: must not contain invisible or direction-changing characters (found U+{:04X})",
            bad as u32
        ));
    }
    if trimmed.chars().all(is_blank) {
        return invalid(format!("{field}: must not be empty"));
    }
    let mut in_a_row = 0;
    for c in trimmed.chars() {
        in_a_row = if is_combining(c) { in_a_row + 1 } else { 0 };
        if in_a_row > MAX_COMBINING_IN_A_ROW {
            return invalid(format!("{field}: at most {MAX_COMBINING_IN_A_ROW} combining marks on one character"));
        }
    }
    Ok(trimmed.to_owned())
}

/// A display name: 1 to 64 characters after trimming, something visible, no control characters and
/// no [deceptive](is_deceptive) ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Checks and trims the name.
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        short_text("displayName", raw, 64).map(Self)
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 8 to 128 characters.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    /// Checks the length, and that it holds no control characters (a NUL, a newline: nothing a
    /// person types at a password prompt).
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let len = raw.chars().count();
        if !(8..=128).contains(&len) {
            return invalid(format!("password: must be 8 to 128 characters long, got {len}"));
        }
        if raw.chars().any(char::is_control) {
            return invalid("password: must not contain control characters");
        }
        Ok(Self(raw.to_owned()))
    }

    /// The password, for hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

/// A tag's name: 1 to 64 characters after trimming.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagName(String);

impl TagName {
    /// Checks and trims the name.
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        short_text("name", raw, 64).map(Self)
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An absolute `http` or `https` URL with a host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpUrl(String);

impl HttpUrl {
    /// Checks the URL; `field` names it in the message.
    pub fn parse(field: &str, raw: &str) -> Result<Self, InvalidInput> {
        if raw.chars().count() > MAX_URL_CHARS {
            return invalid(format!("{field}: a URL may have at most {MAX_URL_CHARS} characters"));
        }
        // The URL parser would drop tabs and line breaks and encode the rest without a word.
        if raw.chars().any(char::is_control) {
            return invalid(format!("{field}: a URL must not contain control characters"));
        }
        let parsed = match url::Url::parse(raw) {
            Ok(url) => url,
            Err(e) => return invalid(format!("{field}: {raw:?} is not a URL ({e})")),
        };
        if !matches!(parsed.scheme(), "http" | "https") {
            return invalid(format!("{field}: only http and https URLs are allowed, got a {}: URL", parsed.scheme()));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return invalid(format!("{field}: the URL has no host"));
        }
        // `https://bank.example@evil.example/` reads as the bank and leads elsewhere.
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return invalid(format!("{field}: a URL must not carry a user name or password"));
        }
        let normalised: String = parsed.into();
        // Parsing percent-encodes what a URL may not hold as it is, which can make it longer.
        if normalised.len() > MAX_URL_CHARS {
            return invalid(format!("{field}: a URL may have at most {MAX_URL_CHARS} characters once encoded"));
        }
        Ok(Self(normalised))
    }

    /// The URL as text (normalised by parsing).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_lower_case_letters_digits_and_underscores() {
        assert!(Handle::parse("alice_01").is_ok());
        assert_eq!(
            Handle::parse("Alice").unwrap_err().0,
            "handle: only lower-case letters a-z, digits and '_' are allowed, found 'A'"
        );
        assert!(Handle::parse("ab").is_err());
        assert!(Handle::parse(&"a".repeat(33)).is_err());
    }

    #[test]
    fn names_hold_nothing_invisible_or_direction_changing() {
        assert_eq!(DisplayName::parse(" Zoë 🙂 ").unwrap().as_str(), "Zoë 🙂");
        assert!(DisplayName::parse("👨\u{200D}👩\u{200D}👧 family").is_ok(), "ZWJ emoji sequences are names");
        assert!(DisplayName::parse("می\u{200C}خواهم").is_ok(), "ZWNJ is needed by Persian");
        for (raw, message) in [
            ("a\u{0}b", "displayName: must not contain control characters (found U+0000)"),
            ("line\nbreak", "displayName: must not contain control characters (found U+000A)"),
            (
                "ecila\u{202E}",
                "displayName: must not contain invisible or direction-changing characters (found U+202E)",
            ),
            (
                "\u{2067}alice",
                "displayName: must not contain invisible or direction-changing characters (found U+2067)",
            ),
            (
                "al\u{200B}ice",
                "displayName: must not contain invisible or direction-changing characters (found U+200B)",
            ),
            ("\u{3164}", "displayName: must not contain invisible or direction-changing characters (found U+3164)"),
            ("\u{200D}\u{200D}", "displayName: must not be empty"),
            ("   ", "displayName: must not be empty"),
            ("a\u{E0041}b", "displayName: must not contain invisible or direction-changing characters (found U+E0041)"),
            ("\u{2800}", "displayName: must not be empty"),
            ("\u{0301}\u{0301}", "displayName: must not be empty"),
            ("z\u{0301}\u{0302}\u{0303}\u{0304}\u{0305}", "displayName: at most 4 combining marks on one character"),
        ] {
            assert_eq!(DisplayName::parse(raw).unwrap_err().0, message, "{raw:?}");
        }
    }

    #[test]
    fn passwords_refuse_control_characters() {
        assert_eq!(NewPassword::parse("pass\u{0}word").unwrap_err().0, "password: must not contain control characters");
    }

    #[test]
    fn only_http_and_https_urls_with_a_host_pass() {
        assert!(HttpUrl::parse("u", "https://img.example/a.jpg").is_ok());
        assert_eq!(
            HttpUrl::parse("images[0].url", "javascript:alert(1)").unwrap_err().0,
            "images[0].url: only http and https URLs are allowed, got a javascript: URL"
        );
        assert!(HttpUrl::parse("u", "ftp://x.example/a").is_err());
        assert_eq!(
            HttpUrl::parse("u", "https://bank.example:pw@evil.example/x").unwrap_err().0,
            "u: a URL must not carry a user name or password"
        );
        assert_eq!(
            HttpUrl::parse("u", "https://e.example/\u{0}").unwrap_err().0,
            "u: a URL must not contain control characters"
        );
        assert!(HttpUrl::parse("u", "not a url").is_err());
    }
}
