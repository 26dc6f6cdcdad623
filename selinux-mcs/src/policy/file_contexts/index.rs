//! The index that makes lookups fast: a radix trie of rule prefixes whose
//! nodes hold precomputed candidate lists, and a `RegexSet` per long list.

use std::sync::OnceLock;

use super::dialect::has_top_level_alternation;
use super::{Rule, Tail};

/// A radix trie of rule prefixes (edges carry byte strings, so a chain of
/// single children is one edge). A node that ends at least one prefix
/// has a candidate list of every rule whose prefix is a prefix of the
/// node's text, in the order they must be tried: exact rules before
/// regexes, later before earlier. Other nodes share their nearest such
/// ancestor's list.
#[derive(Debug, Default, Clone)]
pub(super) struct Trie {
    nodes: Vec<Node>,
    edges: Vec<Edge>,
    /// Concatenated edge labels.
    labels: Vec<u8>,
    /// Concatenated candidate lists.
    pub(super) lists: Vec<u32>,
    /// One entry per candidate list; 0 is the empty list.
    metas: Vec<ListMeta>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Node {
    /// `edges[edges_start..edges_end]`, sorted by first byte.
    edges_start: u32,
    edges_end: u32,
    /// The candidate list: `metas[list]`.
    list: u32,
}

#[derive(Debug, Clone, Copy)]
struct Edge {
    first: u8,
    /// `labels[label_start..label_end]`, starting with `first`.
    label_start: u32,
    label_end: u32,
    child: u32,
}

/// A candidate list, and for lists with many regexes a `RegexSet` over
/// them, built on first use.
#[derive(Debug, Default, Clone)]
pub(super) struct ListMeta {
    /// `lists[start..end]`.
    pub(super) start: u32,
    pub(super) end: u32,
    /// How many candidates need a regex.
    pub(super) regexes: u32,
    filter: OnceLock<Option<SetFilter>>,
}

/// A `RegexSet` that tells, in one pass, which of a list's regexes may
/// match. Each pattern matches a superset of what its rule matches (it
/// ignores libselinux's stem comparison), so a match is still checked with
/// [`Rule::matches`]; a non-match is final.
#[derive(Debug, Clone)]
pub(super) struct SetFilter {
    pub(super) set: regex::bytes::RegexSet,
    /// For each candidate of the list, its pattern in `set`, or `NO_SLOT`.
    pub(super) slots: Vec<u32>,
}

pub(super) const NO_SLOT: u32 = u32::MAX;

/// From how many regexes on a list a set pays off.
pub(super) const SET_THRESHOLD: u32 = 8;

impl ListMeta {
    pub(super) fn filter(&self, candidates: &[u32], rules: &[Rule]) -> Option<&SetFilter> {
        if self.regexes < SET_THRESHOLD {
            return None;
        }
        self.filter
            .get_or_init(|| SetFilter::build(candidates, rules))
            .as_ref()
    }
}

impl SetFilter {
    fn build(candidates: &[u32], rules: &[Rule]) -> Option<SetFilter> {
        let mut patterns = Vec::new();
        let mut slots = Vec::with_capacity(candidates.len());
        for &i in candidates {
            let rule = &rules[i as usize];
            let slot = match &rule.tail {
                Tail::Regex { .. } => {
                    let stem_len = rule.stem.as_ref().map_or(0, |s| s.len());
                    let (stem, body) = rule.regex.split_at(stem_len);
                    if has_top_level_alternation(body.as_bytes()) {
                        NO_SLOT
                    } else {
                        patterns.push(format!("^{stem}(?:{body})(?:\n)?$"));
                        (patterns.len() - 1) as u32
                    }
                }
                _ => NO_SLOT,
            };
            slots.push(slot);
        }
        let set = regex::bytes::RegexSetBuilder::new(&patterns)
            .unicode(false)
            .dot_matches_new_line(true)
            .build()
            .ok()?;
        Some(SetFilter { set, slots })
    }
}

impl Trie {
    pub(super) fn build(rules: &[Rule]) -> Trie {
        let mut entries: Vec<(Vec<u8>, u32)> = rules
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                let mut prefix = Vec::with_capacity(
                    rule.stem.as_ref().map_or(0, |s| s.len()) + rule.literal.len(),
                );
                if let Some(stem) = &rule.stem {
                    prefix.extend_from_slice(stem);
                }
                prefix.extend_from_slice(&rule.literal);
                (prefix, i as u32)
            })
            .collect();
        entries.sort_unstable();
        let mut trie = Trie {
            metas: vec![ListMeta::default()],
            ..Trie::default()
        };
        trie.nodes.push(Node::default());
        trie.build_node(0, &entries, 0, 0, rules);
        trie
    }

    /// Fills in node `id`, which stands for the first `depth` bytes shared
    /// by every prefix of `entries` (sorted), and builds its subtree.
    fn build_node(
        &mut self,
        id: usize,
        entries: &[(Vec<u8>, u32)],
        depth: usize,
        inherited: u32,
        rules: &[Rule],
    ) {
        let own_len = entries.iter().take_while(|(p, _)| p.len() == depth).count();
        let list = if own_len == 0 {
            inherited
        } else {
            let own: Vec<u32> = entries[..own_len].iter().map(|e| e.1).collect();
            self.merge_list(inherited, own, rules)
        };
        self.nodes[id].list = list;
        let mut rest = &entries[own_len..];
        let mut edges = Vec::new();
        while let Some((first, _)) = rest.first() {
            let b = first[depth];
            let group_len = rest.iter().take_while(|(p, _)| p[depth] == b).count();
            let (group, tail) = rest.split_at(group_len);
            rest = tail;
            // Sorted: the first and last share what all of the group shares.
            let (a, z) = (&group[0].0, &group[group_len - 1].0);
            let common = a[depth..]
                .iter()
                .zip(&z[depth..])
                .take_while(|(x, y)| x == y)
                .count();
            let label_start = self.labels.len() as u32;
            self.labels.extend_from_slice(&a[depth..depth + common]);
            let child = self.nodes.len();
            self.nodes.push(Node::default());
            edges.push(Edge {
                first: b,
                label_start,
                label_end: self.labels.len() as u32,
                child: child as u32,
            });
            self.build_node(child, group, depth + common, list, rules);
        }
        self.nodes[id].edges_start = self.edges.len() as u32;
        self.edges.extend(edges);
        self.nodes[id].edges_end = self.edges.len() as u32;
    }

    /// A new candidate list: list `inherited` and `own`, best first.
    fn merge_list(&mut self, inherited: u32, mut own: Vec<u32>, rules: &[Rule]) -> u32 {
        let priority = |i: &u32| (rules[*i as usize].exact, *i);
        own.sort_unstable_by_key(|i| std::cmp::Reverse(priority(i)));
        let start = self.lists.len();
        let parent = &self.metas[inherited as usize];
        let (mut a, end) = (parent.start as usize, parent.end as usize);
        let mut own = own.into_iter().peekable();
        loop {
            let take_own = match (a < end, own.peek()) {
                (true, Some(o)) => priority(o) > priority(&self.lists[a]),
                (false, Some(_)) => true,
                (true, None) => false,
                (false, None) => break,
            };
            if take_own {
                if let Some(o) = own.next() {
                    self.lists.push(o);
                }
            } else {
                self.lists.push(self.lists[a]);
                a += 1;
            }
        }
        let regexes = self.lists[start..]
            .iter()
            .filter(|&&i| matches!(rules[i as usize].tail, Tail::Regex { .. }))
            .count() as u32;
        self.metas.push(ListMeta {
            start: start as u32,
            end: self.lists.len() as u32,
            regexes,
            filter: OnceLock::new(),
        });
        (self.metas.len() - 1) as u32
    }

    /// The candidate list for `key`: that of the deepest node on its path.
    pub(super) fn candidates(&self, key: &[u8]) -> &ListMeta {
        let mut node = self.nodes[0];
        let mut pos = 0;
        while let Some(&b) = key.get(pos) {
            let edges = &self.edges[node.edges_start as usize..node.edges_end as usize];
            let edge = if edges.len() <= 8 {
                edges.iter().find(|e| e.first == b)
            } else {
                edges
                    .binary_search_by_key(&b, |e| e.first)
                    .ok()
                    .map(|at| &edges[at])
            };
            let Some(edge) = edge else { break };
            let label = &self.labels[edge.label_start as usize..edge.label_end as usize];
            if !key[pos..].starts_with(label) {
                break;
            }
            pos += label.len();
            node = self.nodes[edge.child as usize];
        }
        &self.metas[node.list as usize]
    }
}
