//! A fixed-size log-linear latency histogram (HDR style: 32 sub-buckets per power of two, so
//! every recorded value is known to within ~3%). Recording is an index computation and an add.

const SUB: u32 = 32;
const BUCKETS: usize = 64 * SUB as usize;

pub struct Histogram {
    counts: Box<[u64; BUCKETS]>,
    total: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: Box::new([0; BUCKETS]),
            total: 0,
            max: 0,
        }
    }
}

fn index(v: u64) -> usize {
    if v < 2 * SUB as u64 {
        return v as usize;
    }
    let msb = 63 - v.leading_zeros();
    let shift = msb - 5;
    ((shift + 1) * SUB) as usize + ((v >> shift) - SUB as u64) as usize
}

/// The largest value that lands in bucket `i`.
fn upper(i: usize) -> u64 {
    if i < 2 * SUB as usize {
        return i as u64;
    }
    let shift = (i / SUB as usize - 1) as u32;
    let mant = (i % SUB as usize) as u64 + SUB as u64;
    ((((mant + 1) as u128) << shift) - 1).min(u64::MAX as u128) as u64
}

impl Histogram {
    pub fn record(&mut self, nanos: u64) {
        self.counts[index(nanos)] += 1;
        self.total += 1;
        self.max = self.max.max(nanos);
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += b;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    /// The value at quantile `q` (0..=1), in nanoseconds (upper edge of its bucket).
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return upper(i).min(self.max);
            }
        }
        self.max
    }
}

/// Checks run by `load --self-test` (a harness-less bench has no `#[test]`).
pub mod self_test {
    use super::*;

    pub fn buckets_are_contiguous_and_tight() {
        let mut prev = None;
        for v in 0..100_000u64 {
            let i = index(v);
            assert!(upper(i) >= v, "v {v}");
            if let Some(p) = prev {
                assert!(i == p || i == p + 1, "v {v}");
            }
            prev = Some(i);
            if v > 64 {
                assert!((upper(i) - v) as f64 / v as f64 <= 1.0 / 32.0);
            }
        }
        for v in [1u64 << 40, u64::MAX / 2, u64::MAX] {
            assert!(index(v) < BUCKETS);
            assert!(upper(index(v)) >= v);
        }
    }

    pub fn quantiles() {
        let mut h = Histogram::default();
        for v in 1..=1000 {
            h.record(v * 1000);
        }
        let p50 = h.quantile(0.5);
        assert!((500_000..=516_000).contains(&p50), "{p50}");
        assert_eq!(h.quantile(1.0), 1_000_000);
    }
}
