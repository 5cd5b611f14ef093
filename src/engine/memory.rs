//! The memory budget: a DataFusion memory pool that enforces `--memory-limit` and records the
//! peak of what was reserved, so that each stage can report its own peak.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use datafusion::common::Result;
use datafusion::execution::memory_pool::{
    GreedyMemoryPool, MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation,
    TrackConsumersPool,
};

/// The default memory limit as a share of physical memory.
pub const DEFAULT_SHARE_OF_RAM: f64 = 0.5;

/// A pool enforcing a byte limit (greedy, first come first served) that remembers the highest
/// total it ever reserved since the last [`PeakMemoryPool::reset_peak`].
#[derive(Debug)]
pub struct PeakMemoryPool {
    inner: TrackConsumersPool<GreedyMemoryPool>,
    limit: usize,
    peak: AtomicUsize,
}

impl PeakMemoryPool {
    /// A pool of `limit` bytes.
    pub fn new(limit: usize) -> Self {
        let top_consumers = std::num::NonZeroUsize::new(3).expect("3 is not zero");
        Self {
            inner: TrackConsumersPool::new(GreedyMemoryPool::new(limit), top_consumers),
            limit,
            peak: AtomicUsize::new(0),
        }
    }

    /// The limit in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The highest reservation total since the last reset.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Starts a new measuring window: the peak becomes what is reserved now.
    pub fn reset_peak(&self) {
        self.peak.store(self.inner.reserved(), Ordering::Relaxed);
    }

    fn note(&self) {
        self.peak
            .fetch_max(self.inner.reserved(), Ordering::Relaxed);
    }
}

impl fmt::Display for PeakMemoryPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (peak {})", self.inner, self.peak())
    }
}

impl MemoryPool for PeakMemoryPool {
    fn name(&self) -> &str {
        "prepcost"
    }
    fn register(&self, consumer: &MemoryConsumer) {
        self.inner.register(consumer)
    }
    fn unregister(&self, consumer: &MemoryConsumer) {
        self.inner.unregister(consumer)
    }
    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        self.inner.grow(reservation, additional);
        self.note();
    }
    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        self.inner.shrink(reservation, shrink)
    }
    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> Result<()> {
        self.inner.try_grow(reservation, additional)?;
        self.note();
        Ok(())
    }
    fn reserved(&self) -> usize {
        self.inner.reserved()
    }
    fn memory_limit(&self) -> MemoryLimit {
        MemoryLimit::Finite(self.limit)
    }
}

/// A pool behind an `Arc`, as the runtime wants it, and the concrete handle for peaks.
pub fn new_pool(limit: usize) -> (Arc<PeakMemoryPool>, Arc<dyn MemoryPool>) {
    let pool = Arc::new(PeakMemoryPool::new(limit));
    let shared: Arc<dyn MemoryPool> = Arc::clone(&pool) as Arc<dyn MemoryPool>;
    (pool, shared)
}

/// The default memory limit: [`DEFAULT_SHARE_OF_RAM`] of physical memory.
pub fn default_limit() -> u64 {
    (crate::util::resources::physical_memory() as f64 * DEFAULT_SHARE_OF_RAM) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_enforces_the_limit_and_remembers_the_peak() {
        let (pool, shared) = new_pool(1000);
        let a = MemoryConsumer::new("a").register(&shared);
        a.try_grow(600).unwrap();
        a.shrink(500);
        assert_eq!(pool.peak(), 600);
        let b = MemoryConsumer::new("b").register(&shared);
        assert!(b.try_grow(950).is_err());
        b.try_grow(800).unwrap();
        assert_eq!(pool.peak(), 900);
        pool.reset_peak();
        assert_eq!(pool.peak(), 900);
        drop(b);
        pool.reset_peak();
        assert_eq!(pool.peak(), 100);
    }
}
