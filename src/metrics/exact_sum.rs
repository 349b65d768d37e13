//! Order-independent sums for the metric aggregation ([`super::aggregate`]).

/// A sum that does not depend on the order of its terms, so that a metric is the same to the
/// last bit however the rows were ordered (an appended warehouse, a partitioned run): each
/// term is added as an integer count of 2^-60 (bits below that are dropped, the same way for
/// every order), and the integer total is rounded to a float once. Terms of magnitude 2^40 or
/// more, infinities and NaN are summed as floats beside it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExactSum {
    fixed: i128,
    rest: f64,
}

impl ExactSum {
    const FRACTION_BITS: i32 = 60;

    pub fn add(&mut self, v: f64) {
        let bits = v.to_bits();
        let exponent = ((bits >> 52) & 0x7ff) as i32;
        if exponent == 0 {
            // Zero, or below 2^-1022: under the resolution.
            return;
        }
        // v = ±mantissa × 2^(exponent - 1075), the mantissa with its implicit bit.
        let shift = exponent - 1075 + Self::FRACTION_BITS;
        // From 2^40 on (a duration of 35,000 years in seconds), as a float.
        if exponent == 0x7ff || shift >= 40 - 52 + Self::FRACTION_BITS {
            self.rest += v;
            return;
        }
        let mantissa = i128::from((bits & ((1u64 << 52) - 1)) | (1u64 << 52));
        let magnitude = if shift >= 0 {
            mantissa << shift
        } else if shift > -53 {
            mantissa >> -shift
        } else {
            0
        };
        let signed = if bits >> 63 == 1 {
            -magnitude
        } else {
            magnitude
        };
        match self.fixed.checked_add(signed) {
            Some(fixed) => self.fixed = fixed,
            // Past 2^67 in total (2^27 terms near 2^40): as a float.
            None => self.rest += v,
        }
    }

    /// Adds the terms of another sum (a partition's): the total is the one of adding its
    /// terms here, except past 2^67, where the float parts take the overflow.
    pub fn merge(&mut self, other: ExactSum) {
        match self.fixed.checked_add(other.fixed) {
            Some(fixed) => self.fixed = fixed,
            None => self.rest += other.fixed as f64 / (1u64 << Self::FRACTION_BITS) as f64,
        }
        self.rest += other.rest;
    }

    /// The integer part (split into its high and low 64 bits) and the float part, to keep a
    /// partial sum in a frame.
    pub fn parts(self) -> (i64, u64, f64) {
        ((self.fixed >> 64) as i64, self.fixed as u64, self.rest)
    }

    pub fn from_parts(high: i64, low: u64, rest: f64) -> ExactSum {
        ExactSum {
            fixed: (i128::from(high) << 64) | i128::from(low),
            rest,
        }
    }

    pub fn value(self) -> f64 {
        self.fixed as f64 / (1u64 << Self::FRACTION_BITS) as f64 + self.rest
    }
}

#[cfg(test)]
mod tests {
    use super::ExactSum;

    fn sum(values: impl IntoIterator<Item = f64>) -> f64 {
        let mut s = ExactSum::default();
        for v in values {
            s.add(v);
        }
        s.value()
    }

    #[test]
    fn the_sum_is_the_same_in_every_order() {
        let values: Vec<f64> = (0..10_000)
            .map(|i| f64::from(i) * 0.137 + 1.0 / f64::from(i + 3) - 17.25)
            .collect();
        let forward = sum(values.iter().copied());
        let backward = sum(values.iter().rev().copied());
        let mut shuffled = values.clone();
        shuffled.sort_by_key(|v| v.to_bits() % 97);
        assert_eq!(forward.to_bits(), backward.to_bits());
        assert_eq!(forward.to_bits(), sum(shuffled).to_bits());
        // A float sum in two orders differs in the last bits; this one equals the exact value.
        let naive: f64 = values.iter().sum();
        assert!((forward - naive).abs() < 1e-6);
        assert_eq!(sum([0.1, 0.2, 0.3]), 0.6);
        assert!((sum([741.903, -741.903, 1e-3]) - 0.001).abs() < 1e-17);
        assert_eq!(sum([]), 0.0);
        assert_eq!(sum([-2.5, 1.0]), -1.5);
        assert!(sum([f64::NAN, 1.0]).is_nan());
        assert_eq!(sum([1e15, 1.0]), 1e15 + 1.0);
    }

    #[test]
    fn merged_parts_equal_one_sum() {
        let values: Vec<f64> = (0..5_000)
            .map(|i| f64::from(i) * -0.731 + 1.0 / f64::from(i + 7) + 3.5)
            .collect();
        let whole = sum(values.iter().copied());
        let mut merged = ExactSum::default();
        for chunk in values.chunks(333).rev() {
            let mut part = ExactSum::default();
            for &v in chunk {
                part.add(v);
            }
            let (high, low, rest) = part.parts();
            merged.merge(ExactSum::from_parts(high, low, rest));
        }
        assert_eq!(merged.value().to_bits(), whole.to_bits());
        // Negative totals survive the split into high and low bits.
        let mut negative = ExactSum::default();
        negative.add(-12.75);
        let (high, low, rest) = negative.parts();
        assert_eq!(ExactSum::from_parts(high, low, rest).value(), -12.75);
    }
}
