//! The step loops compiled for the widest vectors this CPU has. A loop over a batch's trials
//! (`K` lanes, trials innermost) is written once as an `#[inline(always)]` body; [`widest`]
//! makes the public method that runs it compiled for AVX-512F, AVX2 or the default target
//! (SSE2), chosen at run time. No fused multiply-add is enabled, so every CPU computes the same
//! bits.

/// `widest!(#[doc] pub fn name / body, name_avx2, name_avx512 <K>(&self, args…));` defines
/// `name`, which runs `self.body::<K>(args…)` compiled for the widest vectors available.
macro_rules! widest {
    ($(#[$meta:meta])* $vis:vis fn $name:ident / $body:ident, $avx2:ident, $avx512:ident
        <const K: usize>(&self $(, $arg:ident: $ty:ty)* $(,)?)) => {
        $(#[$meta])*
        $vis fn $name<const K: usize>(&self $(, $arg: $ty)*) {
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has AVX-512F (checked).
                    return unsafe { self.$avx512::<K>($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2 (checked).
                    return unsafe { self.$avx2::<K>($($arg),*) };
                }
            }
            self.$body::<K>($($arg),*)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        unsafe fn $avx2<const K: usize>(&self $(, $arg: $ty)*) {
            self.$body::<K>($($arg),*)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f")]
        unsafe fn $avx512<const K: usize>(&self $(, $arg: $ty)*) {
            self.$body::<K>($($arg),*)
        }
    };
}

pub(crate) use widest;

/// The `K` lanes of slot `i` of `x` (`x[i·K .. (i + 1)·K]`) as an array: one bounds check for
/// the lot, so the loops over lanes that read it vectorise.
#[inline(always)]
pub(crate) fn lanes<const K: usize>(x: &[f64], i: usize) -> [f64; K] {
    x[i * K..(i + 1) * K].try_into().expect("K lanes")
}

/// [`lanes`] for writing.
#[inline(always)]
pub(crate) fn lanes_mut<const K: usize>(x: &mut [f64], i: usize) -> &mut [f64; K] {
    (&mut x[i * K..(i + 1) * K]).try_into().expect("K lanes")
}
