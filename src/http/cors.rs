//! `MOMENTS_CORS_ORIGINS`: which browser origins may call the API. Each entry must be an origin
//! exactly as browsers send it (`scheme://host[:port]`, lower case, no path, no trailing slash), or
//! `*` alone for any origin; anything else could never match and is refused at start, named.
//!
//! A preflight may ask for any request header: clients send their own (Apollo's
//! `apollographql-client-name`, tracing's `traceparent`, `tracestate`, `baggage`, `sentry-trace`),
//! and the API reads none but `Authorization`, `Content-Type` and `Accept`. No response carries
//! credentials (no cookies; the token travels in `Authorization`), so allowing them opens nothing.

use std::time::Duration;

use axum::http::{HeaderValue, Method, header};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

/// One entry of `MOMENTS_CORS_ORIGINS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CorsOrigin {
    /// `*`: any origin (responses never carry credentials: tokens go in the `Authorization` header).
    Any,
    /// One exact origin.
    Exact(String),
}

impl CorsOrigin {
    /// Reads one entry; the error names it and says what would match.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw == "*" {
            return Ok(Self::Any);
        }
        let refused = |why: String| Err(format!("the CORS origin {raw:?} can never match a browser's Origin: {why}"));
        let url = match url::Url::parse(raw) {
            Ok(url) => url,
            Err(e) => return refused(format!("it is not a URL ({e}); write it as scheme://host[:port]")),
        };
        if !matches!(url.scheme(), "http" | "https") {
            return refused("only http and https origins exist for web pages".into());
        }
        let origin = url.origin().ascii_serialization();
        if origin != raw {
            return refused(format!("browsers send it as {origin:?} (no path, no trailing slash, lower case)"));
        }
        Ok(Self::Exact(origin))
    }
}

/// The CORS layer for these origins, or `None` when no origin is allowed (no layer at all: browsers
/// then refuse cross-origin calls).
pub(crate) fn layer(origins: &[CorsOrigin]) -> Result<Option<CorsLayer>, String> {
    if origins.is_empty() {
        return Ok(None);
    }
    let allow = if origins.contains(&CorsOrigin::Any) {
        if origins.len() > 1 {
            return Err("the CORS origin \"*\" allows every origin: give it alone, not in a list".into());
        }
        AllowOrigin::any()
    } else {
        let values = origins
            .iter()
            .filter_map(|o| match o {
                CorsOrigin::Exact(o) => HeaderValue::from_str(o).ok(),
                CorsOrigin::Any => None,
            })
            .collect::<Vec<_>>();
        AllowOrigin::list(values)
    };
    Ok(Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers(AllowHeaders::mirror_request())
            .expose_headers([header::RETRY_AFTER])
            .max_age(Duration::from_secs(3600)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_origins_a_browser_could_send_are_accepted() {
        assert_eq!(CorsOrigin::parse("http://localhost:5173"), Ok(CorsOrigin::Exact("http://localhost:5173".into())));
        assert_eq!(CorsOrigin::parse(" https://app.example "), Ok(CorsOrigin::Exact("https://app.example".into())));
        assert_eq!(CorsOrigin::parse("*"), Ok(CorsOrigin::Any));
        assert_eq!(
            CorsOrigin::parse("https://app.example/").unwrap_err(),
            "the CORS origin \"https://app.example/\" can never match a browser's Origin: browsers send it as \
             \"https://app.example\" (no path, no trailing slash, lower case)"
        );
        assert!(CorsOrigin::parse("https://App.example").is_err());
        assert!(CorsOrigin::parse("https://app.example:443").is_err());
        assert!(CorsOrigin::parse("app.example").is_err());
        assert!(CorsOrigin::parse("https://app example").is_err());
        assert!(CorsOrigin::parse("ftp://app.example").is_err());
    }

    #[test]
    fn a_star_stands_alone() {
        assert!(layer(&[CorsOrigin::Any]).unwrap().is_some());
        assert!(layer(&[CorsOrigin::Any, CorsOrigin::Exact("https://a.example".into())]).is_err());
        assert!(layer(&[]).unwrap().is_none());
    }
}
