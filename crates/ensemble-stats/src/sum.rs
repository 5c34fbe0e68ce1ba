//! Compensated summation, so that means of a million scores do not drift.

/// Neumaier's improved Kahan summation.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Sum {
    sum: f64,
    compensation: f64,
}

impl Sum {
    pub(crate) fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    pub(crate) fn value(self) -> f64 {
        self.sum + self.compensation
    }
}

pub(crate) fn mean(values: &[f64]) -> f64 {
    let mut s = Sum::default();
    for &v in values {
        s.add(v);
    }
    s.value() / values.len() as f64
}

/// Sample variance (n - 1 denominator) about a known mean, by the two-pass method.
pub(crate) fn variance(values: &[f64], mean: f64) -> f64 {
    let mut s = Sum::default();
    for &v in values {
        let d = v - mean;
        s.add(d * d);
    }
    s.value() / (values.len() as f64 - 1.0)
}
