//! A fixed-window limiter for sign-in attempts per client address, held in memory (each
//! process limits its own share; account lockout, stored in the database, is the shared
//! backstop).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Attempts per key per window.
#[derive(Debug)]
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    buckets: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// `limit` attempts per `window` for each key.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Count an attempt; `Err(wait)` when over the limit.
    pub fn hit(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() > 100_000 {
            buckets.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = buckets.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 > self.limit {
            Err(self.window.saturating_sub(now.duration_since(entry.0)))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_the_limit_per_key() {
        let rl = RateLimiter::new(2, Duration::from_secs(60));
        assert!(rl.hit("a").is_ok());
        assert!(rl.hit("a").is_ok());
        assert!(rl.hit("a").is_err());
        assert!(rl.hit("b").is_ok());
    }
}
