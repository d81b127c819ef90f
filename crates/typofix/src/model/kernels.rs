//! Hand-written CPU kernels for the training hot paths, where candle's
//! generic ops are slow: candle differentiates a composed LayerNorm op by
//! op (about ten element-wise ops and strided reductions per call).
//!
//! Rows are processed in fixed blocks, and per-block partial sums are added
//! in block order, so results do not depend on the number of threads: a
//! resumed training run stays bit-identical.

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

const BLOCK_ROWS: usize = 64;

/// LayerNorm over the last dimension, with a backward pass.
pub struct LayerNormOp {
    pub eps: f32,
}

/// A contiguous f32 slice of a CPU storage.
fn slice<'a>(storage: &'a CpuStorage, layout: &Layout) -> Result<&'a [f32]> {
    let data = storage.as_slice::<f32>()?;
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle_core::bail!("layer-norm kernel: the input is not contiguous"),
    }
}

/// Mean and 1/std of a row.
fn moments(row: &[f32], eps: f32) -> (f32, f32) {
    let n = row.len() as f32;
    let mean = row.iter().sum::<f32>() / n;
    let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    (mean, 1.0 / (var + eps).sqrt())
}

impl CustomOp3 for LayerNormOp {
    fn name(&self) -> &'static str {
        "typofix-layer-norm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, w, b) = (slice(s1, l1)?, slice(s2, l2)?, slice(s3, l3)?);
        let d = w.len();
        let mut y = vec![0f32; x.len()];
        y.par_chunks_mut(BLOCK_ROWS * d)
            .zip(x.par_chunks(BLOCK_ROWS * d))
            .for_each(|(yb, xb)| {
                for (yr, xr) in yb.chunks_mut(d).zip(xb.chunks(d)) {
                    let (mean, rstd) = moments(xr, self.eps);
                    for i in 0..d {
                        yr[i] = (xr[i] - mean) * rstd * w[i] + b[i];
                    }
                }
            });
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _b: &Tensor,
        _y: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let d = w.dim(0)?;
        let xs = x.flatten_all()?.to_vec1::<f32>()?;
        let ws = w.to_vec1::<f32>()?;
        let dys = dy.flatten_all()?.to_vec1::<f32>()?;
        let mut dx = vec![0f32; xs.len()];
        // Per block: the block's contributions to dw and db.
        let partials: Vec<(Vec<f32>, Vec<f32>)> = dx
            .par_chunks_mut(BLOCK_ROWS * d)
            .zip(
                xs.par_chunks(BLOCK_ROWS * d)
                    .zip(dys.par_chunks(BLOCK_ROWS * d)),
            )
            .map(|(dxb, (xb, dyb))| {
                let (mut dw, mut db) = (vec![0f32; d], vec![0f32; d]);
                let mut xhat = vec![0f32; d];
                for ((dxr, xr), dyr) in dxb.chunks_mut(d).zip(xb.chunks(d)).zip(dyb.chunks(d)) {
                    let (mean, rstd) = moments(xr, self.eps);
                    let (mut sum_g, mut sum_gx) = (0f32, 0f32);
                    for i in 0..d {
                        xhat[i] = (xr[i] - mean) * rstd;
                        let g = dyr[i] * ws[i];
                        sum_g += g;
                        sum_gx += g * xhat[i];
                        dw[i] += dyr[i] * xhat[i];
                        db[i] += dyr[i];
                    }
                    let (mean_g, mean_gx) = (sum_g / d as f32, sum_gx / d as f32);
                    for i in 0..d {
                        dxr[i] = rstd * (dyr[i] * ws[i] - mean_g - xhat[i] * mean_gx);
                    }
                }
                (dw, db)
            })
            .collect();
        let (mut dw, mut db) = (vec![0f32; d], vec![0f32; d]);
        for (pw, pb) in partials {
            dw.iter_mut().zip(pw).for_each(|(a, b)| *a += b);
            db.iter_mut().zip(pb).for_each(|(a, b)| *a += b);
        }
        let device = x.device();
        Ok((
            Some(Tensor::from_vec(dx, x.shape(), device)?),
            Some(Tensor::from_vec(dw, d, device)?),
            Some(Tensor::from_vec(db, d, device)?),
        ))
    }
}

/// Exact (erf) GELU for inference on the CPU. candle's `gelu_erf` calls
/// libm's scalar `erf`, which took an eighth of the corrector's time; this
/// evaluates erf as a rational polynomial (the one Eigen and XLA use for
/// f32, accurate to a few ulp) that the compiler vectorises.
pub struct GeluOp;

/// erf(x) for f32, |error| < 1e-6.
fn erf(x: f32) -> f32 {
    const ALPHA: [f32; 7] = [
        -2.726_142_3e-10,
        2.770_681_4e-8,
        -2.101_024e-6,
        -5.692_506_4e-5,
        -7.349_906_3e-4,
        -2.954_6e-3,
        -1.609_603_3e-2,
    ];
    const BETA: [f32; 5] = [
        -1.456_607_2e-5,
        -2.133_740_6e-4,
        -1.682_827e-3,
        -7.373_329e-3,
        -1.426_474e-2,
    ];
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = ALPHA[0];
    for a in &ALPHA[1..] {
        p = p * x2 + a;
    }
    let mut q = BETA[0];
    for b in &BETA[1..] {
        q = q * x2 + b;
    }
    x * p / q
}

pub(crate) fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

impl candle_core::CustomOp1 for GeluOp {
    fn name(&self) -> &'static str {
        "typofix-gelu"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = slice(storage, layout)?;
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(1 << 14)
            .zip(x.par_chunks(1 << 14))
            .for_each(|(o, x)| o.iter_mut().zip(x).for_each(|(o, &v)| *o = gelu(v)));
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var, D};

    fn composite(x: &Tensor, w: &Tensor, b: &Tensor, eps: f64) -> Result<Tensor> {
        let mean = x.mean_keepdim(D::Minus1)?;
        let c = x.broadcast_sub(&mean)?;
        let var = c.sqr()?.mean_keepdim(D::Minus1)?;
        c.broadcast_div(&(var + eps)?.sqrt()?)?
            .broadcast_mul(w)?
            .broadcast_add(b)
    }

    #[test]
    fn the_fused_layer_norm_matches_the_composed_one_forward_and_backward() {
        let dev = Device::Cpu;
        let x = Var::from_tensor(
            &(Tensor::randn(0f32, 2.0, (3, 70, 48), &dev).unwrap() + 0.5).unwrap(),
        )
        .unwrap();
        let w = Var::from_tensor(&Tensor::randn(1f32, 0.2, 48, &dev).unwrap()).unwrap();
        let b = Var::from_tensor(&Tensor::randn(0f32, 0.2, 48, &dev).unwrap()).unwrap();
        let probe = Tensor::randn(0f32, 1.0, (3, 70, 48), &dev).unwrap();

        let fused = x.apply_op3(&w, &b, LayerNormOp { eps: 1e-12 }).unwrap();
        let reference = composite(&x, &w, &b, 1e-12).unwrap();
        let diff = |a: &Tensor, b: &Tensor| -> f32 {
            (a - b)
                .unwrap()
                .abs()
                .unwrap()
                .flatten_all()
                .unwrap()
                .max(0)
                .unwrap()
                .to_scalar()
                .unwrap()
        };
        assert!(diff(&fused, &reference) < 1e-5);

        let g1 = (fused * &probe)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let g2 = (reference * &probe)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        for v in [&x, &w, &b] {
            let (a, r) = (g1.get(v).unwrap(), g2.get(v).unwrap());
            assert!(diff(a, r) < 1e-3, "{}", diff(a, r));
        }
    }

    #[test]
    fn fast_gelu_matches_the_erf_definition() {
        let dev = candle_core::Device::Cpu;
        let x = Tensor::arange(-800i64, 800, &dev)
            .unwrap()
            .to_dtype(candle_core::DType::F32)
            .unwrap()
            .affine(0.01, 0.0)
            .unwrap();
        let fast = x.apply_op1(GeluOp).unwrap();
        let exact = x.gelu_erf().unwrap();
        let diff = (fast - exact)
            .unwrap()
            .abs()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(diff < 1e-6, "max difference {diff}");
    }
}
