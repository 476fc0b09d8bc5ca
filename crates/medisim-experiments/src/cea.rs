//! The figures of a cost-effectiveness analysis (`medisim cea`, `medisim panel psa`): the
//! acceptability curves with their frontier, and the cost-effectiveness plane.

use crate::plots::{lines_with_bands_styled, scatter, LineStyle, Series};
use medisim_core::cea::{Psa, Status};

/// `ceac`: each strategy's probability of the highest net benefit against the willingness to
/// pay, and the CEAF (the expected-best strategy's probability) as a black dashed line;
/// `ce-plane`: each strategy's incremental cost against its incremental effect per draw, against
/// the cheapest frontier strategy.
pub fn figures(psa: &Psa, wtp: &[f64]) -> Vec<(String, String)> {
    let at: Vec<_> = wtp.iter().map(|w| psa.at(*w)).collect();
    let exact = |x: f64, y: f64| (x, y, y, y);
    let mut curves: Vec<Series> = psa
        .strategies()
        .iter()
        .enumerate()
        .map(|(s, name)| {
            let points = at
                .iter()
                .map(|a| exact(a.wtp, a.acceptability[s]))
                .collect();
            (name.clone(), points)
        })
        .collect();
    let frontier = at
        .iter()
        .map(|a| exact(a.wtp, a.acceptability[a.optimal]))
        .collect();
    curves.push(("frontier (CEAF)".into(), frontier));
    let mut styles: Vec<LineStyle> = (0..psa.strategies().len())
        .map(|k| LineStyle {
            colour: k % 7,
            dashed: false,
        })
        .collect();
    styles.push(LineStyle {
        colour: 7,
        dashed: true,
    });
    let ceac = lines_with_bands_styled(
        "cost-effectiveness acceptability",
        "willingness to pay per unit of effect",
        &curves,
        &styles,
        None,
    );
    let table = psa.icer_table();
    let comparator = table
        .iter()
        .find(|r| r.status == Status::NotDominated)
        .map(|r| r.strategy.clone())
        .unwrap_or_default();
    let c = psa
        .strategies()
        .iter()
        .position(|s| *s == comparator)
        .unwrap_or(0);
    let clouds: Vec<(String, Vec<(f64, f64)>)> = psa
        .strategies()
        .iter()
        .enumerate()
        .filter(|(s, _)| *s != c)
        .map(|(s, name)| {
            let points = (0..psa.draws())
                .map(|d| {
                    let ((cs, es), (cc, ec)) = (psa.value(d, s), psa.value(d, c));
                    (es - ec, cs - cc)
                })
                .collect();
            (format!("{name} vs {comparator}"), points)
        })
        .collect();
    let plane = scatter(
        "cost-effectiveness plane",
        "incremental effect",
        "incremental cost",
        &clouds,
    );
    vec![("ceac".into(), ceac), ("ce-plane".into(), plane)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_figures_draw_every_strategy() {
        let psa = Psa::new(
            vec!["A".into(), "B".into(), "C".into()],
            vec![vec![0.0, 5.0, 9.0], vec![0.0, 6.0, 8.0]],
            vec![vec![0.0, 1.0, 1.5], vec![0.0, 0.5, 2.0]],
        )
        .unwrap();
        let f = figures(&psa, &[0.0, 5.0, 10.0]);
        assert_eq!(f[0].0, "ceac");
        for name in ["A", "B", "C", "frontier (CEAF)"] {
            assert!(f[0].1.contains(name), "{name}");
        }
        assert!(f[1].1.contains("B vs A") && f[1].1.contains("C vs A"));
        assert_eq!(
            f[1].1.matches("<circle").count(),
            2 * 2 + 2,
            "two draws, two clouds, two legend marks"
        );
    }
}
