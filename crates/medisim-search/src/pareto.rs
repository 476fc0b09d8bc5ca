//! Multi-objective selection (`objectives` in the search settings): the fitness and the safety
//! channels kept apart instead of folded into Eq. 8's one number. Inside an island, individuals
//! are ordered by NSGA-II's two keys (Deb et al. 2002, *IEEE Trans. Evol. Comput.* 6): the
//! non-dominated front they sit in, then how much room they have on it (crowding distance), so
//! parents are drawn from the trade-off front and an island drops the most crowded of its worst
//! front. The ordering is small and part of the search's selection rule, as the tournament is;
//! with no objectives the search is the scalar one, unchanged.

use crate::domain::{Domain, Individual};
use crate::store::Eval;
use anyhow::{bail, Result};
use medisim_core::Metric;
use serde::Serialize;

/// One objective: a metric of the domain's model (or its fitness) and its direction.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Objective {
    pub metric: String,
    pub maximise: bool,
}

/// Most objectives one search may have.
pub const MAX_OBJECTIVES: usize = 8;

/// The shorthand for the fitness against each of the domain's safety channels.
pub const SAFETY: &str = "safety";

impl Objective {
    /// `max:NAME`, `min:NAME`, or a bare NAME for the domain's fitness (maximised) or one of
    /// its safety channels (minimised).
    fn parse<D: Domain>(domain: &D, spec: &str) -> Result<Objective> {
        let (direction, name) = match spec.split_once(':') {
            Some((d, n)) => (Some(d), n),
            None => (None, spec),
        };
        let known = name == domain.fitness_name()
            || <<D::Model as medisim_core::Model>::Metric as Metric>::from_name(name).is_some();
        if !known {
            bail!(
                "objective `{spec}`: `{name}` is not a metric of this model (the metrics are those `medisim run` prints, and `{}`)",
                domain.fitness_name()
            );
        }
        let maximise = match direction {
            Some("max") => true,
            Some("min") => false,
            Some(d) => bail!("objective `{spec}`: the direction is max or min, not `{d}`"),
            None if name == domain.fitness_name() => true,
            None if domain.safety_metrics().contains(&name) => false,
            None => bail!(
                "objective `{spec}`: say whether to raise or lower it: max:{name} or min:{name}"
            ),
        };
        Ok(Objective {
            metric: name.to_string(),
            maximise,
        })
    }

    /// The objective's value of an evaluation, signed so that higher is better; NaN is worst.
    pub fn score<D: Domain>(&self, domain: &D, eval: &Eval) -> f64 {
        let v = self.value(domain, eval);
        let signed = if self.maximise { v } else { -v };
        if signed.is_nan() {
            f64::NEG_INFINITY
        } else {
            signed
        }
    }

    /// The objective's metric as measured (unsigned).
    pub fn value<D: Domain>(&self, domain: &D, eval: &Eval) -> f64 {
        if self.metric == domain.fitness_name() {
            eval.fitness
        } else {
            eval.summary
                .by_name(&self.metric)
                .map_or(f64::NAN, |s| s.mean)
        }
    }

    pub fn label(&self) -> String {
        format!(
            "{}:{}",
            if self.maximise { "max" } else { "min" },
            self.metric
        )
    }
}

/// The search settings' objectives, checked against `domain` (empty: the scalar search).
pub fn objectives<D: Domain>(domain: &D, specs: &[String]) -> Result<Vec<Objective>> {
    if specs.len() == 1 && specs[0] == SAFETY {
        let mut all = vec![Objective {
            metric: domain.fitness_name().to_string(),
            maximise: true,
        }];
        all.extend(domain.safety_metrics().iter().map(|m| Objective {
            metric: m.to_string(),
            maximise: false,
        }));
        return Ok(all);
    }
    if specs.len() == 1 {
        bail!("objectives: give two or more (or `{SAFETY}`: the fitness and each safety channel)");
    }
    if specs.len() > MAX_OBJECTIVES {
        bail!("objectives: at most {MAX_OBJECTIVES}, got {}", specs.len());
    }
    let parsed = specs
        .iter()
        .map(|s| Objective::parse(domain, s))
        .collect::<Result<Vec<_>>>()?;
    for (i, o) in parsed.iter().enumerate() {
        if parsed[..i].iter().any(|p| p.metric == o.metric) {
            bail!("objective `{}` is given twice", o.metric);
        }
    }
    Ok(parsed)
}

/// How an island ranks its individuals: by fitness (the default) or by front and crowding.
#[derive(Clone, Debug)]
pub enum Selection {
    Scalar,
    Pareto(Vec<Objective>),
}

impl Selection {
    /// The selection the search settings' `objectives` ask for.
    pub fn new<D: Domain>(domain: &D, specs: &[String]) -> Result<Selection> {
        Ok(if specs.is_empty() {
            Selection::Scalar
        } else {
            Selection::Pareto(objectives(domain, specs)?)
        })
    }

    /// The individuals' objective vectors, signed so that higher is better.
    pub fn points<'i, D: Domain>(
        objectives: &[Objective],
        domain: &D,
        inds: impl IntoIterator<Item = &'i Individual>,
    ) -> Vec<Vec<f64>> {
        inds.into_iter()
            .map(|i| {
                objectives
                    .iter()
                    .map(|o| o.score(domain, &i.eval))
                    .collect()
            })
            .collect()
    }

    /// The island's indices, best first (a stable sort by fitness when scalar).
    pub fn best_first<D: Domain>(&self, domain: &D, island: &[Individual]) -> Vec<usize> {
        match self {
            Selection::Scalar => {
                let mut idx: Vec<usize> = (0..island.len()).collect();
                idx.sort_by(|&a, &b| island[b].fitness().total_cmp(&island[a].fitness()));
                idx
            }
            Selection::Pareto(o) => order(&Self::points(o, domain, island)),
        }
    }

    /// The winner of a tournament among `drawn` (members of `island`): the fittest (the last
    /// of equals) when scalar, the first in [`Selection::best_first`] order otherwise.
    pub fn winner<'i, D: Domain>(
        &self,
        domain: &D,
        island: &'i [Individual],
        drawn: &[&'i Individual],
    ) -> &'i Individual {
        match self {
            Selection::Scalar => drawn
                .iter()
                .copied()
                .max_by(|a, b| a.fitness().total_cmp(&b.fitness()))
                .expect("a tournament draws someone"),
            Selection::Pareto(_) => {
                let order = self.best_first(domain, island);
                let place = |d: &Individual| {
                    let i = island.iter().position(|x| std::ptr::eq(x, d));
                    i.and_then(|i| order.iter().position(|&o| o == i))
                        .unwrap_or(usize::MAX)
                };
                drawn
                    .iter()
                    .copied()
                    .min_by_key(|d| place(d))
                    .expect("a tournament draws someone")
            }
        }
    }

    /// Elitism: a full island keeps its best. Scalar: the newcomer replaces the worst only if
    /// it is fitter. Pareto: the newcomer joins and the last in [`Selection::best_first`] order
    /// leaves (the newcomer itself, when it is that one).
    pub fn insert<D: Domain>(
        &self,
        domain: &D,
        island: &mut Vec<Individual>,
        ind: &Individual,
        population: usize,
    ) {
        if island.len() < population {
            island.push(ind.clone());
            return;
        }
        match self {
            Selection::Scalar => {
                if let Some((w, worst)) = island
                    .iter()
                    .enumerate()
                    .min_by(|a, b| a.1.fitness().total_cmp(&b.1.fitness()))
                {
                    if ind.fitness() > worst.fitness() {
                        island[w] = ind.clone();
                    }
                }
            }
            Selection::Pareto(_) => {
                island.push(ind.clone());
                if let Some(&last) = self.best_first(domain, island).last() {
                    island.remove(last);
                }
            }
        }
    }

    /// The non-dominated programs among `inds` (the first of each hash), in
    /// [`Selection::best_first`] order; empty when scalar.
    pub fn front<D: Domain>(&self, domain: &D, inds: &[Individual]) -> Vec<Individual> {
        let Selection::Pareto(o) = self else {
            return Vec::new();
        };
        let mut seen = std::collections::HashSet::new();
        let unique: Vec<&Individual> = inds.iter().filter(|i| seen.insert(&i.hash)).collect();
        let points = Self::points(o, domain, unique.iter().copied());
        // Front 0 alone, in memory linear in the programs (every island's, up to 64 000).
        let first: Vec<usize> = (0..points.len())
            .filter(|&i| !points.iter().any(|q| dominates(q, &points[i])))
            .collect();
        let front_points: Vec<Vec<f64>> = first.iter().map(|&i| points[i].clone()).collect();
        order(&front_points)
            .into_iter()
            .map(|j| unique[first[j]].clone())
            .collect()
    }
}

/// True when `a` is at least as good as `b` on every objective and better on one.
fn dominates(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x >= y) && a.iter().zip(b).any(|(x, y)| x > y)
}

/// Each point's non-dominated front, 0 the best (points' objectives signed: higher is better).
pub fn fronts(points: &[Vec<f64>]) -> Vec<usize> {
    let n = points.len();
    let mut dominated_by = vec![0usize; n];
    let mut dominates_list: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        for j in 0..n {
            if i != j && dominates(&points[i], &points[j]) {
                dominates_list[i].push(j);
                dominated_by[j] += 1;
            }
        }
    }
    let mut front = vec![usize::MAX; n];
    let mut current: Vec<usize> = (0..n).filter(|&i| dominated_by[i] == 0).collect();
    let mut rank = 0;
    while !current.is_empty() {
        let mut next = Vec::new();
        for &i in &current {
            front[i] = rank;
            for &j in &dominates_list[i] {
                dominated_by[j] -= 1;
                if dominated_by[j] == 0 {
                    next.push(j);
                }
            }
        }
        next.sort_unstable();
        current = next;
        rank += 1;
    }
    front
}

/// Each point's crowding distance within its front: the sum over objectives of the gap
/// between its two neighbours, over the front's range; a front's extremes are infinite.
pub fn crowding(points: &[Vec<f64>], front: &[usize]) -> Vec<f64> {
    let n = points.len();
    let mut distance = vec![0.0; n];
    let objectives = points.first().map_or(0, Vec::len);
    let columns: Vec<Vec<f64>> = (0..objectives)
        .map(|m| points.iter().map(|p| p[m]).collect())
        .collect();
    let last = front.iter().copied().max().unwrap_or(0);
    for f in 0..=last {
        let members: Vec<usize> = (0..n).filter(|&i| front[i] == f).collect();
        for column in &columns {
            let mut by: Vec<usize> = members.clone();
            // Ties by index, so the order is the same on every machine.
            by.sort_by(|&a, &b| column[a].total_cmp(&column[b]).then(a.cmp(&b)));
            let (Some(&lo), Some(&hi)) = (by.first(), by.last()) else {
                continue;
            };
            let range = column[hi] - column[lo];
            distance[lo] = f64::INFINITY;
            distance[hi] = f64::INFINITY;
            if !(range.is_finite() && range > 0.0) {
                continue;
            }
            for w in by.windows(3) {
                distance[w[1]] += (column[w[2]] - column[w[0]]) / range;
            }
        }
    }
    distance
}

/// The points' indices best first: by front, then by crowding distance (wider first), then
/// by index.
pub fn order(points: &[Vec<f64>]) -> Vec<usize> {
    let front = fronts(points);
    let crowd = crowding(points, &front);
    let mut idx: Vec<usize> = (0..points.len()).collect();
    idx.sort_by(|&a, &b| {
        front[a]
            .cmp(&front[b])
            .then(crowd[b].total_cmp(&crowd[a]))
            .then(a.cmp(&b))
    });
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[[f64; 2]]) -> Vec<Vec<f64>> {
        v.iter().map(|p| p.to_vec()).collect()
    }

    #[test]
    fn fronts_peel_the_non_dominated_sets_in_turn() {
        // (3,1) (1,3) (2,2) trade off; (1,1) is beaten by all three; (0,0) by everyone.
        let p = pts(&[[3.0, 1.0], [1.0, 1.0], [1.0, 3.0], [0.0, 0.0], [2.0, 2.0]]);
        assert_eq!(fronts(&p), vec![0, 1, 0, 2, 0]);
        // Equal points do not dominate each other.
        assert_eq!(fronts(&pts(&[[1.0, 1.0], [1.0, 1.0]])), vec![0, 0]);
    }

    #[test]
    fn crowding_keeps_the_extremes_and_prefers_the_isolated() {
        let p = pts(&[[0.0, 4.0], [1.0, 3.0], [1.2, 2.8], [4.0, 0.0]]);
        let f = fronts(&p);
        assert_eq!(f, vec![0, 0, 0, 0]);
        let c = crowding(&p, &f);
        assert!(c[0].is_infinite() && c[3].is_infinite());
        // (1.2, 2.8) has more room than (1, 3), which sits next to it and to the extreme.
        assert!(c[2] > c[1], "{c:?}");
        assert_eq!(order(&p)[..2], [0, 3]);
        assert_eq!(order(&p)[2], 2);
    }
}
