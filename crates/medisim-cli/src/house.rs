//! The flags every generic command (`sweep`, `run --model`) shares: which model, and the files
//! its base setting is read from.

use anyhow::{bail, Result};
use medisim_experiments::house::{Inputs, Text};
use std::path::PathBuf;

/// Which model, and what its base setting is read from: the flags every generic command
/// (`sweep`, `run --model`) shares.
#[derive(clap::Args, Clone)]
pub struct ModelArgs {
    /// The model: medisim, panel, ct-scanner, imaging, chronic-care or contract.
    #[arg(long, default_value = "medisim", value_name = "NAME")]
    pub model: String,
    /// The model's parameters as TOML (not Medi-Sim's, whose scenario is --scenario): a panel
    /// configuration, a game's or a contract's parameters. Every key defaults.
    #[arg(long, value_name = "FILE")]
    pub params: Option<PathBuf>,
    /// panel: a Markov disease model read from TOML (default: the built-in retinopathy model).
    #[arg(long, value_name = "FILE")]
    pub disease: Option<PathBuf>,
}

impl ModelArgs {
    /// The inputs for the generic path; Medi-Sim's own flags have built `medisim`. Flags of
    /// Medi-Sim given to another model are refused by name.
    pub fn inputs(
        &self,
        medisim: medisim_experiments::Options,
        seeds: Option<&str>,
        medisim_only: &[(&str, bool)],
    ) -> Result<Inputs> {
        if self.model != "medisim" {
            for (flag, given) in medisim_only {
                if *given {
                    bail!(
                        "{flag} belongs to Medi-Sim; `--model {}` takes --params",
                        self.model
                    );
                }
            }
        }
        let read = |p: &Option<PathBuf>, what: &'static str| -> Result<Option<Text>> {
            p.as_ref()
                .map(|p| {
                    Ok(Text {
                        text: medisim_core::input::read_settings(p, what)?,
                        origin: p.display().to_string(),
                    })
                })
                .transpose()
        };
        Ok(Inputs {
            medisim,
            params: read(&self.params, "model parameters")?,
            disease: read(&self.disease, "a disease model")?,
            seeds: seeds
                .map(medisim_core::spec::parse_seeds)
                .transpose()
                .map_err(anyhow::Error::msg)?,
            sets: Vec::new(),
            program: None,
        })
    }
}
