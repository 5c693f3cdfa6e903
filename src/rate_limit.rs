//! Rate limits on the two operations anyone may call without a token and that cost real work:
//! `signIn` (an argon2 check, about 90 ms of CPU) and `signUp` (a hash and a new account). Limits are
//! kept per client address (IPv6 by its /64, which one subscriber usually holds) and, for sign-in,
//! per handle, so neither one address nor many addresses can guess at one account quickly.
//!
//! Each limit is a GCRA bucket (`governor`): the quota per period, with a burst of the same size.
//! Buckets that have filled up again are forgotten every minute, so the memory held is bounded by
//! the clients seen in the last period.

use std::{
    net::IpAddr,
    num::NonZeroU32,
    sync::{Arc, Weak},
    time::Duration,
};

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock as _, DefaultClock},
};

use crate::error::{Error, Result};

/// The limits, as configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// Sign-in attempts per minute from one client address (0: none).
    pub sign_in_per_address: u32,
    /// Sign-in attempts per minute at one handle, from anywhere (0: none).
    pub sign_in_per_handle: u32,
    /// Accounts per hour from one client address (0: none).
    pub sign_up_per_address: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self { sign_in_per_address: 10, sign_in_per_handle: 5, sign_up_per_address: 10 }
    }
}

type Keyed<K> = DefaultKeyedRateLimiter<K>;

/// The rate limiters of one server.
#[derive(Debug)]
pub struct AuthLimiter {
    sign_in_by_address: Option<Keyed<Option<IpAddr>>>,
    sign_in_by_handle: Option<Keyed<String>>,
    sign_up_by_address: Option<Keyed<Option<IpAddr>>>,
}

fn keyed<K: std::hash::Hash + Eq + Clone>(per_period: u32, period: Quota) -> Option<Keyed<K>> {
    NonZeroU32::new(per_period).map(|_| RateLimiter::keyed(period))
}

/// The key of a client address: IPv4 as it is (also when mapped into IPv6), IPv6 by its /64.
pub(crate) fn address_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

fn check<K: std::hash::Hash + Eq + Clone>(limiter: Option<&Keyed<K>>, key: &K, what: &'static str) -> Result<()> {
    let Some(limiter) = limiter else {
        return Ok(());
    };
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        Error::RateLimited { what, retry_after: wait.as_secs() + u64::from(wait.subsec_nanos() > 0) }
    })
}

impl AuthLimiter {
    /// Limiters for these limits.
    pub fn new(limits: RateLimits) -> Self {
        let per_minute = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).expect("at least 1"));
        let per_hour = |n: u32| Quota::per_hour(NonZeroU32::new(n.max(1)).expect("at least 1"));
        Self {
            sign_in_by_address: keyed(limits.sign_in_per_address, per_minute(limits.sign_in_per_address)),
            sign_in_by_handle: keyed(limits.sign_in_per_handle, per_minute(limits.sign_in_per_handle)),
            sign_up_by_address: keyed(limits.sign_up_per_address, per_hour(limits.sign_up_per_address)),
        }
    }

    /// Counts a sign-in attempt from `client`; `RATE_LIMITED` when over the limit.
    pub fn sign_in_from(&self, client: Option<IpAddr>) -> Result<()> {
        check(self.sign_in_by_address.as_ref(), &client.map(address_key), "sign-in attempts from your address")
    }

    /// Counts a sign-in attempt at `handle` (a valid handle, so at most 32 bytes a key).
    pub fn sign_in_at(&self, handle: &str) -> Result<()> {
        check(self.sign_in_by_handle.as_ref(), &handle.to_owned(), "sign-in attempts at this handle")
    }

    /// Counts an account created from `client`.
    pub fn sign_up_from(&self, client: Option<IpAddr>) -> Result<()> {
        check(self.sign_up_by_address.as_ref(), &client.map(address_key), "new accounts from your address")
    }

    /// Forgets the clients whose buckets have filled up again.
    pub fn forget_idle(&self) {
        for by_address in [&self.sign_in_by_address, &self.sign_up_by_address].into_iter().flatten() {
            by_address.retain_recent();
            by_address.shrink_to_fit();
        }
        if let Some(by_handle) = &self.sign_in_by_handle {
            by_handle.retain_recent();
            by_handle.shrink_to_fit();
        }
    }

    /// Limiters for these limits, forgetting idle clients every minute for as long as they live.
    pub fn start(limits: RateLimits) -> Arc<Self> {
        let limiter = Arc::new(Self::new(limits));
        let weak: Weak<Self> = Arc::downgrade(&limiter);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let mut every = tokio::time::interval(Duration::from_secs(60));
                every.tick().await;
                loop {
                    every.tick().await;
                    match weak.upgrade() {
                        Some(limiter) => limiter.forget_idle(),
                        None => break,
                    }
                }
            });
        }
        limiter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_count_by_their_64_bit_prefix_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn the_attempt_after_the_burst_is_refused_with_a_wait() {
        let limiter =
            AuthLimiter::new(RateLimits { sign_in_per_address: 3, sign_in_per_handle: 0, sign_up_per_address: 0 });
        let client = Some("192.0.2.1".parse().unwrap());
        for _ in 0..3 {
            limiter.sign_in_from(client).unwrap();
        }
        match limiter.sign_in_from(client) {
            Err(Error::RateLimited { retry_after, .. }) => assert!((1..=20).contains(&retry_after), "{retry_after}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        limiter.sign_in_from(Some("192.0.2.2".parse().unwrap())).unwrap();
        for _ in 0..100 {
            limiter.sign_in_at("alice").unwrap();
            limiter.sign_up_from(client).unwrap();
        }
    }
}
