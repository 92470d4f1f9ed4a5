//! Trials as NumPy `.npz` archives (`numpy.load` reads them; `numpy.savez` files load here).
//!
//! | array | dtype | shape | meaning |
//! |---|---|---|---|
//! | `x` | bool | `[synapses, T_ms]` | input raster: a spike at site s in bin t |
//! | `syn_branch` | int64 | `[synapses]` | −1 = soma, else the dendrite index in the cell's order |
//! | `syn_pos` | float64 | `[synapses]` | position along that section, in [0, 1] |
//! | `syn_type` | int64 | `[synapses]` | 1 = excitatory, 0 = inhibitory |
//! | `syn_sec_kind` | int64 | `[synapses]` | the section by NEURON name: 0 soma, 1 dend, 2 apic, 3 axon (optional) |
//! | `syn_sec_index` | int64 | `[synapses]` | `i` of `dend[i]`, `apic[i]`, `axon[i]` (0 for the soma) (optional) |
//! | `syn_x` | float64 | `[synapses]` | position along that section, in [0, 1] (with the two above) |
//! | `v_soma_1ms` | float64 | `[T_ms]` | somatic voltage at t = 0, 1, 2, … ms (mV) |
//! | `spike_times_ms` | float64 | `[spikes]` | somatic spike times (ms) |
//! | `y_spike` | int8 | `[T_ms]` | 1 in every 1 ms bin holding a spike |
//! | `v_sites_1ms` | float64 | `[sites, T_ms]` | voltage at recorded sites (optional) |
//! | `site_branch`, `site_pos` | int64, float64 | `[sites]` | where those sites are (optional) |
//! | `meta_json` | uint8 | `[bytes]` | UTF-8 JSON: what made the trial (optional) |
//!
//! A file may place its rows by section name alone (`syn_sec_kind`, `syn_sec_index`, `syn_x`,
//! no `syn_branch`/`syn_pos`), as a trial written by NEURON would: [`Trial::load_for`] maps
//! each row onto a cell's sections, in whatever row order the file has.
//!
//! Reading accepts any integer or float width NumPy writes, and Fortran order. Writing goes to a
//! temporary file beside the target, then a rename: an interrupted save never leaves half a file.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use npyz::{TypeChar, WriterBuilder};

use crate::cell::CellConfig;
use crate::error::{BiophysError, Result};
use crate::simulate::Output;
use crate::stimulus::Raster;
use crate::synapse::{Branch, SectionKind, SectionName, Site, SynapseType, Synapses};

/// One trial: where the synapses are, what they received, and (once simulated) what the cell did.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    /// Synaptic sites, one per raster row.
    pub synapses: Synapses,
    /// The input.
    pub raster: Raster,
    /// The cell's response, if simulated.
    pub output: Option<Output>,
    /// The sites of `output.v_sites_1ms`.
    pub sites: Vec<Site>,
    /// Each row's section by NEURON name (`syn_sec_kind`, `syn_sec_index`; its `syn_x` is
    /// `synapses.pos`), when the cell's sections have such names.
    pub placement: Option<Vec<SectionName>>,
    /// What made the trial (cell, seed, numerics), as JSON; `Null` if unknown.
    pub meta: serde_json::Value,
}

enum Values {
    F64(Vec<f64>),
    I64(Vec<i64>),
    Bool(Vec<bool>),
}

struct Array {
    shape: Vec<usize>,
    values: Values,
}

fn format_err(path: &Path, message: String) -> BiophysError {
    BiophysError::Format {
        path: path.into(),
        message,
    }
}

fn read_entry<R: Read>(reader: R, bytes: u64, path: &Path, name: &str) -> Result<Array> {
    let bad = |m: String| format_err(path, format!("array `{name}`: {m}"));
    let npy = npyz::NpyFile::new(reader).map_err(|e| bad(format!("not a .npy array ({e})")))?;
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    // A corrupt header must not make us allocate what the entry cannot hold.
    let elements = npy.shape().iter().try_fold(1u64, |n, &d| n.checked_mul(d));
    if elements.is_none_or(|n| n > bytes) {
        return Err(bad(format!(
            "its header claims shape {:?}, more than the {bytes} bytes stored",
            npy.shape()
        )));
    }
    let fortran = npy.order() == npyz::Order::Fortran;
    let dtype = npy.dtype();
    let npyz::DType::Plain(ts) = &dtype else {
        return Err(bad("structured arrays are not supported".into()));
    };
    let io = |e: std::io::Error| bad(e.to_string());
    let (kind, size) = (ts.type_char(), ts.size_field());
    let values = match (kind, size) {
        (TypeChar::Bool, _) => Values::Bool(npy.into_vec::<bool>().map_err(io)?),
        (TypeChar::Float, 8) => Values::F64(npy.into_vec::<f64>().map_err(io)?),
        (TypeChar::Float, 4) => Values::F64(npy.into_vec::<f32>().map_err(io)?.into_iter().map(f64::from).collect()),
        (TypeChar::Int, 8) => Values::I64(npy.into_vec::<i64>().map_err(io)?),
        (TypeChar::Int, 4) => Values::I64(npy.into_vec::<i32>().map_err(io)?.into_iter().map(i64::from).collect()),
        (TypeChar::Int, 2) => Values::I64(npy.into_vec::<i16>().map_err(io)?.into_iter().map(i64::from).collect()),
        (TypeChar::Int, 1) => Values::I64(npy.into_vec::<i8>().map_err(io)?.into_iter().map(i64::from).collect()),
        (TypeChar::Uint, 1) => Values::I64(npy.into_vec::<u8>().map_err(io)?.into_iter().map(i64::from).collect()),
        (TypeChar::Uint, 2) => Values::I64(npy.into_vec::<u16>().map_err(io)?.into_iter().map(i64::from).collect()),
        (TypeChar::Uint, 4) => Values::I64(npy.into_vec::<u32>().map_err(io)?.into_iter().map(i64::from).collect()),
        _ => return Err(bad(format!("unsupported dtype {ts}"))),
    };
    let values = if fortran && shape.len() == 2 {
        let (r, c) = (shape[0], shape[1]);
        let t = |i: usize| (i % c) * r + i / c;
        match values {
            Values::F64(v) => Values::F64((0..v.len()).map(|i| v[t(i)]).collect()),
            Values::I64(v) => Values::I64((0..v.len()).map(|i| v[t(i)]).collect()),
            Values::Bool(v) => Values::Bool((0..v.len()).map(|i| v[t(i)]).collect()),
        }
    } else if fortran && shape.len() > 2 {
        return Err(bad(
            "Fortran-ordered arrays of more than 2 dimensions are not supported".into(),
        ));
    } else {
        values
    };
    Ok(Array { shape, values })
}

struct Reader {
    zip: zip::ZipArchive<std::io::BufReader<File>>,
    path: PathBuf,
}

impl Reader {
    fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|source| BiophysError::Io {
            path: path.into(),
            source,
        })?;
        let zip = zip::ZipArchive::new(std::io::BufReader::new(file))
            .map_err(|e| format_err(path, format!("not an .npz (zip) archive: {e}")))?;
        Ok(Self { zip, path: path.into() })
    }

    fn get(&mut self, name: &str) -> Result<Option<Array>> {
        let entry = match self.zip.by_name(&format!("{name}.npy")) {
            Ok(e) => e,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(e) => return Err(format_err(&self.path, format!("array `{name}`: {e}"))),
        };
        let bytes = entry.size();
        read_entry(entry, bytes, &self.path, name).map(Some)
    }

    fn require(&mut self, name: &str) -> Result<Array> {
        let mut names: Vec<String> = self
            .zip
            .file_names()
            .map(|s| s.trim_end_matches(".npy").to_string())
            .collect();
        names.sort();
        self.get(name)?.ok_or_else(|| {
            format_err(
                &self.path,
                format!("no array `{name}` (the file has: {})", names.join(", ")),
            )
        })
    }

    fn f64s(&self, a: Array, name: &str) -> Result<Vec<f64>> {
        match a.values {
            Values::F64(v) => Ok(v),
            Values::I64(v) => Ok(v.into_iter().map(|x| x as f64).collect()),
            Values::Bool(_) => Err(format_err(
                &self.path,
                format!("array `{name}` is bool, expected numbers"),
            )),
        }
    }

    fn i64s(&self, a: Array, name: &str) -> Result<Vec<i64>> {
        match a.values {
            Values::I64(v) => Ok(v),
            Values::Bool(v) => Ok(v.into_iter().map(i64::from).collect()),
            Values::F64(_) => Err(format_err(
                &self.path,
                format!("array `{name}` holds floats, expected integers"),
            )),
        }
    }
}

/// The branch codes of array `name` as branches (−1 the soma, `i ≥ 0` dendrite `i`).
fn branches(codes: Vec<i64>, name: &str) -> std::result::Result<Vec<Branch>, String> {
    codes
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            Branch::from_code(c)
                .ok_or_else(|| format!("{name}[{i}] = {c}; branches are −1 (the soma) or a dendrite index ≥ 0"))
        })
        .collect()
}

impl Trial {
    /// Reads a trial written by [`Trial::save`] (or by NumPy with the same array names). A file
    /// that places its rows by section name only needs the cell: [`Trial::load_for`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let t = Self::read(path)?;
        if t.synapses.branch.len() != t.raster.sites {
            return Err(format_err(
                path,
                "the file places its synapses by section name only (syn_sec_kind, syn_sec_index, syn_x; no \
                 syn_branch): read it with Trial::load_for and the cell it was made for"
                    .into(),
            ));
        }
        Ok(t)
    }

    /// Reads a trial for `cell`: rows that carry a placement by section name (`syn_sec_kind`,
    /// `syn_sec_index`, `syn_x`) are mapped onto `cell`'s sections of those names, whatever the
    /// row order (a row naming a section the cell lacks is an error); other files as
    /// [`Trial::load`], their sites checked against `cell`.
    pub fn load_for(path: impl AsRef<Path>, cell: &CellConfig) -> Result<Self> {
        let path = path.as_ref();
        let mut t = Self::read(path)?;
        if let Some(names) = &t.placement {
            t.synapses.branch = names
                .iter()
                .enumerate()
                .map(|(i, &name)| match cell.section_named(name) {
                    Some(0) => Ok(Branch::Soma),
                    Some(s) => Ok(Branch::Dendrite(s - 1)),
                    None => Err(format_err(
                        path,
                        format!("row {i} is on {name}, which cell {} does not have", cell.name),
                    )),
                })
                .collect::<Result<_>>()?;
        }
        t.synapses
            .validate_for(cell)
            .map_err(|e| format_err(path, e.to_string()))?;
        Ok(t)
    }

    /// The file's arrays; `synapses.branch` is empty when it places rows by name only.
    fn read(path: &Path) -> Result<Self> {
        let mut r = Reader::open(path)?;
        let bad = |m: String| format_err(path, m);
        let x = r.require("x")?;
        if x.shape.len() != 2 {
            return Err(bad(format!(
                "array `x` has shape {:?}, expected [synapses, T_ms]",
                x.shape
            )));
        }
        let (sites, ms) = (x.shape[0], x.shape[1]);
        let bits = match x.values {
            Values::Bool(v) => v,
            Values::I64(v) => v.into_iter().map(|b| b != 0).collect(),
            Values::F64(_) => return Err(bad("array `x` holds floats, expected bool (a binary raster)".into())),
        };
        let placement = match (r.get("syn_sec_kind")?, r.get("syn_sec_index")?) {
            (Some(k), Some(i)) => {
                let (kinds, indices) = (r.i64s(k, "syn_sec_kind")?, r.i64s(i, "syn_sec_index")?);
                if kinds.len() != indices.len() {
                    return Err(bad(format!(
                        "array `syn_sec_kind` has {} entries but `syn_sec_index` has {}",
                        kinds.len(),
                        indices.len()
                    )));
                }
                let names = kinds
                    .into_iter()
                    .zip(indices)
                    .enumerate()
                    .map(|(row, (k, i))| {
                        let kind = SectionKind::from_code(k).ok_or_else(|| {
                            bad(format!(
                                "syn_sec_kind[{row}] = {k}; kinds are 0 (soma), 1 (dend), 2 (apic), 3 (axon)"
                            ))
                        })?;
                        let index = usize::try_from(i)
                            .ok()
                            .filter(|&i| kind != SectionKind::Soma || i == 0)
                            .ok_or_else(|| {
                                bad(format!(
                                    "syn_sec_index[{row}] = {i}; an index is ≥ 0, and 0 for the soma"
                                ))
                            })?;
                        Ok(SectionName { kind, index })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Some(names)
            }
            (None, None) => None,
            _ => {
                return Err(bad(
                    "the file has one of `syn_sec_kind` and `syn_sec_index` but not the other".into(),
                ));
            }
        };
        let (branch, pos) = match (&placement, r.get("syn_branch")?) {
            (Some(_), None) => {
                let a = r.require("syn_x")?;
                (Vec::new(), r.f64s(a, "syn_x")?)
            }
            (_, branch) => {
                let a = match branch {
                    Some(a) => a,
                    None => r.require("syn_branch")?,
                };
                let branch = branches(r.i64s(a, "syn_branch")?, "syn_branch").map_err(bad)?;
                // With a placement by name, its `syn_x` is the position that goes with it.
                let a = match (&placement, r.get("syn_x")?) {
                    (Some(_), Some(x)) => x,
                    _ => r.require("syn_pos")?,
                };
                let pos = r.f64s(a, "syn_pos")?;
                (branch, pos)
            }
        };
        let a = r.require("syn_type")?;
        let kind = r
            .i64s(a, "syn_type")?
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                SynapseType::from_code(c).ok_or_else(|| {
                    bad(format!(
                        "syn_type[{i}] = {c}; types are 1 (excitatory) and 0 (inhibitory)"
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        for (name, len) in [
            (
                "syn_branch",
                if placement.is_some() && branch.is_empty() {
                    sites
                } else {
                    branch.len()
                },
            ),
            ("syn_pos or syn_x", pos.len()),
            ("syn_type", kind.len()),
            ("syn_sec_kind", placement.as_ref().map_or(sites, Vec::len)),
        ] {
            if len != sites {
                return Err(bad(format!(
                    "array `{name}` has {len} entries but `x` has {sites} rows"
                )));
            }
        }
        let output = match r.get("v_soma_1ms")? {
            None => None,
            Some(v) => {
                let v_soma_1ms = r.f64s(v, "v_soma_1ms")?;
                let a = r.require("spike_times_ms")?;
                let spike_times_ms = r.f64s(a, "spike_times_ms")?;
                let a = r.require("y_spike")?;
                let y_spike: Vec<i8> = r.i64s(a, "y_spike")?.into_iter().map(|y| y as i8).collect();
                for (name, len) in [("v_soma_1ms", v_soma_1ms.len()), ("y_spike", y_spike.len())] {
                    if len != ms {
                        return Err(bad(format!("array `{name}` has {len} entries but `x` has {ms} bins")));
                    }
                }
                let v_sites_1ms = match r.get("v_sites_1ms")? {
                    None => Vec::new(),
                    Some(a) => {
                        let shape = a.shape.clone();
                        let flat = r.f64s(a, "v_sites_1ms")?;
                        if shape.len() != 2 || shape[1] != ms {
                            return Err(bad(format!(
                                "array `v_sites_1ms` has shape {shape:?}, expected [sites, {ms}]"
                            )));
                        }
                        flat.chunks(ms).map(<[f64]>::to_vec).collect()
                    }
                };
                Some(Output {
                    v_soma_1ms,
                    spike_times_ms,
                    y_spike,
                    v_sites_1ms,
                })
            }
        };
        let sites_list = match (r.get("site_branch")?, r.get("site_pos")?) {
            (Some(b), Some(p)) => {
                let b = branches(r.i64s(b, "site_branch")?, "site_branch").map_err(bad)?;
                let p = r.f64s(p, "site_pos")?;
                b.into_iter().zip(p).map(|(branch, pos)| Site { branch, pos }).collect()
            }
            _ => Vec::new(),
        };
        let meta = match r.get("meta_json")? {
            None => serde_json::Value::Null,
            Some(a) => {
                let bytes: Vec<u8> = r.i64s(a, "meta_json")?.into_iter().map(|b| b as u8).collect();
                serde_json::from_slice(&bytes).map_err(|e| bad(format!("array `meta_json` is not JSON: {e}")))?
            }
        };
        Ok(Self {
            synapses: Synapses { branch, pos, kind },
            raster: Raster { sites, ms, bits },
            output,
            sites: sites_list,
            placement,
            meta,
        })
    }

    /// Writes the trial as `.npz`, atomically (temporary file, then rename).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let name = path
            .file_name()
            .ok_or_else(|| format_err(path, "not a file path".into()))?;
        let tmp = path.with_file_name(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
        let io = |source: std::io::Error| BiophysError::Io {
            path: path.into(),
            source,
        };
        let result = (|| -> std::io::Result<()> {
            let file = File::create(&tmp)?;
            let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
            let (s, ms) = (self.raster.sites as u64, self.raster.ms as u64);
            put(&mut zip, "x", &[s, ms], self.raster.bits.iter().copied())?;
            put(
                &mut zip,
                "syn_branch",
                &[s],
                self.synapses.branch.iter().map(|b| b.code()),
            )?;
            put(&mut zip, "syn_pos", &[s], self.synapses.pos.iter().copied())?;
            put(&mut zip, "syn_type", &[s], self.synapses.kind.iter().map(|k| k.code()))?;
            if let Some(names) = &self.placement {
                put(&mut zip, "syn_sec_kind", &[s], names.iter().map(|n| n.kind.code()))?;
                put(&mut zip, "syn_sec_index", &[s], names.iter().map(|n| n.index as i64))?;
                put(&mut zip, "syn_x", &[s], self.synapses.pos.iter().copied())?;
            }
            if let Some(o) = &self.output {
                put(
                    &mut zip,
                    "v_soma_1ms",
                    &[o.v_soma_1ms.len() as u64],
                    o.v_soma_1ms.iter().copied(),
                )?;
                let k = o.spike_times_ms.len() as u64;
                put(&mut zip, "spike_times_ms", &[k], o.spike_times_ms.iter().copied())?;
                put(
                    &mut zip,
                    "y_spike",
                    &[o.y_spike.len() as u64],
                    o.y_spike.iter().copied(),
                )?;
                if !o.v_sites_1ms.is_empty() {
                    let r = o.v_sites_1ms.len() as u64;
                    put(
                        &mut zip,
                        "v_sites_1ms",
                        &[r, ms],
                        o.v_sites_1ms.iter().flatten().copied(),
                    )?;
                }
            }
            if !self.sites.is_empty() {
                let r = self.sites.len() as u64;
                put(
                    &mut zip,
                    "site_branch",
                    &[r],
                    self.sites.iter().map(|s| s.branch.code()),
                )?;
                put(&mut zip, "site_pos", &[r], self.sites.iter().map(|s| s.pos))?;
            }
            if !self.meta.is_null() {
                let bytes = serde_json::to_vec(&self.meta).map_err(std::io::Error::other)?;
                put(&mut zip, "meta_json", &[bytes.len() as u64], bytes.into_iter())?;
            }
            let mut file = zip.finish()?;
            file.flush()?;
            file.get_ref().sync_all()
        })();
        match result.and_then(|_| std::fs::rename(&tmp, path)) {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(io(e))
            }
        }
    }
}

fn put<W: Write + Seek, T: npyz::AutoSerialize + npyz::Serialize>(
    zip: &mut zip::ZipWriter<W>,
    name: &str,
    shape: &[u64],
    values: impl Iterator<Item = T>,
) -> std::io::Result<()> {
    let options = zip::write::FileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    zip.start_file(format!("{name}.npy"), options)?;
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(shape)
        .writer(&mut *zip)
        .begin_nd()?;
    w.extend(values)?;
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Trial {
        let mut raster = Raster::zeros(3, 5);
        raster.set(0, 1, true);
        raster.set(2, 4, true);
        Trial {
            synapses: Synapses {
                branch: vec![Branch::Soma, Branch::Dendrite(0), Branch::Dendrite(3)],
                pos: vec![0.5, 0.25, 1.0],
                kind: vec![
                    SynapseType::Inhibitory,
                    SynapseType::Excitatory,
                    SynapseType::Excitatory,
                ],
            },
            raster,
            output: Some(Output {
                v_soma_1ms: vec![-65.0, -64.5, -60.0, 10.0, -70.0],
                spike_times_ms: vec![2.6],
                y_spike: vec![0, 0, 1, 0, 0],
                v_sites_1ms: vec![vec![1.0, 2.0, 3.0, 4.0, 5.0]],
            }),
            sites: vec![Site {
                branch: Branch::Dendrite(2),
                pos: 0.5,
            }],
            placement: None,
            meta: serde_json::json!({"cell": "bs4", "seed": 3}),
        }
    }

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("biophys-npz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn a_trial_round_trips() {
        let path = temp("round.npz");
        let t = sample();
        t.save(&path).unwrap();
        assert_eq!(Trial::load(&path).unwrap(), t);
        // Without output, sites or meta.
        let bare = Trial {
            output: None,
            sites: vec![],
            meta: serde_json::Value::Null,
            ..sample()
        };
        bare.save(&path).unwrap();
        assert_eq!(Trial::load(&path).unwrap(), bare);
    }

    #[test]
    fn bad_files_name_the_problem() {
        let path = temp("bad.npz");
        std::fs::write(&path, b"not a zip").unwrap();
        let e = Trial::load(&path).unwrap_err().to_string();
        assert!(e.contains("not an .npz (zip) archive"), "{e}");
        let e = Trial::load(temp("missing.npz")).unwrap_err().to_string();
        assert!(e.contains("missing.npz"), "{e}");
        // A file without `syn_pos`.
        let file = File::create(&path).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        put(&mut zip, "x", &[1, 2], [true, false].into_iter()).unwrap();
        put(&mut zip, "syn_branch", &[1], [0i64].into_iter()).unwrap();
        zip.finish().unwrap();
        let e = Trial::load(&path).unwrap_err().to_string();
        assert!(e.contains("no array `syn_pos` (the file has: syn_branch, x)"), "{e}");
        // Lengths that disagree.
        let file = File::create(&path).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        put(&mut zip, "x", &[2, 2], [true, false, false, true].into_iter()).unwrap();
        put(&mut zip, "syn_branch", &[1], [0i64].into_iter()).unwrap();
        put(&mut zip, "syn_pos", &[2], [0.1f64, 0.2].into_iter()).unwrap();
        put(&mut zip, "syn_type", &[2], [1i32, 7].into_iter()).unwrap();
        zip.finish().unwrap();
        let e = Trial::load(&path).unwrap_err().to_string();
        assert!(e.contains("syn_type[1] = 7"), "{e}");
        // A branch code below the soma's −1.
        let file = File::create(&path).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        put(&mut zip, "x", &[2, 1], [true, false].into_iter()).unwrap();
        put(&mut zip, "syn_branch", &[2], [0i64, -3].into_iter()).unwrap();
        zip.finish().unwrap();
        let e = Trial::load(&path).unwrap_err().to_string();
        assert!(e.contains("syn_branch[1] = -3; branches are −1 (the soma)"), "{e}");
        // A truncated file.
        sample().save(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        assert!(Trial::load(&path).is_err());
    }

    /// Every mutation of a trial file (bytes dropped, changed, inserted, the file cut short)
    /// gives a trial or an error, never a panic or an allocation the file cannot back.
    #[test]
    fn no_mutated_or_truncated_file_panics() {
        use rand::{Rng, SeedableRng};
        let path = temp("mutated.npz");
        let mut t = sample();
        t.placement = Some(vec![
            SectionName::parse("soma").unwrap(),
            SectionName::parse("dend[0]").unwrap(),
            SectionName::parse("apic[3]").unwrap(),
        ]);
        t.save(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let (mut ok, mut errors) = (0, 0);
        for case in 0..3000 {
            let mut m: Vec<u8> = if case % 4 == 0 {
                bytes[..rng.random_range(0..bytes.len())].to_vec()
            } else {
                bytes.clone()
            };
            crate::mutation::mutate(&mut m, &mut rng, &[], 4);
            std::fs::write(&path, &m).unwrap();
            match Trial::load(&path) {
                Ok(_) => ok += 1,
                Err(e) => {
                    assert!(e.to_string().contains("mutated.npz"), "{e}");
                    errors += 1;
                }
            }
        }
        // Changed bytes in an array's data still make a trial (the zip's stored entries carry
        // checksums that catch most); headers and directories make errors.
        assert!(errors > 100, "{ok} read, {errors} errors");
    }

    /// A trial of NeuronIO's cell placed by section name only, as NEURON would write it: rows
    /// `(kind, index, x, type)`, one spike each at ms `row`.
    fn named_only(path: &Path, rows: &[(i64, i64, f64, i64)]) {
        let n = rows.len() as u64;
        let file = File::create(path).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        let bits = (0..rows.len()).flat_map(|r| (0..rows.len()).map(move |t| r == t));
        put(&mut zip, "x", &[n, n], bits).unwrap();
        put(&mut zip, "syn_sec_kind", &[n], rows.iter().map(|r| r.0)).unwrap();
        put(&mut zip, "syn_sec_index", &[n], rows.iter().map(|r| r.1)).unwrap();
        put(&mut zip, "syn_x", &[n], rows.iter().map(|r| r.2)).unwrap();
        put(&mut zip, "syn_type", &[n], rows.iter().map(|r| r.3)).unwrap();
        zip.finish().unwrap();
    }

    #[test]
    fn rows_placed_by_section_name_map_onto_the_cell_in_any_order() {
        let cell = crate::preset("l5pc").unwrap();
        let synapses = Synapses::place(&cell);
        let names = cell.section_names_of(&synapses).unwrap();
        // Rows 700, 3 and 1000 of the cell's own layout, in that order.
        let picked = [700usize, 3, 1000];
        let rows: Vec<_> = picked
            .iter()
            .map(|&i| {
                (
                    names[i].kind.code(),
                    names[i].index as i64,
                    synapses.pos[i],
                    synapses.kind[i].code(),
                )
            })
            .collect();
        let path = temp("named.npz");
        named_only(&path, &rows);
        let e = Trial::load(&path).unwrap_err().to_string();
        assert!(
            e.contains("by section name only") && e.contains("Trial::load_for"),
            "{e}"
        );
        let t = Trial::load_for(&path, &cell).unwrap();
        for (row, &i) in picked.iter().enumerate() {
            assert_eq!(
                t.synapses.site(row),
                synapses.site(i),
                "row {row} is the cell's row {i}"
            );
            assert_eq!(t.synapses.kind[row], synapses.kind[i]);
        }
        assert_eq!(t.placement.as_deref(), Some(&[names[700], names[3], names[1000]][..]));
        // Saved with its placement, it reads back the same, with or without the cell.
        t.save(&path).unwrap();
        assert_eq!(Trial::load(&path).unwrap(), t);
        assert_eq!(Trial::load_for(&path, &cell).unwrap(), t);
        // A section the cell lacks, bad codes, a missing half of the placement.
        named_only(&path, &[(2, 3, 0.5, 1), (2, 500, 0.5, 0)]);
        let e = Trial::load_for(&path, &cell).unwrap_err().to_string();
        assert!(
            e.contains("row 1 is on apic[500], which cell l5pc does not have"),
            "{e}"
        );
        named_only(&path, &[(5, 0, 0.5, 1)]);
        let e = Trial::load_for(&path, &cell).unwrap_err().to_string();
        assert!(e.contains("syn_sec_kind[0] = 5"), "{e}");
        named_only(&path, &[(0, 2, 0.5, 0)]);
        let e = Trial::load_for(&path, &cell).unwrap_err().to_string();
        assert!(
            e.contains("syn_sec_index[0] = 2; an index is ≥ 0, and 0 for the soma"),
            "{e}"
        );
        named_only(&path, &[(1, 0, 1.5, 1)]);
        let e = Trial::load_for(&path, &cell).unwrap_err().to_string();
        assert!(e.contains("position 1.5"), "{e}");
        // bs4's sections have no NEURON names: a named row finds nothing there.
        named_only(&path, &[(1, 0, 0.5, 1)]);
        let e = Trial::load_for(&path, &crate::CellConfig::bs4())
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 0 is on dend[0], which cell bs4 does not have"), "{e}");
    }

    #[test]
    fn narrow_numpy_types_are_widened() {
        let path = temp("narrow.npz");
        let file = File::create(&path).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        put(&mut zip, "x", &[2, 1], [1u8, 0].into_iter()).unwrap();
        put(&mut zip, "syn_branch", &[2], [-1i32, 0].into_iter()).unwrap();
        put(&mut zip, "syn_pos", &[2], [0.5f32, 0.25].into_iter()).unwrap();
        put(&mut zip, "syn_type", &[2], [0i8, 1].into_iter()).unwrap();
        zip.finish().unwrap();
        let t = Trial::load(&path).unwrap();
        assert_eq!(t.raster.bits, vec![true, false]);
        assert_eq!(t.synapses.branch, vec![Branch::Soma, Branch::Dendrite(0)]);
        assert_eq!(t.synapses.pos, vec![0.5, 0.25]);
        assert_eq!(t.synapses.kind, vec![SynapseType::Inhibitory, SynapseType::Excitatory]);
    }
}
