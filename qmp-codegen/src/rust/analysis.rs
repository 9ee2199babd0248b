//! Facts about the schema that the Rust emitter needs: flattened members, which edges
//! must be boxed to break recursion, which types can arrive from the server, and which
//! structs can derive `Default`.

use crate::model::*;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

/// A member with the definition that declared it (for its doc text).
#[derive(Clone, Copy)]
pub struct FlatMember<'a> {
    pub member: &'a Member,
    pub owner: &'a Definition,
}

pub struct Analysis<'a> {
    pub defs: HashMap<&'a str, &'a Definition>,
    /// `(owner type, member or branch name)` edges that need a `Box`.
    pub boxed: HashSet<(&'a str, &'a str)>,
    /// Types that can appear in replies or events.
    pub output: HashSet<&'a str>,
    defaultable: RefCell<HashMap<&'a str, bool>>,
}

impl<'a> Analysis<'a> {
    pub fn new(schema: &'a Schema) -> Self {
        let defs = schema.index();
        let mut a = Analysis {
            defs,
            boxed: HashSet::new(),
            output: HashSet::new(),
            defaultable: RefCell::new(HashMap::new()),
        };
        a.compute_boxing(schema);
        a.compute_output(schema);
        a
    }

    pub fn def(&self, name: &str) -> Option<&'a Definition> {
        self.defs.get(name).copied()
    }

    /// The members of a struct, base chain first; for a union, its base's members.
    pub fn flat_members(&self, d: &'a Definition) -> Vec<FlatMember<'a>> {
        let mut out = Vec::new();
        self.collect(d, &mut out, 0);
        out
    }

    fn collect(&self, d: &'a Definition, out: &mut Vec<FlatMember<'a>>, depth: usize) {
        if depth > 64 {
            return;
        }
        match d {
            Definition::Struct(s) => {
                if let Some(b) = s.base.as_deref().and_then(|b| self.def(b)) {
                    self.collect(b, out, depth + 1);
                }
                out.extend(s.members.iter().map(|m| FlatMember {
                    member: m,
                    owner: d,
                }));
            }
            Definition::Union(u) => match &u.base {
                Members::Named(b) => {
                    if let Some(b) = self.def(b) {
                        self.collect(b, out, depth + 1);
                    }
                }
                Members::Inline(ms) => out.extend(ms.iter().map(|m| FlatMember {
                    member: m,
                    owner: d,
                })),
            },
            _ => {}
        }
    }

    /// Members of command/event data.
    pub fn data_members(&self, owner: &'a Definition, data: &'a Members) -> Vec<FlatMember<'a>> {
        match data {
            Members::Inline(ms) => ms.iter().map(|m| FlatMember { member: m, owner }).collect(),
            Members::Named(n) => self
                .def(n)
                .map(|d| self.flat_members(d))
                .unwrap_or_default(),
        }
    }

    /// The by-value edges of a type: `(edge name, target type)`.
    fn edges(&self, d: &'a Definition) -> Vec<(&'a str, &'a str)> {
        let mut out = Vec::new();
        match d {
            Definition::Struct(_) | Definition::Union(_) => {
                for fm in self.flat_members(d) {
                    if let TypeRef::Named(t) = &fm.member.ty {
                        out.push((fm.member.name.as_str(), t.as_str()));
                    }
                }
                if let Definition::Union(u) = d {
                    for b in &u.branches {
                        out.push((b.name.as_str(), b.ty.as_str()));
                    }
                }
            }
            Definition::Alternate(a) => {
                for b in &a.branches {
                    if let TypeRef::Named(t) = &b.ty {
                        out.push((b.name.as_str(), t.as_str()));
                    }
                }
            }
            _ => {}
        }
        out.retain(|(_, t)| {
            matches!(
                self.def(t),
                Some(Definition::Struct(_) | Definition::Union(_) | Definition::Alternate(_))
            )
        });
        out
    }

    /// Boxes the back edges of a depth-first search in schema order: removing them
    /// leaves no cycle, so every by-value recursion goes through a `Box` exactly where
    /// needed (`BlockdevRef::Definition`, `Tree::left`), and everything else stays unboxed.
    fn compute_boxing(&mut self, schema: &'a Schema) {
        let nodes: Vec<&'a Definition> = schema
            .definitions
            .iter()
            .filter(|d| {
                matches!(
                    d,
                    Definition::Struct(_) | Definition::Union(_) | Definition::Alternate(_)
                )
            })
            .collect();
        let pos: HashMap<&str, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, d)| (d.name(), i))
            .collect();
        let adj: Vec<Vec<(&'a str, usize)>> = nodes
            .iter()
            .map(|d| {
                self.edges(d)
                    .into_iter()
                    .filter_map(|(e, t)| pos.get(t).map(|&j| (e, j)))
                    .collect()
            })
            .collect();
        let n = nodes.len();
        // 0 = unvisited, 1 = on the current path, 2 = done
        let mut state = vec![0u8; n];
        // Unions first: a cycle through a union and an alternate (BlockdevOptions ->
        // branch -> BlockdevRef -> BlockdevOptions) then closes at the alternate, boxing
        // one variant instead of a member of every branch.
        let mut roots: Vec<usize> = (0..n).collect();
        roots.sort_by_key(|&i| match nodes[i] {
            Definition::Union(_) => 0,
            Definition::Struct(_) => 1,
            _ => 2,
        });
        for root in roots {
            if state[root] != 0 {
                continue;
            }
            let mut work = vec![(root, 0usize)];
            state[root] = 1;
            while let Some(&mut (v, ref mut ei)) = work.last_mut() {
                if *ei < adj[v].len() {
                    let (edge, w) = adj[v][*ei];
                    *ei += 1;
                    match state[w] {
                        0 => {
                            state[w] = 1;
                            work.push((w, 0));
                        }
                        1 => {
                            self.boxed.insert((nodes[v].name(), edge));
                        }
                        _ => {}
                    }
                } else {
                    state[v] = 2;
                    work.pop();
                }
            }
        }
    }

    fn compute_output(&mut self, schema: &'a Schema) {
        let mut todo: Vec<&'a str> = Vec::new();
        for d in &schema.definitions {
            match d {
                Definition::Command(c) => {
                    if let Some(r) = &c.returns {
                        todo.push(r.name());
                    }
                }
                Definition::Event(e) => match &e.data {
                    Some(Members::Named(n)) => todo.push(n),
                    Some(Members::Inline(ms)) => todo.extend(ms.iter().map(|m| m.ty.name())),
                    None => {}
                },
                _ => {}
            }
        }
        while let Some(t) = todo.pop() {
            let Some(d) = self.def(t) else { continue };
            if !self.output.insert(d.name()) {
                continue;
            }
            match d {
                Definition::Struct(_) | Definition::Union(_) => {
                    todo.extend(self.flat_members(d).iter().map(|m| m.member.ty.name()));
                    if let Definition::Union(u) = d {
                        todo.extend(u.branches.iter().map(|b| b.ty.as_str()));
                    }
                }
                Definition::Alternate(a) => todo.extend(a.branches.iter().map(|b| b.ty.name())),
                _ => {}
            }
        }
    }

    /// Whether a struct derives `Default`: it is not a reply type (those keep unknown
    /// members) and every required member's type has a default.
    pub fn defaultable(&self, name: &'a str) -> bool {
        if let Some(&v) = self.defaultable.borrow().get(name) {
            return v;
        }
        self.defaultable.borrow_mut().insert(name, false); // cycles: no
        let v = match self.def(name) {
            Some(d @ Definition::Struct(_)) if !self.output.contains(name) => self
                .flat_members(d)
                .iter()
                .all(|m| m.member.optional || self.type_defaultable(&m.member.ty)),
            _ => false,
        };
        self.defaultable.borrow_mut().insert(name, v);
        v
    }

    fn type_defaultable(&self, t: &'a TypeRef) -> bool {
        match t {
            TypeRef::Array(_) => true,
            TypeRef::Named(n) if is_builtin(n) => true,
            TypeRef::Named(n) => self.defaultable(n),
        }
    }
}
