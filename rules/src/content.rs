//! A moment's content and audience as given by a client (`postMoment`) or a file (`moments
//! import`): one parser for both, from the raw parts to a checked [`MomentContent`].

use super::input::{
    HttpUrl, InvalidInput, MAX_AUDIENCE_TAGS, MAX_AUDIENCE_USERS, MAX_IMAGES, MAX_TEXT_CHARS, MAX_TITLE_CHARS, invalid,
    short_text,
};
use super::model::MomentKind;

/// A picture or video as given, before any check.
#[derive(Clone, Copy, Debug)]
pub struct GivenMedia<'a> {
    /// Its URL.
    pub url: &'a str,
    /// Width in pixels, if given.
    pub width: Option<i32>,
    /// Height in pixels, if given.
    pub height: Option<i32>,
}

/// A moment's content as given, before any check.
#[derive(Clone, Debug, Default)]
pub struct GivenContent<'a> {
    /// The text.
    pub text: Option<&'a str>,
    /// Pictures, in order.
    pub images: Option<Vec<GivenMedia<'a>>>,
    /// One video.
    pub video: Option<GivenMedia<'a>>,
    /// A shared article: its URL and title.
    pub article: Option<(&'a str, &'a str)>,
}

impl GivenContent<'_> {
    /// Checks every part, naming it in messages (`images[2].url`, `video.width`, `article.title`),
    /// then the whole ([`MomentContent::new`]).
    pub fn parse(&self) -> Result<MomentContent, InvalidInput> {
        let images = self
            .images
            .as_ref()
            .map(|list| {
                list.iter()
                    .enumerate()
                    .map(|(i, m)| MediaItem::parse(&format!("images[{i}]"), m.url, m.width, m.height))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let video = self.video.map(|v| MediaItem::parse("video", v.url, v.width, v.height)).transpose()?;
        let article = self.article.map(|(url, title)| ArticleLink::parse(url, title)).transpose()?;
        MomentContent::new(self.text, images, video, article)
    }
}

/// A picture or a video: its URL and optional pixel size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaItem {
    /// Where the file is.
    pub url: HttpUrl,
    /// Width in pixels.
    pub width: Option<i32>,
    /// Height in pixels.
    pub height: Option<i32>,
}

impl MediaItem {
    /// Checks one picture or video; `field` names it in messages (`images[2]`, `video`).
    pub fn parse(field: &str, url: &str, width: Option<i32>, height: Option<i32>) -> Result<Self, InvalidInput> {
        for (name, value) in [("width", width), ("height", height)] {
            if let Some(v) = value
                && !(1..=100_000).contains(&v)
            {
                return invalid(format!("{field}.{name}: must be between 1 and 100000 pixels, got {v}"));
            }
        }
        Ok(Self { url: HttpUrl::parse(&format!("{field}.url"), url)?, width, height })
    }
}

/// A shared article: its link and title.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArticleLink {
    /// Where the article is.
    pub url: HttpUrl,
    /// Its title.
    pub title: String,
}

impl ArticleLink {
    /// Checks the link and title.
    pub fn parse(url: &str, title: &str) -> Result<Self, InvalidInput> {
        Ok(Self {
            url: HttpUrl::parse("article.url", url)?,
            title: short_text("article.title", title, MAX_TITLE_CHARS)?,
        })
    }
}

/// The content of a moment, whose kind follows from it (docs/rules.md §1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MomentContent {
    /// The kind the content makes.
    pub kind: MomentKind,
    /// The text, if any (empty or blank text counts as none).
    pub text: Option<String>,
    /// Pictures in order, or the one video.
    pub media: Vec<MediaItem>,
    /// The shared article.
    pub article: Option<ArticleLink>,
}

impl MomentContent {
    /// Derives the kind from what is there and checks the combination: pictures, a video or an
    /// article (at most one of them), text optional beside them, required alone.
    pub fn new(
        text: Option<&str>,
        images: Option<Vec<MediaItem>>,
        video: Option<MediaItem>,
        article: Option<ArticleLink>,
    ) -> Result<Self, InvalidInput> {
        let text = match text.map(str::trim_end) {
            Some(t) if !t.trim().is_empty() => {
                let len = t.chars().count();
                if len > MAX_TEXT_CHARS {
                    return invalid(format!("text: at most {MAX_TEXT_CHARS} characters, got {len}"));
                }
                // Line breaks and tabs are text; other control characters (a NUL, an escape) are not.
                if let Some(bad) = t.chars().find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
                    return invalid(format!("text: must not contain control characters (found U+{:04X})", bad as u32));
                }
                Some(t.to_owned())
            }
            _ => None,
        };
        if let Some(images) = &images
            && !(1..=MAX_IMAGES).contains(&images.len())
        {
            return invalid(format!("images: a moment holds 1 to {MAX_IMAGES} pictures, got {}", images.len()));
        }
        let attachments = usize::from(images.is_some()) + usize::from(video.is_some()) + usize::from(article.is_some());
        if attachments > 1 {
            return invalid("a moment holds pictures, a video or an article: not more than one of them");
        }
        let (kind, media) = match (images, video, &article) {
            (Some(images), _, _) => (MomentKind::Images, images),
            (_, Some(video), _) => (MomentKind::Video, vec![video]),
            (_, _, Some(_)) => (MomentKind::Article, Vec::new()),
            _ if text.is_some() => (MomentKind::Text, Vec::new()),
            _ => return invalid("a moment needs text, pictures, a video or an article"),
        };
        Ok(Self { kind, text, media, article })
    }
}

/// Checks the shape of an audience: lists go with `INCLUDE` and `EXCLUDE` only, and those need at
/// least one name and at most [`MAX_AUDIENCE_USERS`] friends and [`MAX_AUDIENCE_TAGS`] tags.
/// Whether the names are the author's friends and tags is the store's to check.
pub fn check_audience_shape(mode: super::AudienceMode, users: usize, tags: usize) -> Result<(), InvalidInput> {
    use super::AudienceMode::*;
    if users > MAX_AUDIENCE_USERS {
        return invalid(format!(
            "audience: at most {MAX_AUDIENCE_USERS} friends by name, got {users}; name a tag for a larger group"
        ));
    }
    if tags > MAX_AUDIENCE_TAGS {
        return invalid(format!("audience: at most {MAX_AUDIENCE_TAGS} tags, got {tags}"));
    }
    let has_names = users + tags > 0;
    match mode {
        Public | Private if has_names => {
            invalid(format!("audience: userIds and tagIds go with INCLUDE or EXCLUDE, not with {mode}"))
        }
        Include | Exclude if !has_names => invalid(format!("audience: {mode} needs at least one friend or tag")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(n: usize) -> MediaItem {
        MediaItem::parse("images", &format!("https://img.example/{n}.jpg"), Some(800), Some(600)).unwrap()
    }

    #[test]
    fn text_keeps_line_breaks_and_refuses_other_control_characters() {
        assert!(MomentContent::new(Some("two\nlines\tand a tab"), None, None, None).is_ok());
        assert_eq!(
            MomentContent::new(Some("nul\u{0}inside"), None, None, None).unwrap_err().0,
            "text: must not contain control characters (found U+0000)"
        );
    }

    #[test]
    fn the_kind_follows_from_the_content() {
        let kind = |text, images, video, article| MomentContent::new(text, images, video, article).map(|c| c.kind);
        assert_eq!(kind(Some("hi"), None, None, None), Ok(MomentKind::Text));
        assert_eq!(kind(None, Some(vec![picture(1)]), None, None), Ok(MomentKind::Images));
        assert_eq!(kind(Some("clip"), None, Some(picture(1)), None), Ok(MomentKind::Video));
        let article = ArticleLink::parse("https://news.example/x", "X").unwrap();
        assert_eq!(kind(None, None, None, Some(article)), Ok(MomentKind::Article));
    }

    #[test]
    fn content_limits_are_enforced_with_a_message() {
        let ten = (0..10).map(picture).collect();
        assert_eq!(
            MomentContent::new(None, Some(ten), None, None).unwrap_err().0,
            "images: a moment holds 1 to 9 pictures, got 10"
        );
        assert!(MomentContent::new(None, Some(vec![]), None, None).is_err());
        assert!(MomentContent::new(Some("  "), None, None, None).is_err());
        assert!(MomentContent::new(Some(&"x".repeat(2_000)), None, None, None).is_ok());
        assert_eq!(
            MomentContent::new(Some(&"x".repeat(2_001)), None, None, None).unwrap_err().0,
            "text: at most 2000 characters, got 2001"
        );
        assert!(MomentContent::new(None, Some(vec![picture(1)]), Some(picture(2)), None).is_err());
    }

    #[test]
    fn each_part_is_named_in_its_message() {
        let given = GivenContent {
            images: Some(vec![
                GivenMedia { url: "https://img.example/1.jpg", width: None, height: None },
                GivenMedia { url: "ftp://img.example/2.jpg", width: None, height: None },
            ]),
            ..GivenContent::default()
        };
        assert_eq!(given.parse().unwrap_err().0, "images[1].url: only http and https URLs are allowed, got a ftp: URL");
        let video = GivenContent {
            video: Some(GivenMedia { url: "https://v.example/a.mp4", width: Some(0), height: None }),
            ..GivenContent::default()
        };
        assert_eq!(video.parse().unwrap_err().0, "video.width: must be between 1 and 100000 pixels, got 0");
        let article = GivenContent {
            text: Some("read"),
            article: Some(("https://news.example/x", "X")),
            ..GivenContent::default()
        };
        assert_eq!(article.parse().unwrap().kind, MomentKind::Article);
    }
}
