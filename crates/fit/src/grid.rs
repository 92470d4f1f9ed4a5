//! How a reconstructed tree becomes the library neuron's dendrite grid: which sections form a
//! grid column and how positions along it are binned. `bs4`'s four sticks are four columns
//! with positions along each (the grid [`NeuronNetConfig`](crate::NeuronNetConfig) builds
//! without a layout); Hay's cell has 193 dendritic sections, and one column each would cost
//! 60× more FLOPs than the cell's structure needs, so its columns group sections
//! ([`GridRule`]) and its positions bin path distance from the soma.

use biophys::{CellConfig, SectionKind};
use serde::{Deserialize, Serialize};

/// Which sections share a grid column. Every rule ends with a column for the soma.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GridRule {
    /// One column per section kind: basal (`dend`), apical (`apic`).
    Kinds,
    /// One column per dendrite leaving the soma (each basal stem, the apical trunk), with all
    /// its branches.
    Stems,
}

impl GridRule {
    /// Short name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Kinds => "kinds",
            Self::Stems => "stems",
        }
    }
}

/// Where one section lies on the grid: its column, and the (fractional) grid positions of its
/// 0 and 1 ends.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SectionSpan {
    /// Grid column.
    pub column: usize,
    /// Position of the section's 0 end.
    pub from: f64,
    /// Position of its 1 end.
    pub to: f64,
}

/// A cell's sections laid onto a grid of `columns × positions` sites.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridLayout {
    /// The rule that grouped the sections.
    pub rule: GridRule,
    /// Grid columns, the soma's last.
    pub columns: usize,
    /// Positions per column: path distance from the soma in equal bins up to the column's
    /// farthest point.
    pub positions: usize,
    /// Each of the cell's sections, by section index (the soma is section 0).
    pub sections: Vec<SectionSpan>,
}

/// Why a layout cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GridError {
    /// A rule that reads NEURON's section names met a section without one.
    #[error("grid layout `{rule}`: section {index} is named `{name}`, not soma, dend[i], apic[i] or axon[i]")]
    Unnamed {
        /// The rule.
        rule: &'static str,
        /// The section.
        index: usize,
        /// Its name.
        name: String,
    },
    /// Zero positions.
    #[error("grid layout: positions must be at least 1")]
    NoPositions,
}

impl GridLayout {
    /// The layout of `cell` by `rule`, `positions` per column.
    pub fn of(cell: &CellConfig, rule: GridRule, positions: usize) -> Result<Self, GridError> {
        if positions == 0 {
            return Err(GridError::NoPositions);
        }
        let n = cell.sections.len();
        let kind = |i: usize| {
            cell.section_name(i).map(|n| n.kind).ok_or_else(|| GridError::Unnamed {
                rule: rule.name(),
                index: i,
                name: cell.sections[i].name.clone(),
            })
        };
        // Path distance of each section's 0 end from the soma's middle, and its stem (the
        // section leaving the soma that it descends from).
        let mut start = vec![0.0; n];
        let mut stem = vec![0usize; n];
        for i in parents_first(cell) {
            let Some(p) = cell.sections[i].parent else { continue };
            let x = cell.sections[i].parent_x;
            start[i] = if p == 0 {
                (x - 0.5).abs() * cell.sections[0].length
            } else {
                start[p] + x * cell.sections[p].length
            };
            stem[i] = if p == 0 { i } else { stem[p] };
        }
        // Column of each dendritic section; axons and the soma go to the soma's column.
        let mut column = vec![None; n];
        let mut columns = 0;
        match rule {
            GridRule::Kinds => {
                for (k, wanted) in [SectionKind::Dend, SectionKind::Apic].into_iter().enumerate() {
                    for (i, c) in column.iter_mut().enumerate().skip(1) {
                        if kind(i)? == wanted {
                            *c = Some(k);
                        }
                    }
                }
                columns = 2;
            }
            GridRule::Stems => {
                let mut of_stem = vec![None; n];
                for i in 1..n {
                    if matches!(kind(i)?, SectionKind::Dend | SectionKind::Apic) {
                        let s = stem[i];
                        let c = *of_stem[s].get_or_insert_with(|| {
                            columns += 1;
                            columns - 1
                        });
                        column[i] = Some(c);
                    }
                }
            }
        }
        let soma = columns;
        let mut reach = vec![0.0_f64; columns];
        for i in 1..n {
            if let Some(c) = column[i] {
                reach[c] = reach[c].max(start[i] + cell.sections[i].length);
            }
        }
        let bins = positions as f64;
        let sections = (0..n)
            .map(|i| match column[i] {
                Some(c) => {
                    let scale = bins / reach[c].max(f64::MIN_POSITIVE);
                    SectionSpan {
                        column: c,
                        from: start[i] * scale,
                        to: (start[i] + cell.sections[i].length) * scale,
                    }
                }
                None => SectionSpan {
                    column: soma,
                    from: bins / 2.0,
                    to: bins / 2.0,
                },
            })
            .collect();
        Ok(Self {
            rule,
            columns: columns + 1,
            positions,
            sections,
        })
    }

    /// The grid column and position of a synapse at `x` along `section`, if the layout has
    /// that section.
    pub fn site(&self, section: usize, x: f64) -> Option<(usize, usize)> {
        let s = self.sections.get(section)?;
        let p = s.from + x.clamp(0.0, 1.0) * (s.to - s.from);
        Some((s.column, (p.max(0.0) as usize).min(self.positions - 1)))
    }
}

/// Section indices, each after its parent (a validated cell is a tree rooted at the soma).
fn parents_first(cell: &CellConfig) -> Vec<usize> {
    let n = cell.sections.len();
    let mut children = vec![Vec::new(); n];
    for (i, s) in cell.sections.iter().enumerate() {
        if let Some(p) = s.parent {
            children[p].push(i);
        }
    }
    let (mut order, mut stack) = (Vec::with_capacity(n), vec![0]);
    while let Some(i) = stack.pop() {
        order.push(i);
        stack.extend(children[i].iter().rev());
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l5pc() -> CellConfig {
        biophys::preset("l5pc").unwrap()
    }

    #[test]
    fn hay_s_cell_by_kinds_puts_basal_and_apical_synapses_in_two_columns_by_distance() {
        let cell = l5pc();
        let g = GridLayout::of(&cell, GridRule::Kinds, 8).unwrap();
        assert_eq!((g.columns, g.positions), (3, 8));
        let synapses = biophys::Synapses::place(&cell);
        let mut used = [[0usize; 8]; 3];
        for i in 0..synapses.len() {
            let s = synapses.branch[i].section();
            let (c, p) = g.site(s, synapses.pos[i]).unwrap();
            let want = match cell.section_name(s).unwrap().kind {
                SectionKind::Dend => 0,
                SectionKind::Apic => 1,
                k => panic!("a synapse on {k:?}"),
            };
            assert_eq!(c, want);
            used[c][p] += 1;
        }
        // NeuronIO puts synapses on every basal and apical segment: each column's bins all
        // hold some (the farthest bin reaches the farthest tip), the soma's none.
        for (c, bins) in used.iter().take(2).enumerate() {
            assert!(bins.iter().all(|&n| n > 0), "column {c}: {bins:?}");
        }
        assert_eq!(used[2], [0; 8]);
        // Distances grow along a path: a child starts where its parent's x attaches.
        for i in 1..cell.sections.len() {
            let p = cell.sections[i].parent.unwrap();
            if p != 0 && g.sections[i].column == g.sections[p].column {
                let (a, b) = (g.sections[p], g.sections[i]);
                let at = a.from + cell.sections[i].parent_x * (a.to - a.from);
                assert!((b.from - at).abs() < 1e-9, "section {i}");
            }
        }
    }

    #[test]
    fn stems_give_each_dendrite_leaving_the_soma_its_column() {
        let cell = l5pc();
        let g = GridLayout::of(&cell, GridRule::Stems, 4).unwrap();
        let stems = (1..cell.sections.len())
            .filter(|&i| {
                cell.sections[i].parent == Some(0)
                    && matches!(
                        cell.section_name(i).unwrap().kind,
                        SectionKind::Dend | SectionKind::Apic
                    )
            })
            .count();
        assert_eq!(g.columns, stems + 1);
        assert!(
            stems > 2,
            "Hay's cell has several basal stems and an apical trunk: {stems}"
        );
        // A section and its parent share a column unless the parent is the soma.
        for i in 1..cell.sections.len() {
            let p = cell.sections[i].parent.unwrap();
            if p != 0 && g.sections[i].column != stems {
                assert_eq!(g.sections[i].column, g.sections[p].column, "section {i}");
            }
        }
        assert!(GridLayout::of(&cell, GridRule::Stems, 0).is_err());
        // The ball and sticks has no NEURON names: a rule reading them says which section.
        let e = GridLayout::of(&CellConfig::bs4(), GridRule::Kinds, 4).unwrap_err();
        assert!(e.to_string().contains("section 1 is named"), "{e}");
    }
}
