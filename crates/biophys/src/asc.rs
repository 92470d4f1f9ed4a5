//! Morphologies from Neurolucida ASCII files (`.asc`), the format of Hay's layer-5 pyramidal
//! cell, read into the sections NEURON's `Import3d_Neurolucida3` makes of them.
//!
//! The file is nested lists: a contour tagged `(CellBody)` outlines the soma; a tree tagged
//! `(Dendrite)`, `(Apical)` or `(Axon)` is a list of 3-D points `(x y z d)` that may end in a
//! fork, a list of branches separated by `|`, each of them points and perhaps a fork again.
//! Properties (`(Color …)`, `(Name …)`), markers (`(Cross …)`, `(Dot …)`), spines (`<…>`),
//! ending words (`Normal`, `Incomplete`) and other top-level lists (image coordinates, contours
//! that are not the soma) are skipped. Points keep NEURON's precision: single floats.
//!
//! As Import3d does, every branch is a section; sections are numbered per kind (`dend[i]`,
//! `apic[i]`, `axon[i]`) in file order, depth first; a child section starts with its parent's
//! last point at the child's own first diameter; every tree's root section attaches to the
//! soma's middle. Malformed input is an error naming its line, never a panic.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{BiophysError, Result};

/// A 3-D point with its diameter (µm), in single precision as NEURON stores `pt3d`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point3 {
    /// Position, µm.
    pub x: f32,
    /// Position, µm.
    pub y: f32,
    /// Position, µm.
    pub z: f32,
    /// Diameter, µm.
    pub d: f32,
}

/// What a tree is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeKind {
    /// A basal dendrite (NEURON's `dend`).
    Dendrite,
    /// The apical dendrite (`apic`).
    Apical,
    /// The axon (`axon`).
    Axon,
}

impl TreeKind {
    /// NEURON's section name stem.
    pub fn stem(self) -> &'static str {
        match self {
            Self::Dendrite => "dend",
            Self::Apical => "apic",
            Self::Axon => "axon",
        }
    }
}

/// An unbranched run of points and the branches it forks into.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    /// The points, in order from the root.
    pub points: Vec<Point3>,
    /// The branches of its fork, in file order.
    pub children: Vec<Branch>,
}

/// A tree of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    /// Its kind.
    pub kind: TreeKind,
    /// Its root branch.
    pub root: Branch,
}

/// A Neurolucida file's soma outline and trees.
#[derive(Debug, Clone, PartialEq)]
pub struct Neurolucida {
    /// The `(CellBody)` contour's points `[x, y, z, d]`, in double precision as Import3d reads
    /// them (empty if the file has none).
    pub soma_contour: Vec<[f64; 4]>,
    /// The trees, in file order.
    pub trees: Vec<Tree>,
}

/// A section as Import3d makes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pt3dSection {
    /// NEURON's name: `dend[3]`, `apic[0]`, `axon[1]`.
    pub name: String,
    /// The tree's kind.
    pub kind: TreeKind,
    /// Index of the parent in the list; `None` for a tree's root (attached to the soma).
    pub parent: Option<usize>,
    /// Where on the parent it attaches: 1 for a branch, 0.5 (the soma's middle) for a root.
    pub parent_x: f64,
    /// Its 3-D points.
    pub points: Vec<Point3>,
}

impl Neurolucida {
    /// Reads a file.
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| BiophysError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8_lossy(&bytes);
        Self::parse(&text).map_err(|message| BiophysError::Format {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses a file's text; the error names the line.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let items = parse_lists(&tokenize(text)?)?;
        let mut out = Self {
            soma_contour: Vec::new(),
            trees: Vec::new(),
        };
        for item in &items {
            let Item::List(list, line) = item else {
                continue;
            };
            if has_tag(list, "CellBody") {
                if !out.soma_contour.is_empty() {
                    return Err(format!("line {line}: a second (CellBody) contour"));
                }
                out.soma_contour = list
                    .iter()
                    .filter_map(point_f64)
                    .collect::<std::result::Result<_, _>>()?;
            } else if let Some(kind) = tree_kind(list) {
                out.trees.push(Tree {
                    kind,
                    root: branch(list, *line)?,
                });
            }
        }
        Ok(out)
    }

    /// The soma's points from its contour, as Import3d makes them ([`crate::contour`]).
    pub fn soma(&self) -> std::result::Result<Vec<Point3>, String> {
        crate::contour::soma_centroid(&self.soma_contour)
    }

    /// The sections Import3d makes of the trees (the soma is not among them), numbered per kind.
    pub fn sections(&self) -> Vec<Pt3dSection> {
        let mut out = Vec::new();
        for kind in [TreeKind::Dendrite, TreeKind::Apical, TreeKind::Axon] {
            let mut count = 0;
            for tree in self.trees.iter().filter(|t| t.kind == kind) {
                push_sections(&tree.root, kind, None, &mut count, &mut out);
            }
        }
        out
    }
}

fn push_sections(b: &Branch, kind: TreeKind, parent: Option<usize>, count: &mut usize, out: &mut Vec<Pt3dSection>) {
    let mut points = Vec::with_capacity(b.points.len() + 1);
    if let (Some(p), Some(first)) = (parent.and_then(|p| out[p].points.last().copied()), b.points.first()) {
        points.push(Point3 { d: first.d, ..p });
    }
    points.extend_from_slice(&b.points);
    let me = out.len();
    out.push(Pt3dSection {
        name: format!("{}[{}]", kind.stem(), *count),
        kind,
        parent,
        parent_x: if parent.is_some() { 1.0 } else { 0.5 },
        points,
    });
    *count += 1;
    for child in &b.children {
        push_sections(child, kind, Some(me), count, out);
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Bar,
    SpineOpen,
    SpineClose,
    Number(f64),
    Word(String),
}

/// Tokens with their line numbers; `;` comments and commas skipped.
fn tokenize(text: &str) -> std::result::Result<Vec<(Token, usize)>, String> {
    let mut out = Vec::new();
    let mut line = 1;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\n' => line += 1,
            ';' => while chars.next_if(|&(_, c)| c != '\n').is_some() {},
            '(' => out.push((Token::Open, line)),
            ')' => out.push((Token::Close, line)),
            '|' => out.push((Token::Bar, line)),
            '<' => out.push((Token::SpineOpen, line)),
            '>' => out.push((Token::SpineClose, line)),
            ',' => {}
            '"' => {
                let start = line;
                let mut s = String::new();
                loop {
                    match chars.next() {
                        Some((_, '"')) => break,
                        Some((_, c)) => {
                            if c == '\n' {
                                line += 1;
                            }
                            s.push(c);
                        }
                        None => return Err(format!("line {start}: a string that never closes")),
                    }
                }
                out.push((Token::Word(s), line));
            }
            c if c.is_whitespace() => {}
            _ => {
                let mut end = i + c.len_utf8();
                while let Some(&(j, c)) = chars.peek() {
                    if c.is_whitespace() || "()|<>;,\"".contains(c) {
                        break;
                    }
                    end = j + c.len_utf8();
                    chars.next();
                }
                let word = &text[i..end];
                let token = match word.parse::<f64>() {
                    Ok(x) if word.starts_with(|c: char| c.is_ascii_digit() || "+-.".contains(c)) => {
                        if !x.is_finite() {
                            return Err(format!("line {line}: the number {word} is not finite"));
                        }
                        Token::Number(x)
                    }
                    _ => Token::Word(word.to_string()),
                };
                out.push((token, line));
            }
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq)]
enum Item {
    List(Vec<Item>, usize),
    Number(f64),
    Word(String),
    Bar,
}

/// The nested lists; spines (`<…>`) dropped.
fn parse_lists(tokens: &[(Token, usize)]) -> std::result::Result<Vec<Item>, String> {
    let mut stack: Vec<(Vec<Item>, usize)> = vec![(Vec::new(), 0)];
    let mut spine_depth = 0usize;
    for (token, line) in tokens {
        if spine_depth > 0 {
            match token {
                Token::SpineOpen => spine_depth += 1,
                Token::SpineClose => spine_depth -= 1,
                _ => {}
            }
            continue;
        }
        match token {
            Token::Open => stack.push((Vec::new(), *line)),
            Token::Close => {
                if stack.len() == 1 {
                    return Err(format!("line {line}: `)` closes nothing"));
                }
                let (list, start) = stack.pop().expect("checked above");
                stack.last_mut().expect("the top level").0.push(Item::List(list, start));
            }
            Token::Bar => stack.last_mut().expect("the top level").0.push(Item::Bar),
            Token::SpineOpen => spine_depth = 1,
            Token::SpineClose => return Err(format!("line {line}: `>` closes no spine")),
            Token::Number(x) => stack.last_mut().expect("the top level").0.push(Item::Number(*x)),
            Token::Word(w) => stack.last_mut().expect("the top level").0.push(Item::Word(w.clone())),
        }
    }
    if stack.len() > 1 {
        let (_, start) = stack.last().expect("non-empty");
        return Err(format!("line {start}: `(` never closes"));
    }
    if spine_depth > 0 {
        return Err("the file ends inside a spine `<…>`".into());
    }
    Ok(stack.pop().expect("the top level").0)
}

/// Whether `list` holds a property list `(tag)`.
fn has_tag(list: &[Item], tag: &str) -> bool {
    list.iter()
        .any(|i| matches!(i, Item::List(l, _) if matches!(l.first(), Some(Item::Word(w)) if w == tag)))
}

fn tree_kind(list: &[Item]) -> Option<TreeKind> {
    [
        ("Dendrite", TreeKind::Dendrite),
        ("Apical", TreeKind::Apical),
        ("Axon", TreeKind::Axon),
    ]
    .into_iter()
    .find(|(tag, _)| has_tag(list, tag))
    .map(|(_, kind)| kind)
}

/// `Some(point)` if `item` is a point list `(x y z d …)`, as NEURON stores it; an error if it
/// starts like one but is not.
fn point(item: &Item) -> Option<std::result::Result<Point3, String>> {
    point_f64(item).map(|p| {
        p.map(|[x, y, z, d]| Point3 {
            x: x as f32,
            y: y as f32,
            z: z as f32,
            d: d as f32,
        })
    })
}

/// A point in the precision of the file's text.
fn point_f64(item: &Item) -> Option<std::result::Result<[f64; 4], String>> {
    let Item::List(l, line) = item else {
        return None;
    };
    let Some(Item::Number(_)) = l.first() else {
        return None;
    };
    let numbers: Vec<f64> = l
        .iter()
        .map_while(|i| if let Item::Number(x) = i { Some(*x) } else { None })
        .collect();
    if numbers.len() < 4 {
        return Some(Err(format!(
            "line {line}: a point needs x, y, z and a diameter, got {} numbers",
            numbers.len()
        )));
    }
    let d = numbers[3];
    if d < 0.0 {
        return Some(Err(format!("line {line}: a negative diameter {d}")));
    }
    Some(Ok([numbers[0], numbers[1], numbers[2], d]))
}

/// A branch from a list's items: its points, and its fork (a nested list of branches split by
/// `|`); properties, markers and words are skipped.
fn branch(items: &[Item], line: usize) -> std::result::Result<Branch, String> {
    let mut b = Branch {
        points: Vec::new(),
        children: Vec::new(),
    };
    for item in items {
        if let Some(p) = point(item) {
            if !b.children.is_empty() {
                return Err(format!("line {line}: a point after the branch's fork"));
            }
            b.points.push(p?);
            continue;
        }
        let Item::List(l, at) = item else {
            continue;
        };
        match l.first() {
            // A property or a marker (a word first), or an empty list.
            Some(Item::Word(_)) | None => {}
            Some(_) => {
                if !b.children.is_empty() {
                    return Err(format!("line {at}: a second fork in one branch"));
                }
                for part in l.split(|i| *i == Item::Bar) {
                    b.children.push(branch(part, *at)?);
                }
            }
        }
    }
    if b.points.is_empty() && b.children.is_empty() {
        return Err(format!("line {line}: a branch without points"));
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#";	V3 text file
(ImageCoords)
("CellBody"
  (Color Red)
  (CellBody)
  (  1.0  0.0  0.0  0.1 S1)  ; 1, 1
  (  0.0  1.0  0.0  0.1 S1)
  ( -1.0  0.0  0.0  0.1 S1)
)
( (Color Orange)
  (Dendrite)
  (  2.0  0.0  0.0  1.0 S1)  ; Root
  (  3.0  0.0  0.0  1.0 S1)
  (
    (  4.0  1.0  0.0  0.5 S1)
    (Cross (Color Red) (Name "Marker 3") ( 9.0 9.0 9.0 0.5 S1))
    <( 4.5 1.5 0.0 0.2 S1)>
    (  5.0  2.0  0.0  0.5 S1)
    Normal
  |
    (  4.0 -1.0  0.0  0.4 S1)
    (
      ( 5.0 -2.0 0.0 0.3 S1)
    |
      ( 5.0 -1.0 0.0 0.3 S1)
    )
  )
)
( (Color Blue) (Apical) ( 0.0 2.0 0.0 2.0 S1) ( 0.0 3.0 0.0 2.0 S1) Incomplete)
"#;

    #[test]
    fn a_small_file_gives_import3ds_sections_in_its_order() {
        let n = Neurolucida::parse(SMALL).unwrap();
        assert_eq!(n.soma_contour.len(), 3);
        assert_eq!(n.trees.len(), 2);
        let s = n.sections();
        let names: Vec<_> = s.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["dend[0]", "dend[1]", "dend[2]", "dend[3]", "dend[4]", "apic[0]"]
        );
        let parents: Vec<_> = s.iter().map(|s| s.parent).collect();
        assert_eq!(parents, [None, Some(0), Some(0), Some(2), Some(2), None]);
        assert_eq!((s[0].parent_x, s[1].parent_x), (0.5, 1.0));
        // A child starts at its parent's last point, with its own first diameter; the marker and
        // the spine are not points.
        let p = &s[1].points;
        assert_eq!(p.len(), 3);
        assert_eq!((p[0].x, p[0].y, p[0].d), (3.0, 0.0, 0.5));
        assert_eq!((p[2].x, p[2].y), (5.0, 2.0));
        assert_eq!(
            s[4].points[0],
            Point3 {
                x: 4.0,
                y: -1.0,
                z: 0.0,
                d: 0.3
            }
        );
    }

    #[test]
    fn malformed_files_are_errors_naming_the_line() {
        for (text, want) in [
            ("(\n(Dendrite)\n(1 2 3 4)", "line 1: `(` never closes"),
            ("(Dendrite))", "line 1: `)` closes nothing"),
            (
                "((Dendrite)\n(1 2 3))",
                "line 2: a point needs x, y, z and a diameter, got 3",
            ),
            ("((Dendrite)\n(1 2 3 -4))", "line 2: a negative diameter"),
            ("((Dendrite) (Name \"x)", "a string that never closes"),
            ("((Dendrite) (Color Red))", "a branch without points"),
            (
                "((Dendrite) (1 2 3 4) ((2 2 2 1)) (3 3 3 1))",
                "a point after the branch's fork",
            ),
            ("((Dendrite) (1 2 3 1e999))", "not finite"),
            ("((Dendrite) (1 2 3 4) >)", "`>` closes no spine"),
        ] {
            let e = Neurolucida::parse(text).unwrap_err();
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }

    /// Every mutation of a real file (bytes dropped, changed, duplicated, the file cut short)
    /// gives a cell or an error, never a panic.
    #[test]
    fn no_mutated_or_truncated_file_panics() {
        use rand::{Rng, SeedableRng};
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../data/l5pc/morphologies/cell1.asc"
        ))
        .expect("the shipped morphology");
        let bytes = text.as_bytes();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let alphabet = b"()|<>;\"., -0123456789eE\nS1CellBodyDendrite";
        let (mut ok, mut errors) = (0, 0);
        for case in 0..3000 {
            let mut m: Vec<u8> = if case % 3 == 0 {
                bytes[..rng.random_range(0..bytes.len())].to_vec()
            } else if case % 3 == 1 {
                bytes.to_vec()
            } else {
                // A window of the file keeps the cases fast and still cuts lists anywhere.
                let start = rng.random_range(0..bytes.len() - 4000);
                bytes[start..start + 4000].to_vec()
            };
            crate::mutation::mutate(&mut m, &mut rng, alphabet, 8);
            match Neurolucida::parse(&String::from_utf8_lossy(&m)) {
                Ok(n) => {
                    let _ = n.sections();
                    ok += 1;
                }
                Err(e) => {
                    assert!(e.contains("line") || e.contains("spine"), "{e}");
                    errors += 1;
                }
            }
        }
        // Both outcomes occur: the test exercises the error paths and the good ones.
        assert!(ok > 100 && errors > 100, "{ok} parsed, {errors} errors");
    }
}
