//! The client's address, for rate limits: the peer's address, or — when the peer is a proxy listed
//! in `MOMENTS_TRUSTED_PROXIES` — the address that proxy put in `X-Forwarded-For`. The header is
//! read from the right: each trusted proxy appends the address it received the request from, so the
//! first address from the right that is not a trusted proxy is the client (anything further left
//! was written by the client itself and proves nothing).

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// Who may set `X-Forwarded-For`.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    /// Whether `address` is one of the trusted proxies.
    pub fn trusts(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client's address, from the peer's and the request's headers.
    pub fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = canonical(peer?);
        if !self.trusts(peer) {
            return Some(peer);
        }
        let mut hops: Vec<&str> = Vec::new();
        for value in headers.get_all("x-forwarded-for") {
            match value.to_str() {
                Ok(text) => hops.extend(text.split(',').map(str::trim)),
                Err(_) => hops.push(""),
            }
        }
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            // A hop we cannot read ends what we can trust.
            let Ok(address) = hop.parse::<IpAddr>() else {
                break;
            };
            client = canonical(address);
            if !self.trusts(client) {
                break;
            }
        }
        Some(client)
    }
}

/// IPv4 addresses mapped into IPv6 (a dual-stack listener's view) read as IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in xff {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says() {
        let none = TrustedProxies::default();
        assert_eq!(none.client(Some(ip("203.0.113.9")), &headers(&["198.51.100.1"])), Some(ip("203.0.113.9")));
        assert_eq!(none.client(None, &headers(&[])), None);
    }

    #[test]
    fn behind_trusted_proxies_the_first_untrusted_hop_from_the_right_is_the_client() {
        let proxies = TrustedProxies(vec!["10.0.0.0/8".parse().unwrap()]);
        let peer = Some(ip("10.0.0.2"));
        // The client wrote a fake first entry; the proxies appended what they saw.
        assert_eq!(proxies.client(peer, &headers(&["1.2.3.4, 198.51.100.7, 10.0.0.5"])), Some(ip("198.51.100.7")));
        assert_eq!(proxies.client(peer, &headers(&["198.51.100.7", "10.0.0.5"])), Some(ip("198.51.100.7")));
        assert_eq!(proxies.client(peer, &headers(&[])), peer);
        assert_eq!(proxies.client(peer, &headers(&["garbage, 198.51.100.7"])), Some(ip("198.51.100.7")));
        assert_eq!(proxies.client(peer, &headers(&["198.51.100.7, garbage"])), peer);
        assert_eq!(proxies.client(Some(ip("::ffff:10.0.0.2")), &headers(&["198.51.100.7"])), Some(ip("198.51.100.7")));
        assert_eq!(proxies.client(Some(ip("203.0.113.9")), &headers(&["198.51.100.7"])), Some(ip("203.0.113.9")));
    }
}
